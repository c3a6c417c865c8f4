// `touchdown init`, then `touchdown up`, on projects shaped like real ones (test/support/layouts.ts), as a new user
// runs them: each must serve its page over HTTP through the local entry point, health-checked the way the load
// balancer checks on AWS. A project whose health check the load balancer would refuse fails `up`, saying why.
// One local AWS for the file; one `up` per layout. Checked with HTTP, psql and /proc, not Touchdown's own code.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../src/local/local-aws.js';
import { type Layout, type LayoutName, layoutNames, makeLayout } from './support/layouts.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';
import { processesOf, psql, stateOf, touchdown, userEnv, venvPython } from './support/local-stack.js';
import { repoRoot } from './support/paths.js';
import { ensureServices } from './support/services.js';

const run = promisify(execFile);
let aws: LocalAws;
let env: NodeJS.ProcessEnv;
/** Projects started here, with their stack: stopped and emptied at the end whatever failed. */
const started: { root: string; stack: string; args: string[] }[] = [];

/** init --yes, then the app renamed so that its database, Redis database and buckets are this run's own. */
async function initialised(layout: Layout, extra = ''): Promise<{ app: string; manifest: string }> {
  const r = await touchdown(['init', '--yes'], layout.root, env, 120_000);
  assert.equal(r.code, 0, `init failed:\n${r.stdout}\n${r.stderr}`);
  const app = `${layout.root
    .split('/')
    .at(-1)!
    .replace(/[^a-z]/g, '')}${process.pid % 100000}`;
  const path = join(layout.root, 'touchdown.yml');
  const manifest = (await readFile(path, 'utf8')).replace(/^app: .*$/m, `app: ${app}`) + extra;
  await writeFile(path, manifest);
  return { app, manifest };
}

/** The health check the load balancer makes, straight to one web process: target IP as Host, no redirect. */
function albCheck(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: { host: `10.0.7.21:${port}`, 'user-agent': 'ELB-HealthChecker/2.0' },
        agent: false,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    )
      .on('error', reject)
      .end();
  });
}

describe('touchdown init, then up, on projects shaped like real ones', () => {
  before(async () => {
    await ensureServices('postgres', 'redis');
    aws = await startLocalAws();
    env = userEnv({ TOUCHDOWN_LOCAL_AWS: aws.endpoint });
  });

  after(async () => {
    for (const s of started) await touchdown(['down', '--volumes', ...s.args], s.root, env, 120_000);
    for (const s of started) for (const pid of await processesOf(s.stack)) process.kill(pid, 'SIGKILL');
    await aws?.stop();
  });

  const extras: Partial<Record<LayoutName, string>> = {
    // A release command of the project's own after migrate: a fixture, checked in PostgreSQL below.
    // Run under a stage of its own, declared as a new stage must be.
    apiOnly: '\nrelease:\n  commands: ["loaddata fixtures/groups.json"]\nstages:\n  staging: {}\n',
  };

  for (const name of layoutNames) {
    it(`${name}: init, then up serves it, healthy behind the load balancer's check`, {
      timeout: 300_000,
    }, async () => {
      const layout = await makeLayout(name);
      if (name === 'apiOnly') {
        await mkdir(join(layout.root, 'fixtures'));
        await writeFile(
          join(layout.root, 'fixtures', 'groups.json'),
          '[{"model": "auth.group", "pk": 1, "fields": {"name": "editors"}}]\n',
        );
        // Its own Dockerfile serves on port 80 (as django-cms's quickstart): init keeps it and sets web.command.
        await writeFile(
          join(layout.root, 'Dockerfile'),
          'FROM python:3.13-slim\nCOPY . /app\nWORKDIR /app\nRUN pip install -r requirements.txt\nCMD gunicorn api.wsgi --bind 0.0.0.0:80\n',
        );
      }
      const { app } = await initialised(layout, extras[name] ?? '');
      // The API runs under a stage: every hint up prints must carry it.
      const stageArgs = name === 'apiOnly' ? ['--stage', 'staging'] : [];
      const stack = `${app}-${stageArgs.length > 0 ? 'staging-local' : 'local'}`;
      started.push({ root: layout.root, stack, args: stageArgs });
      const port = await freePort();
      const r = await touchdown(
        ['up', '--detach', '--port', String(port), '--python', venvPython, ...stageArgs],
        layout.root,
        env,
      );
      assert.equal(r.code, 0, `up failed:\n${r.stderr}`);
      assert.equal(r.stdout.trim(), `http://localhost:${port}`);

      const res = await fetch(`http://localhost:${port}${layout.page.path}`);
      const body = await res.text();
      assert.equal(res.status, 200, body.slice(0, 500));
      assert.ok(body.includes(layout.page.contains), `${layout.page.path} shows "${layout.page.contains}"`);

      // Each web process passes the check as the ALB makes it (whatever the project's ALLOWED_HOSTS and URLconf).
      const state = await stateOf(layout.root, stack);
      const manifest = await readFile(join(layout.root, 'touchdown.yml'), 'utf8');
      const health = /healthCheck: (\S+)/.exec(manifest)?.[1] ?? '/';
      for (const [process, p] of Object.entries(state.processes).filter(([n]) => n.startsWith('web-'))) {
        const status = await albCheck(p.port!, health);
        assert.ok(
          status >= 200 && status < 400,
          `${process} answers the ALB's check on ${health}: ${status}`,
        );
      }

      if (name === 'apiOnly') {
        assert.match(
          manifest,
          /^ {2}command: 'sh -c "exec gunicorn api\.wsgi:application --bind 0\.0\.0\.0:\$\{PORT:-8000\}/m,
        );
        for (const [, p] of Object.entries(state.processes).filter(([n]) => n.startsWith('web-'))) {
          const cmdline = (await readFile(`/proc/${p.pid}/cmdline`, 'utf8')).split('\0');
          assert.ok(
            cmdline.includes(`0.0.0.0:${p.port}`),
            `web.command serves on up's port: ${cmdline.join(' ')}`,
          );
        }
        assert.match(r.stderr, /touchdown logs --local -f --stage staging/);
        assert.match(r.stderr, /touchdown down --stage staging/);
        const database = stack.replaceAll('-', '_');
        assert.equal(await psql('SELECT name FROM auth_group WHERE id = 1', database), 'editors');
        // manage --local runs with the stack's own settings and database: the migrations up applied are there.
        const m = await touchdown(
          ['manage', '--local', '--stage', 'staging', 'showmigrations', 'auth'],
          layout.root,
          env,
        );
        assert.equal(m.code, 0, m.stderr);
        assert.match(m.stdout, /\[X\] 0001_initial/);
      }
      if (name === 'uvPyproject') {
        // Its settings require SECRET_KEY: up gave it the generated key; `manage shell -c` reaches manage.py whole.
        const m = await touchdown(
          [
            'manage',
            '--local',
            'shell',
            '-c',
            'import os; from django.conf import settings; print(len(settings.SECRET_KEY) > 20, settings.SECRET_KEY == os.environ["SECRET_KEY"] == os.environ["DJANGO_SECRET_KEY"])',
          ],
          layout.root,
          env,
        );
        assert.equal(m.code, 0, m.stderr);
        assert.equal(m.stdout.trim().split('\n').at(-1), 'True True');
      }
      const down = await touchdown(['down', '--volumes', ...stageArgs], layout.root, env, 120_000);
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(await processesOf(stack), [], 'nothing is left running');
    });
  }

  it("an ASGI-only project: up serves it with uvicorn workers, healthy behind the load balancer's check", {
    timeout: 300_000,
  }, async () => {
    const layout = await makeLayout('asgiOnly');
    const { app } = await initialised(layout);
    const stack = `${app}-local`;
    started.push({ root: layout.root, stack, args: [] });
    // The test's virtualenv, with uvicorn-worker from the package index beside it (init added it to requirements).
    const venv = await mkdtemp(join(tmpdir(), 'td-asgi-venv-'));
    await run(venvPython, ['-m', 'venv', '--without-pip', venv]);
    const { stdout: site } = await run(venvPython, [
      '-c',
      'import sysconfig; print(sysconfig.get_paths()["purelib"])',
    ]);
    const { stdout: own } = await run(join(venv, 'bin', 'python'), [
      '-c',
      'import sysconfig; print(sysconfig.get_paths()["purelib"])',
    ]);
    await writeFile(join(own.trim(), 'touchdown-test.pth'), `${site.trim()}\n`);
    await run(
      join(repoRoot, '.venv', 'bin', 'uv'),
      ['pip', 'install', '--quiet', '--python', join(venv, 'bin', 'python'), 'uvicorn-worker'],
      {
        timeout: 240_000,
      },
    );
    const port = await freePort();
    const r = await touchdown(
      ['up', '--detach', '--port', String(port), '--python', join(venv, 'bin', 'python')],
      layout.root,
      env,
    );
    assert.equal(r.code, 0, `up failed:\n${r.stderr}`);
    const res = await fetch(`http://localhost:${port}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'Chat served by ASGIRequest');
    const state = await stateOf(layout.root, stack);
    for (const [name, p] of Object.entries(state.processes).filter(([n]) => n.startsWith('web-'))) {
      assert.equal(await albCheck(p.port!, '/'), 200, `${name} answers the ALB's check`);
    }
    const down = await touchdown(['down', '--volumes'], layout.root, env, 120_000);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await processesOf(stack), [], 'nothing is left running');
  });

  it('fails up, detached or not, when the load balancer would refuse the health check, and says why', {
    timeout: 300_000,
  }, async () => {
    const layout = await makeLayout('apiOnly');
    const { app } = await initialised(layout);
    const stack = `${app}-local`;
    started.push({ root: layout.root, stack, args: [] });
    // Settings that redefine what Touchdown's line set, after it: the health check meets ALLOWED_HOSTS again.
    await appendFile(
      join(layout.root, 'api', 'settings.py'),
      '\nALLOWED_HOSTS = ["api.example.com"]\nMIDDLEWARE = [m for m in MIDDLEWARE if "touchdown" not in m]\n',
    );
    const port = await freePort();
    for (const detach of [true, false]) {
      const args = ['up', '--port', String(port), '--python', venvPython, ...(detach ? ['--detach'] : [])];
      const r = await touchdown(args, layout.root, env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /web-\d answered the load balancer's health check \(GET \/[^,]*, Host: 10\.0\.100\.10:\d+\) with HTTP 400: on AWS every target would be unhealthy .*keep `from \.touchdown_settings import \*` the last line of api\.settings/,
      );
      assert.deepEqual(
        await processesOf(stack),
        [],
        `nothing is left running (${detach ? 'detached' : 'foreground'})`,
      );
      assert.equal((await fetch(`http://localhost:${port}/`).catch(() => undefined))?.status, undefined);
    }

    // gunicorn crash-looping on a WSGI module that does not exist: up --detach fails fast with its last lines.
    const manifest = join(layout.root, 'touchdown.yml');
    await writeFile(
      manifest,
      (await readFile(manifest, 'utf8')).replace(/wsgi: .*/, 'wsgi: api.nowhere:application'),
    );
    const r = await touchdown(
      ['up', '--detach', '--port', String(port), '--python', venvPython],
      layout.root,
      env,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /error: web-\d never answered the health check on \/\S* \(.*it exited 3 time\(s\), last exited with code \d+\)/,
    );
    assert.match(r.stderr, /No module named 'api\.nowhere'/, "gunicorn's own words are shown");
    assert.doesNotMatch(r.stdout, /http:\/\/localhost/, 'no URL is printed');
    assert.deepEqual(await processesOf(stack), []);
  });

  it('names the packages the settings contract needs, and the command that installs them, before migrate', {
    timeout: 120_000,
  }, async () => {
    const layout = await makeLayout('apiOnly');
    await initialised(layout);
    // A virtualenv the project's requirements were never installed into.
    const venv = await mkdtemp(join(tmpdir(), 'td-bare-venv-'));
    await run(venvPython, ['-m', 'venv', '--without-pip', venv]);
    const r = await touchdown(['up', '--python', join(venv, 'bin', 'python')], layout.root, env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /lacks Django \(the app\), gunicorn \(the web processes\), psycopg\[binary\] \(the PostgreSQL database\), django-storages\[s3\] \(files in the S3 buckets\), boto3 \(files in the S3 buckets\): install them with `.*python -m pip install Django gunicorn 'psycopg\[binary\]' 'django-storages\[s3\]' boto3` and add them to the project's requirements/,
    );
    assert.doesNotMatch(r.stderr, /==> migrate/, 'nothing ran');
  });
});
