// `touchdown bench`: a short load test of examples/xkcd run by `touchdown up` (real gunicorn, PostgreSQL),
// counted on both sides: autocannon's answers and the comic's view counter in PostgreSQL. A foreign host is
// refused before any request leaves. The CPU read is checked against CloudWatch on the local AWS.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serviceCpu } from '../src/django/bench.js';
import { freePort } from '../src/local/local-aws.js';
import { useLocalAws } from './support/harness.js';
import { copyOfProject, processesOf, psql, touchdown, venvPython } from './support/local-stack.js';
import { ensureServices } from './support/services.js';

const app = `xkbench${process.pid % 100000}`;
const stack = `${app}-local`;
const database = stack.replaceAll('-', '_');
let dir: string;
let port: number;

const views = async () =>
  Number(
    (await psql(`SELECT view_count FROM xkcd_app_xkcdcomicviews WHERE comic_number = 1`, database)) || 0,
  );

describe('touchdown bench --local: examples/xkcd under touchdown up', () => {
  before(async () => {
    await ensureServices('postgres', 'redis');
    dir = await copyOfProject('xkcd', app);
    port = await freePort();
    const r = await touchdown(['up', '--detach', '--port', String(port), '--python', venvPython], dir);
    assert.equal(r.code, 0, `up --detach failed:\n${r.stderr}`);
  });

  after(async () => {
    if (dir) await touchdown(['down', '--volumes'], dir, undefined, 120_000);
    for (const pid of await processesOf(stack)) process.kill(pid, 'SIGKILL');
  });

  it('sends real requests and reports their rate, ordered percentiles and status codes', {
    timeout: 120_000,
  }, async (t) => {
    // The first view creates the counter's row; a few more warm up each web process (a cold one takes seconds).
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`http://localhost:${port}/?comic=1`)).status, 200);
    const before = await views();
    const r = await touchdown(
      ['bench', '--local', '--duration', '2s', '--connections', '2', '--json', '/?comic=1'],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.ok(result.requests > 0, 'some requests were answered');
    assert.equal(result.statusCodes['200'], result.requests, 'every answer was a 200');
    assert.equal(result.errors, 0);
    // Each answered request is one view more in PostgreSQL: the load reached the app, not a cache.
    // (those in flight when the run stopped reach the app too, unanswered).
    const counted = (await views()) - before;
    assert.ok(counted >= result.requests, `${counted} views, ${JSON.stringify(result)}`);
    assert.ok(result.sent >= result.requests);
    const l = result.latency;
    for (const p of [l.p50, l.p90, l.p99, l.max]) assert.equal(typeof p, 'number');
    assert.ok(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
    assert.ok(l.max > 0, 'a Django page takes some time');
    assert.ok(result.requestsPerSecond > 0);
    assert.equal(result.cpu, undefined, 'no CPU figures for a local run');
    const { p50, p90, p99, max } = result.latency;
    t.diagnostic(
      `xkcd under up, 2 connections: ${result.requestsPerSecond} req/s, p50 ${p50} p90 ${p90} p99 ${p99} max ${max} ms`,
    );

    const text = await touchdown(
      ['bench', '--local', '--duration', '1s', '--connections', '1', '/healthz'],
      dir,
    );
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /requests per second\s+\d/);
    assert.match(text.stdout, /p50 \d+\s+p90 \d+\s+p99 \d+\s+max \d+/);
    assert.match(text.stdout, /status codes\s+200: \d+/);
  });

  it('refuses a host that is not the stack own, sending nothing', { timeout: 60_000 }, async () => {
    let received = 0;
    const other = createServer((_req, res) => {
      received++;
      res.end('ok');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const foreign = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`;
      for (const target of [foreign, 'http://example.com/', `http://localhost:${port + 1}/`]) {
        const r = await touchdown(['bench', '--local', '--duration', '1s', target], dir);
        assert.equal(r.code, 1, `${target}: ${r.stdout}`);
        assert.match(r.stderr, /loads only the stack's own hosts .*localhost:\d+.*nothing was sent/);
      }
      assert.equal(received, 0, 'no request reached the foreign server');
      const bad = await touchdown(['bench', '--local', 'comic'], dir);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /give a path starting with \//);
    } finally {
      other.close();
    }
  });
});

describe('the web service CPU over a run', () => {
  const t = useLocalAws();

  it('reads AWS/ECS CPUUtilization of the service for the minutes of the run, and nothing when none is there', async () => {
    const start = new Date(Date.now() - 3 * 60_000);
    const finish = new Date(Date.now() - 60_000);
    const none = await serviceCpu(t.aws.clients(), 'app-main', 'app-web', start, finish);
    assert.deepEqual(none, { points: [] }, 'no data is no figure, not zero');
    const at = new Date(start.getTime() + 30_000);
    for (const [service, value] of [
      ['app-web', 40],
      ['app-web', 60],
      ['other-web', 99],
    ] as const) {
      await t.boto.call('cloudwatch', 'PutMetricData', {
        Namespace: 'AWS/ECS',
        MetricData: [
          {
            MetricName: 'CPUUtilization',
            Dimensions: [
              { Name: 'ClusterName', Value: 'app-main' },
              { Name: 'ServiceName', Value: service },
            ],
            Timestamp: at.toISOString(),
            Value: value,
            Unit: 'Percent',
          },
        ],
      });
    }
    const cpu = await serviceCpu(t.aws.clients(), 'app-main', 'app-web', start, finish);
    assert.equal(cpu.points.length, 1, JSON.stringify(cpu));
    assert.equal(cpu.average, 50, 'the other service is not counted');
    assert.equal(cpu.maximum, 60);
  });
});
