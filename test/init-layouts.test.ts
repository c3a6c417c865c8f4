// `touchdown init` on projects shaped like real ones (issue 10): it picks the settings production runs,
// finds WSGI through star imports, every requirement file, the Python, the Celery app and a health path
// that answers, and the result loads in Django itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseManifest } from '../src/config/load-manifest.js';
import { touchdownBin } from './support/cli.js';
import { layoutNames, makeLayout } from './support/layouts.js';
import { venvPython } from './support/paths.js';

const run = promisify(execFile);

const init = (cwd: string, ...args: string[]) =>
  run(process.execPath, [touchdownBin, 'init', ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });

/** Runs Python in the project with the manifest's settings and Touchdown's environment, as a task would. */
const django = (cwd: string, settings: string, code: string, secretKeyName = 'DJANGO_SECRET_KEY') =>
  run(venvPython, ['-c', code], {
    cwd,
    env: {
      ...process.env,
      // As ECS injects it: the generated key under Touchdown's name and the project's own.
      [secretKeyName]: 'from-touchdown',
      DJANGO_SETTINGS_MODULE: settings,
      DJANGO_SECRET_KEY: 'from-touchdown',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      ALLOWED_HOSTS: 'testserver',
      DJANGO_DEBUG: 'false',
    },
  });

describe('touchdown init on real project layouts', () => {
  for (const name of layoutNames) {
    it(name, async () => {
      const layout = await makeLayout(name);
      const { root, expect } = layout;
      const { stdout } = await init(root, '--yes');
      const { manifest } = parseManifest(
        await readFile(join(root, 'touchdown.yml'), 'utf8'),
        'touchdown.yml',
      );

      // What it found, and why, in the summary table.
      assert.equal(manifest.django.settings, expect.settings, stdout);
      assert.match(stdout, new RegExp(`settings +${expect.settings.replaceAll('.', '\\.')} +\\(.+\\)`));
      assert.equal(manifest.django.wsgi, expect.wsgi);
      assert.equal(manifest.django.python, expect.python);
      assert.equal(manifest.web.healthCheck, expect.healthCheck);
      assert.deepEqual(
        Object.values(manifest.workers).map((w) => w.command),
        expect.celeryApp ? [`celery -A ${expect.celeryApp} worker --loglevel=info`] : [],
      );
      assert.match(stdout, /Changed: .*touchdown\.yml/);
      // The project's own name for the secret key gets Touchdown's generated key (not a secret to set by hand).
      const text = await readFile(join(root, 'touchdown.yml'), 'utf8');
      if (expect.secretKeyEnv !== 'DJANGO_SECRET_KEY') {
        assert.equal(manifest.django.secretKeyName, expect.secretKeyEnv);
        assert.match(text, new RegExp(`#   ${expect.secretKeyEnv} \\(.+\\): the key Touchdown generates`));
        assert.deepEqual(manifest.secrets, []);
      } else assert.equal(manifest.django.secretKeyName, undefined);
      assert.match(await readFile(join(root, '.gitignore'), 'utf8'), /^\.touchdown\/$/m);

      // The image copies every file the install reads (the wagtail project keeps its own Dockerfile).
      const dockerfile = await readFile(join(root, 'Dockerfile'), 'utf8');
      if (name !== 'wagtail') {
        const copied = [...dockerfile.matchAll(/^COPY (?!\. \.)(.+) \S+$/gm)].flatMap((m) =>
          m[1]!.split(' '),
        );
        assert.deepEqual(copied.sort(), [...expect.declared].sort());
      }

      // The chosen settings and WSGI module load in Django with Touchdown's environment.
      const [module, attribute] = manifest.django.wsgi.split(':');
      const { stdout: loaded } = await django(
        root,
        manifest.django.settings,
        `import importlib; from django.conf import settings; app = getattr(importlib.import_module("${module}"), "${attribute}"); print(settings.SECRET_KEY, settings.DEBUG)`,
        manifest.django.secretKeyName,
      );
      assert.equal(loaded.trim().split('\n').at(-1), 'from-touchdown False');
      if (name !== 'wagtail') {
        // The health path answers 200 (no database behind these views); wagtail's `/` is a page in the database.
        const { stdout: status } = await django(
          root,
          manifest.django.settings,
          `import django; django.setup(); from django.test import Client; print(Client().get("${manifest.web.healthCheck}").status_code, Client().get("${layout.page.path}").status_code)`,
          manifest.django.secretKeyName,
        );
        assert.equal(status.trim().split('\n').at(-1), '200 200');
      }
    });
  }

  it('an ASGI-only project: served by uvicorn workers under gunicorn, on AWS and here', async () => {
    const { root } = await makeLayout('asgiOnly');
    const { stdout } = await init(root, '--yes');
    const { manifest } = parseManifest(await readFile(join(root, 'touchdown.yml'), 'utf8'), 'touchdown.yml');
    assert.equal(manifest.django.asgi, 'chat.asgi:application');
    assert.equal(manifest.django.wsgi, undefined);
    assert.match(
      stdout,
      /ASGI +chat\.asgi:application +\(ASGI_APPLICATION in the settings, and no WSGI application\)/,
    );
    const requirements = await readFile(join(root, 'requirements.txt'), 'utf8');
    for (const r of ['gunicorn', 'uvicorn-worker']) assert.match(requirements, new RegExp(`^${r}$`, 'm'));
    assert.match(
      await readFile(join(root, 'Dockerfile'), 'utf8'),
      /^CMD \["sh", "-c", "exec gunicorn chat\.asgi:application .*--worker-class uvicorn_worker\.UvicornWorker /m,
    );
  });

  it("keeps the project's own Dockerfile unless its ENTRYPOINT would swallow Touchdown's commands", async () => {
    const { root } = await makeLayout('apiOnly');
    // As djangogirls: the entrypoint migrates and starts runserver, whatever command the task gives it.
    const own = 'FROM python:3.13-slim\nCOPY rootfs /\nCOPY . .\nENTRYPOINT ["/entrypoint.sh"]\n';
    await mkdir(join(root, 'rootfs'));
    await writeFile(join(root, 'Dockerfile'), own);
    await writeFile(
      join(root, 'rootfs', 'entrypoint.sh'),
      '#!/bin/sh -e\n./manage.py migrate\n./manage.py runserver 0.0.0.0:8000\n',
    );
    const { stdout } = await init(root, '--yes');
    assert.match(
      stdout,
      /image +Dockerfile\.touchdown +\(the Dockerfile's ENTRYPOINT does not run the commands it is given/,
    );
    const { manifest } = parseManifest(await readFile(join(root, 'touchdown.yml'), 'utf8'), 'touchdown.yml');
    assert.equal(manifest.django.dockerfile, 'Dockerfile.touchdown');
    assert.equal(await readFile(join(root, 'Dockerfile'), 'utf8'), own, "the project's own is left as it is");
    assert.match(
      await readFile(join(root, 'Dockerfile.touchdown'), 'utf8'),
      /^CMD \["sh", "-c", "exec gunicorn api\.wsgi:application /m,
    );

    // An entrypoint that runs what it is given (`exec "$@"`) is kept, and so is the Dockerfile.
    const passing = await makeLayout('apiOnly');
    await mkdir(join(passing.root, 'docker'));
    await writeFile(
      join(passing.root, 'Dockerfile'),
      'FROM python:3.13-slim\nCOPY . .\nENTRYPOINT ["docker/entrypoint.sh"]\nCMD gunicorn api.wsgi -b :8000\n',
    );
    await writeFile(join(passing.root, 'docker', 'entrypoint.sh'), '#!/bin/sh\nset -e\nexec "$@"\n');
    await init(passing.root, '--yes');
    const kept = parseManifest(await readFile(join(passing.root, 'touchdown.yml'), 'utf8'), 'touchdown.yml');
    assert.equal(kept.manifest.django.dockerfile, 'Dockerfile');
    await assert.rejects(readFile(join(passing.root, 'Dockerfile.touchdown')));
  });

  it('a settings module at the top level (a demo site beside manage.py) imports the snippet without a package', async () => {
    const { root } = await makeLayout('apiOnly');
    // As oscar's sandbox: settings.py, urls.py and wsgi.py beside manage.py, DJANGO_SETTINGS_MODULE=settings.
    for (const file of ['settings.py', 'urls.py', 'views.py', 'wsgi.py'])
      await writeFile(
        join(root, file),
        (await readFile(join(root, 'api', file), 'utf8'))
          .replaceAll('api.settings', 'settings')
          .replaceAll('api.', ''),
      );
    await run('rm', ['-r', join(root, 'api')]);
    const manage = join(root, 'manage.py');
    await writeFile(manage, (await readFile(manage, 'utf8')).replace("'api.settings'", "'settings'"));
    await init(root, '--yes');
    const { manifest } = parseManifest(await readFile(join(root, 'touchdown.yml'), 'utf8'), 'touchdown.yml');
    assert.equal(manifest.django.settings, 'settings');
    assert.match(await readFile(join(root, 'settings.py'), 'utf8'), /^from touchdown_settings import \*/m);
    const { stdout } = await django(
      root,
      'settings',
      'from django.conf import settings; print(settings.SECRET_KEY, settings.DEBUG)',
    );
    assert.equal(stdout.trim().split('\n').at(-1), 'from-touchdown False');
  });

  it('says which settings it passed over: manage.py defaults to the development module', async () => {
    const { root } = await makeLayout('settingsPackage');
    const { stdout } = await init(root);
    assert.match(
      stdout,
      /shop\/settings\/production\.py is the production module; manage\.py defaults to shop\.settings\.dev/,
    );
    // Without --yes and a terminal it only says what it would change.
    assert.match(
      stdout,
      /Would change \(with --yes or --force\): .*shop\/settings\/production\.py.*requirements\.txt/,
    );
    assert.doesNotMatch(await readFile(join(root, 'requirements.txt'), 'utf8'), /django-storages/);
  });

  it('adds what the contract needs to the requirement file and says how to install it', async () => {
    const { root } = await makeLayout('celeryOutside');
    const { stdout } = await init(root, '--yes');
    const added = await readFile(join(root, 'requirements', 'production.txt'), 'utf8');
    for (const r of ['django-storages[s3]', 'boto3', 'celery[sqs]']) assert.ok(added.includes(r), r);
    // celery[redis] is already there: the SQS transport is what AWS needs; redis itself is not added again.
    assert.doesNotMatch(added, /^redis$/m);
    assert.match(
      stdout,
      /Install what was added into the app's virtualenv: pip install -r requirements\/production\.txt/,
    );
  });

  it('says when the project pins a Django older than the settings contract needs', async () => {
    const { root } = await makeLayout('apiOnly');
    const path = join(root, 'requirements.txt');
    await writeFile(path, (await readFile(path, 'utf8')).replace('Django>=5.2,<6.0', 'Django==3.2.25'));
    const { stdout } = await init(root);
    assert.match(
      stdout,
      /! requirements\.txt pins Django 3\.2: Touchdown's settings need Django 4\.2 or newer/,
    );
    const current = await makeLayout('apiOnly');
    assert.doesNotMatch((await init(current.root)).stdout, /pins Django/);
  });

  it('refuses a Python it cannot serve, naming the file, before writing anything', async () => {
    const { root } = await makeLayout('apiOnly');
    await run('sh', ['-c', 'echo 3.9.18 > .python-version'], { cwd: root });
    await assert.rejects(init(root, '--yes'), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(
        err.stderr,
        /\.python-version asks for Python 3\.9; Touchdown builds and runs Python 3\.10 to 3\.14/,
      );
      return true;
    });
    await assert.rejects(readFile(join(root, 'touchdown.yml')));
  });
});
