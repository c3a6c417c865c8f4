// `touchdown init` on a real `django-admin startproject` project, run as a user runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseManifest } from '../src/config/load-manifest.js';
import { touchdownBin } from './support/cli.js';
import { repoRoot } from './support/paths.js';

const run = promisify(execFile);
const djangoAdmin = join(repoRoot, '.venv', 'bin', 'django-admin');
const python = join(repoRoot, '.venv', 'bin', 'python');

async function startproject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'td-init-'));
  await run(djangoAdmin, ['startproject', 'mysite'], { cwd: dir });
  return join(dir, 'mysite');
}

const init = (cwd: string, ...args: string[]) =>
  run(process.execPath, [touchdownBin, 'init', ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });

describe('touchdown init', () => {
  it('sets up a fresh startproject: manifest, Dockerfile, settings snippet, requirements', async () => {
    const project = await startproject();
    const { stdout } = await init(project, '--yes');
    assert.match(stdout, /Django project mysite in \./);
    assert.match(stdout, /\+ touchdown\.yml/);
    assert.match(stdout, /\+ Dockerfile/);

    const loaded = parseManifest(await readFile(join(project, 'touchdown.yml'), 'utf8'), 'touchdown.yml');
    assert.equal(loaded.stackName, 'mysite-production');
    assert.equal(loaded.manifest.django.settings, 'mysite.settings');
    assert.equal(loaded.manifest.django.wsgi, 'mysite.wsgi:application');
    assert.ok(loaded.manifest.database, 'a production database is part of the stack');

    const dockerfile = await readFile(join(project, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /USER app/);
    assert.match(dockerfile, /gunicorn mysite\.wsgi:application/);
    const requirements = await readFile(join(project, 'requirements.txt'), 'utf8');
    for (const r of ['Django', 'gunicorn', 'psycopg[binary]', 'django-storages[s3]'])
      assert.ok(requirements.includes(r), r);
    const settings = await readFile(join(project, 'mysite', 'settings.py'), 'utf8');
    assert.match(settings, /from \.touchdown_settings import \*/);

    // The snippet reads the contract from the environment; Django itself accepts the result.
    const env = {
      ...process.env,
      DJANGO_SECRET_KEY: 'from-the-environment',
      ALLOWED_HOSTS: 'example.com',
      DJANGO_DEBUG: 'false',
    };
    const { stdout: shown } = await run(
      python,
      [
        'manage.py',
        'shell',
        '-c',
        'from django.conf import settings as s; print(s.SECRET_KEY, s.ALLOWED_HOSTS, s.DEBUG)',
      ],
      { cwd: project, env },
    );
    assert.equal(shown.trim().split('\n').at(-1), "from-the-environment ['example.com'] False");
  });

  it("builds django-compressor's offline manifest in each release when the settings turn COMPRESS_OFFLINE on", async () => {
    const project = await startproject();
    await writeFile(join(project, 'requirements.txt'), 'Django>=5.0\ndjango-compressor==4.5.1\n');
    const settings = join(project, 'mysite', 'settings.py');
    const original = await readFile(settings, 'utf8');
    const commandsFor = async (line: string) => {
      await writeFile(settings, `${original}\n${line}\n`);
      await init(project, '--yes', '--force');
      const yml = await readFile(join(project, 'touchdown.yml'), 'utf8');
      return { yml, commands: parseManifest(yml, 'touchdown.yml').manifest.release.commands };
    };
    const on = await commandsFor('COMPRESS_OFFLINE = True  # healthchecks writes it so');
    assert.deepEqual(on.commands, ['compress']);
    assert.match(on.yml, /COMPRESS_OFFLINE: each release builds its manifest/);
    // An expression: compress --force builds the manifest whatever it gives (plain compress refuses when False).
    assert.deepEqual((await commandsFor('COMPRESS_OFFLINE = not DEBUG')).commands, ['compress --force']);
    assert.deepEqual((await commandsFor('COMPRESS_OFFLINE = False')).commands, []);
  });

  it('never overwrites a file without being asked', async () => {
    const project = await startproject();
    await writeFile(join(project, 'Dockerfile'), 'FROM python:3.12\n# mine\n');
    await writeFile(join(project, 'touchdown.yml'), 'app: mine\n');
    const { stdout } = await init(project);
    assert.match(stdout, /! touchdown\.yml exists; left as it is \(pass --force to replace it\)/);
    assert.equal(await readFile(join(project, 'Dockerfile'), 'utf8'), 'FROM python:3.12\n# mine\n');
    assert.equal(await readFile(join(project, 'touchdown.yml'), 'utf8'), 'app: mine\n');
    // Without a terminal and without --yes it only says what to add to settings.py.
    assert.doesNotMatch(await readFile(join(project, 'mysite', 'settings.py'), 'utf8'), /touchdown_settings/);
    assert.match(stdout, /mysite\/settings\.py should end with:/);
  });

  it('says clearly when it is not run in a Django project', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'td-init-'));
    await assert.rejects(init(dir), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(
        err.stderr,
        /no manage\.py in .* or the folders below it: run touchdown init in your Django project/,
      );
      return true;
    });
  });
});
