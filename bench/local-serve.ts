// The xkcd app served by `touchdown up` (its default web settings, behind the local entry point) against the
// seed 004 Dockerfile's gunicorn (one sync worker, 5 s timeout), in the same run, with the same database,
// Redis and local AWS: the baseline is started with the exact environment of one of Touchdown's web processes.
//
//   node --import tsx bench/local-serve.ts [--seconds=15] [--connections=16]
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { repoRoot } from '../test/support/paths.js';
import { arg, writeResults } from './results.js';

const seconds = Number(arg('seconds') ?? 15);
const connections = Number(arg('connections') ?? 16);
const touchdownBin = join(repoRoot, 'bin', 'touchdown.js');
const app = `bench${process.pid}`;

interface Measured {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function measure(url: string): Promise<Measured> {
  await autocannon({ url, connections, duration: 3 }); // warm up: imports, connections, caches
  const r = await autocannon({ url, connections, duration: seconds });
  return {
    requests: r.requests.total,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

function touchdown(args: string[], cwd: string): Promise<number> {
  const child = spawn(process.execPath, [touchdownBin, ...args], {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve) => child.once('close', (code) => resolve(code ?? 1)));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function answering(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

/** The environment Touchdown gave a web process, read from /proc as any observer could. */
async function environmentOf(pid: number): Promise<Record<string, string>> {
  const raw = await readFile(`/proc/${pid}/environ`, 'latin1');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

const dir = await mkdtemp(join(tmpdir(), 'touchdown-bench-'));
await cp(join(repoRoot, 'examples', 'xkcd'), dir, {
  recursive: true,
  filter: (src) => !/(\.touchdown|__pycache__|\/media|\/staticfiles)(\/|$)/.test(src.slice(repoRoot.length)),
});
const manifest = join(dir, 'touchdown.yml');
await writeFile(manifest, (await readFile(manifest, 'utf8')).replace(/^app: .*$/m, `app: ${app}`));

const port = await freePort();
let baseline: ChildProcess | undefined;
try {
  if (
    (await touchdown(
      ['up', '--detach', '--port', String(port), '--python', join(repoRoot, '.venv', 'bin', 'python')],
      dir,
    )) !== 0
  )
    throw new Error('touchdown up failed');
  // The one stack this project runs locally (its name is the app's and the stage's).
  const [stack] = await readdir(join(dir, '.touchdown', 'local'));
  const state = JSON.parse(
    await readFile(join(dir, '.touchdown', 'local', stack!, 'state.json'), 'utf8'),
  ) as {
    processes: Record<string, { pid?: number }>;
  };
  const web = Object.entries(state.processes).filter(([name, p]) => name.startsWith('web-') && p.pid);
  const touchdownUrl = `http://localhost:${port}/`;
  await answering(touchdownUrl);

  // The seed 004 Dockerfile: CMD gunicorn --bind 0.0.0.0:8000 --workers 1 --timeout 5 xkcd_app.wsgi
  const env = await environmentOf(web[0]![1].pid!);
  const basePort = await freePort();
  baseline = spawn(
    join(repoRoot, '.venv', 'bin', 'gunicorn'),
    ['--bind', `127.0.0.1:${basePort}`, '--workers', '1', '--timeout', '5', 'xkcd_app.wsgi'],
    { cwd: dir, env: { ...env, TOUCHDOWN_LOCAL_STACK: `${stack}-baseline` }, stdio: 'ignore' },
  );
  const baselineUrl = `http://localhost:${basePort}/`;
  await answering(baselineUrl);

  // Alternating halves, so a noisy neighbour weighs on both sides alike.
  const td1 = await measure(touchdownUrl);
  const base1 = await measure(baselineUrl);
  const base2 = await measure(baselineUrl);
  const td2 = await measure(touchdownUrl);
  const mean = (a: Measured, b: Measured): Measured => ({
    requests: a.requests + b.requests,
    rps: (a.rps + b.rps) / 2,
    p50: (a.p50 + b.p50) / 2,
    p99: (a.p99 + b.p99) / 2,
    errors: a.errors + b.errors,
    non2xx: a.non2xx + b.non2xx,
  });
  const td = mean(td1, td2);
  const base = mean(base1, base2);

  const row = (name: string, m: Measured) =>
    `${name.padEnd(44)} ${m.rps.toFixed(1).padStart(8)} ${String(m.p50).padStart(8)} ${String(m.p99).padStart(8)} ${String(m.errors + m.non2xx).padStart(7)}`;
  console.log(`xkcd page, ${connections} connections, 2 × ${seconds} s each, alternating\n`);
  console.log(
    `${'server'.padEnd(44)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}`,
  );
  console.log(row(`touchdown up (${web.length} processes, entry point)`, td));
  console.log(row('seed 004 gunicorn (1 worker, --timeout 5)', base));
  const ratio = td.rps / base.rps;
  console.log(
    `\nthroughput ratio touchdown ÷ seed 004: ${ratio.toFixed(2)}×; p99 ratio: ${(td.p99 / base.p99).toFixed(2)}×`,
  );
  await writeResults('local-serve', {
    connections,
    seconds,
    webProcesses: web.length,
    touchdown: td,
    seed004: base,
    throughputRatio: ratio,
    p99Ratio: td.p99 / base.p99,
  });
} finally {
  baseline?.kill('SIGTERM');
  await touchdown(['down', '--volumes'], dir);
}
