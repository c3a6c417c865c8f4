// `touchdown up` with examples/xkcd on this machine's real services: PostgreSQL, Redis, and a local AWS that
// Touchdown starts itself (moto_server from the virtualenv), as it does for a user. What it made is checked
// with psql, boto3 and /proc, not with Touchdown's own code.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../src/local/local-aws.js';
import { Boto } from './support/boto.js';
import { collect, touchdownBin } from './support/cli.js';
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

const app = `xkup${process.pid % 100000}`;
const stack = `${app}-local`;
const database = stack.replaceAll('-', '_');
let dir: string;
let port: number;
let url: string;
const boto: Boto[] = [];

const views = (html: string) => Number(/id="views">(\d+)</.exec(html)?.[1]);
const countInDatabase = async (comic: number) =>
  Number(
    await psql(`SELECT view_count FROM xkcd_app_xkcdcomicviews WHERE comic_number = ${comic}`, database),
  );

async function page(path = '/?comic=1'): Promise<{ status: number; html: string }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, html: await res.text() };
}

async function upDetached(): Promise<Boto> {
  const r = await touchdown(['up', '--detach', '--port', String(port), '--python', venvPython], dir);
  assert.equal(r.code, 0, `up --detach failed:\n${r.stderr}`);
  assert.equal(r.stdout.trim(), url, 'up --detach prints the URL on stdout');
  const state = await stateOf(dir, stack);
  assert.equal(state.localAws?.startedByTouchdown, true, 'touchdown started its own local AWS');
  const b = new Boto(state.localAws!.endpoint);
  boto.push(b);
  return b;
}

describe('touchdown up: examples/xkcd on this machine', () => {
  before(async () => {
    await ensureServices('postgres', 'redis');
    dir = await copyOfProject('xkcd', app);
    port = await freePort();
    url = `http://localhost:${port}`;
  });

  after(async () => {
    await touchdown(['down', '--volumes'], dir, undefined, 120_000);
    for (const b of boto) b.close();
    // Nothing this file started may outlive it, whatever failed above.
    for (const pid of await processesOf(stack)) process.kill(pid, 'SIGKILL');
  });

  it('serves the comic through the entry point, counts views in PostgreSQL, loads files from the emulated S3', {
    timeout: 300_000,
  }, async () => {
    const s3 = await upDetached();
    const first = await page();
    assert.equal(first.status, 200, first.html.slice(0, 500));
    assert.match(first.html, /<h2 class="header" id="title">#1 \| /);
    assert.equal(await countInDatabase(1), views(first.html), 'the page shows the count in PostgreSQL');
    const second = await page();
    assert.equal(views(second.html), views(first.html) + 1, 'a reload counts one more view');
    assert.equal(await countInDatabase(1), views(second.html));

    // Static and media URLs point at the entry point, which serves the private buckets (CloudFront's role).
    const css = /<link rel="stylesheet" href="([^"]+)"/.exec(second.html)![1]!;
    const image = /<img id="comic" src="([^"]+)"/.exec(second.html)![1]!;
    assert.equal(css, `${url}/static/xkcd_app/style.css`);
    assert.equal(image, `${url}/media/comics/001.svg`);
    const state = await stateOf(dir, stack);
    for (const [link, bucket, type] of [
      [css, state.buckets!.static!, 'text/css'],
      [image, state.buckets!.media!, 'image/svg+xml'],
    ] as const) {
      const res = await fetch(link);
      assert.equal(res.status, 200, link);
      assert.match(res.headers.get('content-type') ?? '', new RegExp(type.replace('+', '\\+')));
      const body = await res.text();
      const stored = await s3.call('s3', 'GetObject', {
        Bucket: bucket,
        Key: new URL(link).pathname.slice(1),
      });
      assert.equal(body, stored.Body, `${link} is the object in ${bucket}`);
      const privacy = await s3.call('s3', 'GetPublicAccessBlock', { Bucket: bucket });
      assert.equal(privacy.PublicAccessBlockConfiguration.BlockPublicPolicy, true, `${bucket} stays private`);
    }
    assert.equal((await fetch(`${url}/media/comics/nothing-here.svg`)).status, 404);

    const secret = await s3.call('ssm', 'GetParameter', {
      Name: `/${app}/local/DJANGO_SECRET_KEY`,
      WithDecryption: true,
    });
    assert.equal(secret.Parameter.Type, 'SecureString');
    assert.ok(secret.Parameter.Value.length >= 32, 'a generated secret key');

    // Run again while it runs (a script, the demo): it says where, succeeds, and starts nothing more.
    const pids = (await processesOf(stack)).sort();
    const again = await touchdown(['up', '--detach', '--port', String(port), '--python', venvPython], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout.trim(), url);
    assert.match(again.stderr, /already runs at/);
    assert.deepEqual((await processesOf(stack)).sort(), pids);
  });

  it('keeps serving while a web process is killed under load, and starts it again', {
    timeout: 180_000,
  }, async () => {
    const before = await stateOf(dir, stack);
    const victim = before.processes['web-1']!;
    assert.equal(victim.state, 'healthy');
    const clients = 8;
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const load = Array.from({ length: clients }, async () => {
      while (!stop) {
        try {
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(15_000) });
          await res.text();
          if (res.status === 200) ok++;
          else failures.push(`HTTP ${res.status}`);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    await delay(1_500);
    const beforeKill = ok;
    process.kill(victim.pid!, 'SIGKILL');
    await delay(3_000);
    stop = true;
    await Promise.all(load);
    // Every request a client had in flight could have been on the killed process: at most `clients`.
    const entryLog = await readFile(join(dir, '.touchdown', 'local', stack, 'logs', 'entry.log'), 'utf8');
    const retried = entryLog.split('\n').filter((l) => l.includes('trying another process')).length;
    console.log(
      `# kill under load: ${ok} requests answered (${ok - beforeKill} after the kill), ${failures.length} failed, ${retried} retried on another process, ${clients} clients in flight`,
    );
    assert.ok(ok - beforeKill > 0, 'requests were answered after the kill');
    assert.ok(failures.length <= clients, `at most the requests in flight failed: ${failures.join('; ')}`);

    let after = await stateOf(dir, stack);
    for (let i = 0; i < 300 && after.processes['web-1']?.state !== 'healthy'; i++) {
      await delay(100);
      after = await stateOf(dir, stack);
    }
    const web1 = after.processes['web-1']!;
    assert.equal(web1.state, 'healthy', 'web-1 is healthy again');
    assert.equal(web1.restarts, 1);
    assert.notEqual(web1.pid, victim.pid, 'a new process');
    assert.equal(web1.port, victim.port, 'on the same port');
    assert.equal((await page('/healthz')).status, 200);
  });

  it('down stops every process; data is kept for the next up; down --volumes removes it', {
    timeout: 420_000,
  }, async () => {
    const state = await stateOf(dir, stack);
    const oldAws = boto.at(-1)!;
    const secret = (
      await oldAws.call('ssm', 'GetParameter', {
        Name: `/${app}/local/DJANGO_SECRET_KEY`,
        WithDecryption: true,
      })
    ).Parameter.Value;
    const seen = await countInDatabase(1);
    assert.ok((await processesOf(stack)).length >= 3, 'web processes, their workers and the local AWS run');

    const down = await touchdown(['down'], dir);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`${stack} stopped`));
    assert.deepEqual(await processesOf(stack), [], 'no process of the stack is left');
    for (const [name, p] of Object.entries(state.processes)) {
      assert.throws(() => process.kill(p.pid!, 0), `${name} (pid ${p.pid}) is gone`);
    }
    assert.equal((await fetch(url).catch(() => undefined))?.status, undefined, 'nothing answers at the URL');

    // A new local AWS (the old one stopped with the stack): the saved objects and secrets are put back.
    const s3 = await upDetached();
    const again = await stateOf(dir, stack);
    assert.notEqual(again.localAws!.endpoint, state.localAws!.endpoint, 'a new local AWS');
    const kept = await s3.call('ssm', 'GetParameter', {
      Name: `/${app}/local/DJANGO_SECRET_KEY`,
      WithDecryption: true,
    });
    assert.equal(kept.Parameter.Value, secret, 'the same secret key');
    const next = await page();
    assert.equal(views(next.html), seen + 1, 'the view count went on from where it was');
    assert.equal((await fetch(`${url}/media/comics/001.svg`)).status, 200, 'uploaded files are back');

    const gone = await touchdown(['down', '--volumes'], dir);
    assert.equal(gone.code, 0, gone.stderr);
    assert.deepEqual(await processesOf(stack), []);
    assert.equal(
      await psql(`SELECT count(*) FROM pg_database WHERE datname = '${database}'`),
      '0',
      'no database',
    );
    assert.equal(await psql(`SELECT count(*) FROM pg_roles WHERE rolname = '${database}'`), '0', 'no role');
    assert.match(gone.stdout, /removed Redis logical database \d+/);
    assert.match(gone.stdout, /removed saved data/);
  });

  it('stops everything on Ctrl-C when it runs in the foreground', { timeout: 240_000 }, async () => {
    const child = spawn(
      process.execPath,
      [touchdownBin, 'up', '--port', String(port), '--python', venvPython],
      { cwd: dir, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const done = collect(child);
    let seen = '';
    child.stderr!.on('data', (d) => (seen += d));
    for (let i = 0; i < 2400 && !seen.includes(`runs at ${url}`); i++) await delay(100);
    assert.match(seen, new RegExp(`${stack} runs at ${url}`), seen);
    assert.equal((await page('/healthz')).status, 200);
    assert.ok((await processesOf(stack)).length >= 3);
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /stopped\./);
    assert.deepEqual(await processesOf(stack), [], 'no process of the stack is left');
  });
});
