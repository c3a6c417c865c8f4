// What starting the touchdown command costs: `touchdown --help`, and `plan`, `status` and `outputs` of the xkcd
// example with nothing to change, each against `node -e 0` and against the same command of a baseline
// release (default: main; built from `git archive` in a temporary folder) in the same run. The plan's start-up
// cost is its wall time less the same plan made in a warm process. Runs the built command (bin/touchdown.js,
// from `npm run build`: the bundle, dist/cli.cjs and its chunks) against the local AWS; each command runs once
// uncounted first, so V8's code cache (src/cli/bundle-loader.ts) is written before the runs that count. Each
// run's CPU time (user + system, from /usr/bin/time where there is one) is measured beside its wall time: on a
// shared machine it is the steadier figure. Prints a table and writes bench/results/cli-start.json.
//   node --import tsx bench/cli-start.ts [--runs=20] [--baseline=<git revision>|none]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClients } from '../src/aws/clients.js';
import { stackZones } from '../src/aws/ec2/zones.js';
import { resourceTypes } from '../src/aws/registry.js';
import { loadManifest } from '../src/config/load-manifest.js';
import { Engine } from '../src/core/engine.js';
import { awsBlueprint, zoneNeeds } from '../src/django/blueprint/index.js';
import { touchdownBin } from '../test/support/cli.js';
import { startLocalAws } from '../test/support/local-aws.js';
import { repoRoot } from '../test/support/paths.js';
import { arg, median, percentile, writeResults } from './results.js';

const RUNS = Number(arg('runs') ?? 20);
const BASELINE = arg('baseline') ?? 'main';

/** The baseline's command, built from its own sources beside this checkout's node_modules. */
async function baselineBin(): Promise<{ bin: string; rev: string; dir: string } | undefined> {
  if (BASELINE === 'none') return undefined;
  const rev = execFileSync('git', ['rev-parse', '--short', BASELINE], { cwd: repoRoot }).toString().trim();
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-baseline-'));
  execFileSync('sh', ['-c', `git archive ${rev} | tar -x -C ${dir}`], { cwd: repoRoot });
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'ignore' });
  return { bin: join(dir, 'bin', 'touchdown.js'), rev, dir };
}

if (!existsSync(join(repoRoot, 'dist', 'cli-chunks.json'))) {
  console.error('bin/touchdown.js runs the build: run `npm run build` (or `make bench-cli-start`) first');
  process.exit(1);
}

/** Where the CPU time of a child process can be read (GNU time); without it only wall times are measured. */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpuFile = join(tmpdir(), `touchdown-cli-start-${process.pid}.time`);
/** CPU time (user + system, ms) of every run, keyed by the array of wall times it was measured with. */
const cpuOf = new WeakMap<number[], number[]>();

/** Wall time of one run of a command, in ms (its CPU time kept for `sample`); fails on an unexpected exit code. */
function timed(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; expect?: number; cpu?: number[] } = {},
) {
  return new Promise<number>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const [command, argv] = TIME
      ? [TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, ...args]]
      : [process.execPath, args];
    const child = spawn(command, argv, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('close', async (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (TIME && options.cpu) {
        const [user, sys] = (await readFile(cpuFile, 'utf8')).trim().split(/\s+/).slice(-2).map(Number);
        options.cpu.push(Math.round(((user ?? 0) + (sys ?? 0)) * 1000));
      }
      if (code === (options.expect ?? 0)) resolve(ms);
      else reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`));
    });
  });
}

async function sample(run: (cpu?: number[]) => Promise<number>, runs = RUNS): Promise<number[]> {
  await run(); // the first run fills the file system cache; not counted
  const out: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await run(cpu));
  cpuOf.set(out, cpu);
  return out;
}

const baseline = await baselineBin();
const local = await startLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
const rows: { command: string; samples: number[]; baselineSamples?: number[] }[] = [];
let inProcess: number[];
let resources = 0;
try {
  const cwd = await mkdtemp(join(tmpdir(), 'touchdown-cli-start-'));
  await copyFile(join(repoRoot, 'examples', 'xkcd', 'touchdown.yml'), join(cwd, 'touchdown.yml'));
  // A code cache of this run's own, filled by the uncounted first runs: the figures do not depend on earlier runs.
  const env = { ...local.env, TOUCHDOWN_CODE_CACHE: join(cwd, '.code-cache') };
  // The example deployed (its infrastructure, as before the first release), so that the plan changes nothing.
  await timed([touchdownBin, 'apply', '--yes'], { cwd, env });
  await timed([touchdownBin, 'plan', '--detailed-exitcode'], { cwd, env, expect: 0 });

  rows.push({ command: 'node -e 0', samples: await sample((cpu) => timed(['-e', '0'], { cpu })) });
  // What the plan's start-up was made of: every AWS service's client, as the plan looked for every type.
  const clients = Object.keys(
    JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')).dependencies,
  ).filter((d) => d.startsWith('@aws-sdk/client-'));
  const loadAll = `await Promise.all(${JSON.stringify(clients)}.map((c) => import(c)))`;
  rows.push({
    command: `loading the ${clients.length} AWS SDK clients`,
    samples: await sample((cpu) => timed(['--input-type=module', '-e', loadAll], { cpu })),
  });
  const commands: [string, string[], number][] = [
    ['touchdown --help', ['--help'], 0],
    ['touchdown plan (no changes)', ['plan', '--detailed-exitcode'], 0],
    ['touchdown status', ['status'], 0],
    ['touchdown outputs', ['outputs'], 0],
  ];
  for (const [command, args, expect] of commands) {
    // Interleaved, so that a change in the machine's load weighs on both alike.
    const samples: number[] = [];
    const baselineSamples: number[] = [];
    const cpu: number[] = [];
    const baselineCpu: number[] = [];
    cpuOf.set(samples, cpu);
    cpuOf.set(baselineSamples, baselineCpu);
    const once = async () => {
      samples.push(await timed([touchdownBin, ...args], { cwd, env, expect, cpu }));
      if (baseline)
        baselineSamples.push(await timed([baseline.bin, ...args], { cwd, env, expect, cpu: baselineCpu }));
    };
    await timed([touchdownBin, ...args], { cwd, env, expect }); // fills the file system cache; not counted
    if (baseline) await timed([baseline.bin, ...args], { cwd, env, expect });
    for (let i = 0; i < RUNS; i++) await once();
    rows.push({ command, samples, ...(baseline ? { baselineSamples } : {}) });
  }

  // The same plan in this (warm) process: what the command costs beyond it is its start-up.
  const loaded = await loadManifest(join(cwd, 'touchdown.yml'));
  const aws = new AwsClients({ region: local.region, endpoint: local.endpoint });
  const zones = await stackZones(aws, zoneNeeds(loaded.manifest));
  const stack = awsBlueprint(loaded, { region: local.region, account: await aws.account(), zones });
  resources = stack.resources.length;
  const plan = async () => {
    const started = performance.now();
    const engine = new Engine({ stack, registry: resourceTypes, aws: new AwsClients(aws.options) });
    const { plan } = await engine.plan();
    if (plan.summary.noop !== resources)
      throw new Error(`the plan changes something: ${JSON.stringify(plan.summary)}`);
    return performance.now() - started;
  };
  inProcess = await sample(plan);
} finally {
  await local.stop();
  if (baseline) await rm(baseline.dir, { recursive: true, force: true });
}

const node = median(rows[0]!.samples);
/** Median CPU time of the runs whose wall times are `samples`, when it was measured. */
const cpuMedian = (samples?: number[]) => {
  const cpu = samples && cpuOf.get(samples);
  return cpu?.length ? median(cpu) : undefined;
};
const nodeCpu = cpuMedian(rows[0]!.samples);
const ratio = (a?: number, b?: number) => (a !== undefined && b ? Number((a / b).toFixed(2)) : undefined);
const results = rows.map((r) => ({
  command: r.command,
  medianMs: Math.round(median(r.samples)),
  p90Ms: Math.round(percentile(r.samples, 0.9)),
  vsNode: Number((median(r.samples) / node).toFixed(2)),
  cpuMedianMs: cpuMedian(r.samples),
  cpuVsNode: ratio(cpuMedian(r.samples), nodeCpu),
  ...(r.baselineSamples
    ? {
        baselineMedianMs: Math.round(median(r.baselineSamples)),
        vsBaseline: Number((median(r.samples) / median(r.baselineSamples)).toFixed(2)),
        baselineCpuMedianMs: cpuMedian(r.baselineSamples),
        cpuVsBaseline: ratio(cpuMedian(r.samples), cpuMedian(r.baselineSamples)),
      }
    : {}),
}));
const planCli = median(rows.find((r) => r.command.startsWith('touchdown plan'))!.samples);
const startUp = {
  planInProcessMs: Math.round(median(inProcess)),
  planStartUpMs: Math.round(planCli - median(inProcess)),
  planStartUpVsNode: Number(((planCli - median(inProcess)) / node).toFixed(2)),
};

console.log(
  `Starting the touchdown command (${RUNS} runs each, after one not counted)` +
    (baseline ? `, against ${BASELINE} (${baseline.rev}) in the same run` : ''),
);
console.table(
  results.map((r) => ({
    command: r.command,
    'median (ms)': r.medianMs,
    'p90 (ms)': r.p90Ms,
    '÷ node -e 0': r.vsNode,
    'CPU (ms)': r.cpuMedianMs,
    'CPU ÷ node': r.cpuVsNode,
    ...(r.baselineMedianMs !== undefined
      ? {
          [`${BASELINE} (ms)`]: r.baselineMedianMs,
          [`÷ ${BASELINE}`]: r.vsBaseline,
          [`${BASELINE} CPU (ms)`]: r.baselineCpuMedianMs,
          [`CPU ÷ ${BASELINE}`]: r.cpuVsBaseline,
        }
      : {}),
  })),
);
console.log(
  `The same plan (${resources} resources, local AWS) in a warm process: ${startUp.planInProcessMs} ms; ` +
    `the command's start-up is the rest: ${startUp.planStartUpMs} ms (${startUp.planStartUpVsNode}× node -e 0)`,
);
await writeResults('cli-start', {
  runs: RUNS,
  baseline: baseline ? { revision: BASELINE, commit: baseline.rev } : null,
  resources,
  results,
  ...startUp,
});
