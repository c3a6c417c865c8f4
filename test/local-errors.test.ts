// `touchdown up` when something is wrong: a failing migration stops it with its output and starts nothing; a
// missing service or a taken port gives one message saying what to install or which flag to pass.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../src/local/local-aws.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';
import {
  copyOfProject,
  processesOf,
  psql,
  stateOf,
  touchdown,
  userEnv,
  venvPython,
} from './support/local-stack.js';
import { ensureServices } from './support/services.js';

const app = `xkerr${process.pid % 100000}`;
const stack = `${app}-local`;
let dir: string;
let aws: LocalAws;
let env: NodeJS.ProcessEnv;

/** A port where nothing listens (taken, then given back). */
const closedPort = freePort;
const noPostgres = async () => [
  '--database-url',
  `postgres://postgres@localhost:${await closedPort()}/postgres`,
];
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));

describe('touchdown up when something is wrong', () => {
  before(async () => {
    await ensureServices('postgres', 'redis');
    aws = await startLocalAws();
    env = userEnv({ TOUCHDOWN_LOCAL_AWS: aws.endpoint });
    dir = await copyOfProject('xkcd', app);
  });

  after(async () => {
    await touchdown(['down', '--volumes'], dir, env, 120_000);
    for (const pid of await processesOf(stack)) process.kill(pid, 'SIGKILL');
    await aws?.stop();
  });

  it('stops at a failing migrate with its output, and starts nothing', { timeout: 240_000 }, async () => {
    await writeFile(
      join(dir, 'xkcd_app', 'migrations', '0003_broken.py'),
      [
        'from django.db import migrations',
        '',
        '',
        'def fail(apps, schema_editor):',
        '    raise RuntimeError("this migration is broken on purpose")',
        '',
        '',
        'class Migration(migrations.Migration):',
        '    dependencies = [("xkcd_app", "0002_load_comics")]',
        '    operations = [migrations.RunPython(fail)]',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    for (const detach of [false, true]) {
      const args = ['up', '--port', String(port), '--python', venvPython, ...(detach ? ['--detach'] : [])];
      const r = await touchdown(args, dir, env);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /migrate exited with code 1; nothing was started/);
      assert.match(
        r.stderr,
        /RuntimeError: this migration is broken on purpose/,
        'the migration output is shown',
      );
      const state = await stateOf(dir, stack);
      assert.equal(state.status, 'failed');
      assert.deepEqual(
        Object.keys(state.processes).filter((n) => n.startsWith('web-')),
        [],
        'no web process was started',
      );
      assert.deepEqual(
        await processesOf(stack),
        [],
        `nothing is left running (${detach ? 'detached' : 'foreground'})`,
      );
      assert.equal((await fetch(`http://localhost:${port}/`).catch(() => undefined))?.status, undefined);
    }
    // The migrations before the broken one were applied: migrate really ran against the stack's database.
    assert.equal(await psql('SELECT count(*) FROM xkcd_app_comic', stack.replaceAll('-', '_')), '12');
  });

  it('names the missing PostgreSQL and what to do, in one message, before starting anything', {
    timeout: 60_000,
  }, async () => {
    const r = await touchdown(['up', '--python', venvPython, ...(await noPostgres())], dir, env);
    assert.equal(r.code, 1);
    const errors = errorLines(r.stderr);
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0]!,
      /^error: PostgreSQL at --database-url \(postgres:\/\/postgres@localhost:\d+\/postgres\): nothing is listening there\. install and start PostgreSQL .* or pass --database-url /,
    );
    assert.doesNotMatch(r.stderr, /sqlite/i, 'no fallback');
    assert.deepEqual(await processesOf(stack), []);
  });

  it('names every missing service at once: PostgreSQL and Redis', { timeout: 60_000 }, async () => {
    const r = await touchdown(
      [
        'up',
        '--python',
        venvPython,
        ...(await noPostgres()),
        '--redis-url',
        `redis://localhost:${await closedPort()}`,
      ],
      dir,
      env,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: 2 things xkerr\d+-local needs are missing:/);
    assert.match(r.stderr, /- PostgreSQL at --database-url .*nothing is listening there/);
    assert.match(
      r.stderr,
      /- no Redis at localhost:\d+ \(nothing is listening there\): install and start Redis .* or pass --redis-url/,
    );
  });

  it('says when the port is taken', { timeout: 60_000 }, async () => {
    const taken: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    );
    try {
      const r = await touchdown(['up', '--python', venvPython, '--port', String(port)], dir, env);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`error: port ${port} is in use .*: pass --port N or set local.port in touchdown.yml`),
      );
    } finally {
      taken.close();
    }
  });

  it('says how to get the local AWS when there is none', { timeout: 60_000 }, async () => {
    const r = await touchdown(
      ['up', '--python', venvPython, '--local-aws', `http://localhost:${await closedPort()}`],
      dir,
      env,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: no local AWS answers at http:\/\/localhost:\d+ \(--local-aws\): start it/);
  });
});
