// How close a deploy from nothing comes to the fastest possible one. The xkcd example's stack is applied on the
// local AWS behind the AWS model (test/support/aws-model: AWS's readiness times and per-call latency, sped up),
// and its wall time is divided by the lower bound: the longest path through the plan's dependency graph, each
// resource weighing what the model makes it wait plus its calls' latency. Baselines in the same run: one
// resource at a time, and wave by wave (every resource of a level waits for the whole previous level).
// Prints a table and writes bench/results/deploy-critical-path.json.
//   node --import tsx bench/deploy-critical-path.ts [--speedup=10] [--latency=100] [--only=engine,serial,waves]
//     [--rounds=1: runs of each strategy, the median shown]
//     [--poll-cap=ms: the waiter's longest pause, in AWS ms, instead of the product's]
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { AwsClients } from '../src/aws/clients.js';
import { resourceTypes } from '../src/aws/registry.js';
import { parseManifest } from '../src/config/load-manifest.js';
import { executePlan, operationsFor } from '../src/core/apply.js';
import { Engine } from '../src/core/engine.js';
import type { EngineEvent } from '../src/core/events.js';
import type { Plan } from '../src/core/plan.js';
import { DEFAULT_WAIT_TIMING } from '../src/core/wait.js';
import { awsBlueprint } from '../src/django/blueprint/index.js';
import { type ModelStats, scaledWaitTiming, startAwsModel } from '../test/support/aws-model/proxy.js';
import { LATENCY, TIMES } from '../test/support/aws-model/times.js';
import { startLocalAws } from '../test/support/local-aws.js';
import { repoRoot } from '../test/support/paths.js';
import { arg, writeResults } from './results.js';

const SPEEDUP = Number(arg('speedup') ?? process.env.TOUCHDOWN_MODEL_SPEEDUP ?? 10);
const LATENCY_MS = Number(arg('latency') ?? LATENCY.ms);
const STRATEGIES = (arg('only') ?? 'engine,serial,waves').split(',');
/** Runs of each strategy; the table shows the median run. */
const ROUNDS = Number(arg('rounds') ?? 1);
/** The waiter's longest pause between looks, in AWS ms; the product's own when not given. */
const POLL_CAP = arg('poll-cap') === undefined ? undefined : Number(arg('poll-cap'));
const CONCURRENCY = 10;
const REGION = 'us-east-1';

/**
 * What the model makes each kind of resource wait for after its create, in AWS seconds: the lower bound's
 * weights. A certificate's validation records must reach every name server before ACM sees them.
 */
const WAITS: Record<string, number> = {
  'db-instance': TIMES.rdsInstance.create,
  'replication-group': TIMES.elasticacheReplicationGroup.create,
  memcached: TIMES.elasticacheCacheCluster.create,
  distribution: TIMES.cloudfrontDistribution.create,
  'load-balancer': TIMES.loadBalancer.create,
  'nat-gateway': TIMES.natGateway.create,
  certificate: TIMES.route53Change.create + TIMES.acmValidation.create,
  'hosted-zone': TIMES.route53Change.create,
  'dns-record': TIMES.route53Change.create,
  'ecs-service': TIMES.ecsService.create,
};

/** AWS seconds a create takes at least: its wait, and one call's latency (two when it must look again). */
function weight(kind: string): number {
  const wait = WAITS[kind] ?? 0;
  return wait + (LATENCY_MS / 1000) * (wait > 0 ? 2 : 1);
}

/** The longest path through the operations, by weight: the lower bound, and the path itself. */
function criticalPath(plan: Plan) {
  const ops = operationsFor(plan);
  const byId = new Map(ops.map((o) => [o.id, o]));
  const finish = new Map<string, { at: number; via?: string }>();
  const visit = (id: string): number => {
    const known = finish.get(id);
    if (known) return known.at;
    const op = byId.get(id)!;
    let start = 0;
    let via: string | undefined;
    for (const d of op.deps) {
      const at = visit(d);
      if (at > start) [start, via] = [at, d];
    }
    const at = start + weight(op.change.kind);
    finish.set(id, { at, via });
    return at;
  };
  let end = ops[0]!.id;
  for (const o of ops) if (visit(o.id) > visit(end)) end = o.id;
  const path: string[] = [];
  for (let id: string | undefined = end; id; id = finish.get(id)!.via) path.unshift(id);
  // The plan's reads come first: at least one round of calls.
  return { seconds: visit(end) + LATENCY_MS / 1000, path, levels: levelsOf(ops) };
}

/** Each operation's level: 0 without dependencies, else one more than its deepest dependency. */
function levelsOf(ops: ReturnType<typeof operationsFor>): Map<string, number> {
  const byId = new Map(ops.map((o) => [o.id, o]));
  const level = new Map<string, number>();
  const visit = (id: string): number => {
    if (!level.has(id)) level.set(id, Math.max(-1, ...byId.get(id)!.deps.map(visit)) + 1);
    return level.get(id)!;
  };
  for (const o of ops) visit(o.id);
  return level;
}

/** The same plan, each resource also waiting for every resource of the level before its own. */
function inWaves(plan: Plan, levels: Map<string, number>): Plan {
  const atLevel = (n: number) =>
    plan.resources.filter((r) => levels.get(r.address) === n).map((r) => r.address);
  return {
    ...plan,
    resources: plan.resources.map((r) => ({
      ...r,
      dependsOn: [...new Set([...r.dependsOn, ...atLevel((levels.get(r.address) ?? 0) - 1)])],
    })),
  };
}

const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
const loaded = parseManifest(await readFile(path, 'utf8'), path);
const stack = () =>
  awsBlueprint(loaded, {
    region: REGION,
    account: '123456789012',
    zones: [`${REGION}a`, `${REGION}b`],
    image: `123456789012.dkr.ecr.${REGION}.amazonaws.com/xkcd:1`,
  });

// moto's own waits off: the model decides when certificates are issued and services are steady.
const local = await startLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
const modelled = () => startAwsModel({ upstream: local.endpoint, speedup: SPEEDUP, latencyMs: LATENCY_MS });
const awsSeconds = (realMs: number) => (realMs * SPEEDUP) / 1000;

interface Run {
  strategy: string;
  wallMs: number;
  awsSeconds: number;
  apiCalls: number;
  /** moto's own time per call (real ms): where it exceeds the modelled latency, the emulator sets the pace. */
  motoMs: ModelStats['upstreamMs'];
  /** Per operation: when it started and finished (AWS seconds from the start), and how many times it looked. */
  timeline: Map<string, { start: number; done: number; polls: number }>;
}

/**
 * An empty account, its plan read once untimed: moto builds each service's backend on first use after a reset,
 * and the first plan in this process loads the SDK's modules (bench/cli-start.ts measures that).
 */
async function emptyAccount(): Promise<Plan> {
  await local.reset();
  const engine = new Engine({ stack: stack(), registry: resourceTypes, aws: local.clients() });
  return (await engine.plan()).plan;
}

async function run(strategy: string): Promise<Run> {
  await emptyAccount();
  const model = await modelled();
  const aws = new AwsClients({ region: REGION, endpoint: model.endpoint });
  const timeline: Run['timeline'] = new Map();
  let t0 = 0;
  const events = (e: EngineEvent) => {
    const at = awsSeconds(Date.now() - t0);
    if (e.type === 'op.start') timeline.set(e.address, { start: at, done: Number.NaN, polls: 0 });
    if (e.type === 'op.progress' && e.message.startsWith('waiting')) timeline.get(e.address)!.polls++;
    if (e.type === 'op.done') timeline.get(e.address)!.done = at;
  };
  const timing = scaledWaitTiming(SPEEDUP);
  if (POLL_CAP !== undefined) timing.maxDelayMs = POLL_CAP / SPEEDUP;
  const engine = new Engine({
    stack: stack(),
    registry: resourceTypes,
    aws,
    events,
    timing,
    concurrency: strategy === 'serial' ? 1 : CONCURRENCY,
  });
  t0 = Date.now();
  let report: Awaited<ReturnType<typeof executePlan>> | undefined;
  if (strategy === 'waves') {
    const { plan, world } = await engine.plan();
    const { levels } = criticalPath(plan);
    const ctx = { stack: engine.stack.name, region: REGION, aws, account: () => aws.account() };
    report = await executePlan(inWaves(plan, levels), world, {
      stack: engine.stack,
      ctx,
      concurrency: CONCURRENCY,
      events,
      signal: new AbortController().signal,
      timing,
    });
  } else {
    report = (await engine.apply()).report;
  }
  const wallMs = Date.now() - t0;
  const motoMs = model.stats().upstreamMs;
  await model.stop();
  if (!report || report.failed.length > 0 || report.skipped.length > 0)
    throw new Error(`${strategy}: the deploy failed: ${report?.failed[0]?.error ?? 'nothing was applied'}`);
  return { strategy, wallMs, awsSeconds: awsSeconds(wallMs), apiCalls: aws.calls.length, motoMs, timeline };
}

/** Where the measured run lost time: its own critical chain, each step's time against its weight. */
function chainOf(r: Run, plan: Plan) {
  const deps = new Map(operationsFor(plan).map((o) => [o.id, o.deps]));
  const kind = new Map(plan.resources.map((c) => [c.address, c.kind]));
  let last = [...r.timeline].reduce((a, b) => (b[1].done > a[1].done ? b : a))[0];
  const chain = [];
  for (;;) {
    const t = r.timeline.get(last)!;
    const before = (deps.get(last) ?? []).map((d) => [d, r.timeline.get(d)!.done] as const);
    const [dep, ready] = before.reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0] as readonly [string, number]);
    chain.unshift({
      address: last,
      modelled: Number(weight(kind.get(last)!).toFixed(1)),
      waitedToStart: Number((t.start - ready).toFixed(1)),
      took: Number((t.done - t.start).toFixed(1)),
      polls: t.polls,
      excess: Number((t.done - ready - weight(kind.get(last)!)).toFixed(1)),
    });
    if (!dep) break;
    last = dep;
  }
  return chain;
}

const rounds = new Map<string, Run[]>(STRATEGIES.map((s) => [s, []]));
let plan: Plan;
try {
  plan = await emptyAccount();
  for (let round = 0; round < ROUNDS; round++) {
    for (const strategy of STRATEGIES) {
      const r = await run(strategy);
      rounds.get(strategy)!.push(r);
      console.log(`${strategy}: ${(r.wallMs / 1000).toFixed(1)} s`);
    }
  }
} finally {
  await local.stop();
}
/** The median run of each strategy. */
const runs = [...rounds.values()].map(
  (rs) => [...rs].sort((a, b) => a.wallMs - b.wallMs)[(rs.length - 1) >> 1]!,
);

const bound = criticalPath(plan);
const name = {
  engine: `engine (concurrency ${CONCURRENCY})`,
  serial: 'one at a time',
  waves: 'wave by wave',
} as Record<string, string>;
const results = runs.map((r) => ({
  strategy: r.strategy,
  wallSeconds: Number((r.wallMs / 1000).toFixed(2)),
  awsSeconds: Math.round(r.awsSeconds),
  ratio: Number((r.awsSeconds / bound.seconds).toFixed(3)),
  apiCalls: r.apiCalls,
  motoMedianMs: r.motoMs.median,
  motoP90Ms: r.motoMs.p90,
  allRatios: rounds.get(r.strategy)!.map((x) => Number((x.awsSeconds / bound.seconds).toFixed(3))),
}));
const engineRun = runs.find((r) => r.strategy === 'engine');
const chain = engineRun ? chainOf(engineRun, plan) : [];
const sum = (xs: number[]) => Number(xs.reduce((a, b) => a + b, 0).toFixed(1));
/** The chain's time above the bound, by cause: starting late, waits noticing readiness late, other calls. */
const above = {
  startGaps: sum(chain.map((c) => c.waitedToStart)),
  waits: sum(chain.filter((c) => c.polls > 0).map((c) => c.took - c.modelled)),
  calls: sum(chain.filter((c) => c.polls === 0).map((c) => c.took - c.modelled)),
};
const load = loadavg().map((l) => Number(l.toFixed(1)));

console.log(
  `\nThe xkcd stack (${plan.resources.length} resources) deployed from nothing under the AWS model, ${SPEEDUP}× faster than AWS, ${LATENCY_MS} ms a call, polls at most every ${(POLL_CAP ?? DEFAULT_WAIT_TIMING.maxDelayMs) / 1000} s`,
);
console.log(
  `Lower bound (longest path, model times and latency): ${Math.round(bound.seconds)} s of AWS time`,
);
console.log(`  ${bound.path.join(' → ')}`);
console.table(
  results.map((r) => ({
    strategy: name[r.strategy] ?? r.strategy,
    'wall (s)': r.wallSeconds,
    'as AWS time (s)': r.awsSeconds,
    '÷ bound': r.ratio,
    'API calls': r.apiCalls,
    'moto ms/call (median, p90)': `${r.motoMedianMs}, ${r.motoP90Ms}`,
  })),
);
if (chain.length > 0) {
  console.log('Where the engine run spent its critical chain (AWS seconds):');
  console.table(chain);
  console.log(
    `Above the bound: starting late (the plan's reads, a free slot) ${above.startGaps} s; waits noticing ` +
      `readiness late ${above.waits} s; the other steps' calls ${above.calls} s. moto answered in ` +
      `${engineRun!.motoMs.median} ms (median) here, ${((engineRun!.motoMs.median * SPEEDUP) / 1000).toFixed(2)} s ` +
      `of AWS time against ${LATENCY_MS / 1000} s modelled; load average ${load.join(' ')} on ${cpus().length} CPUs.`,
  );
}
await writeResults('deploy-critical-path', {
  speedup: SPEEDUP,
  latencyMs: LATENCY_MS,
  pollCapMs: POLL_CAP ?? DEFAULT_WAIT_TIMING.maxDelayMs,
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
  resources: plan.resources.length,
  boundSeconds: Number(bound.seconds.toFixed(1)),
  boundPath: bound.path,
  results,
  engineCriticalChain: chain,
  engineAboveBound: above,
});
