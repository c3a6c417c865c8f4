// How long a no-op plan takes, and how many AWS calls it makes, as a stack grows to 10, 100 and 1000
// resources; against, in the same run on the same local AWS, the plan as it was before (every resource type
// read, ten at a time), a refresh that reads each resource with its own Describe call (what a per-resource
// refresh costs), and `node -e 0` (Node's own start). Each is measured on the local AWS as it is, then
// through the AWS model with a per-call latency in real time (20 ms and 100 ms by default: what a user with
// that many resources waits for). Prints a table and writes bench/results/plan-scale.json.
//   node --import tsx bench/plan-scale.ts [sizes, default 10,100,1000] [--latencies=20,100]
import { execFileSync } from 'node:child_process';
import { AwsClients } from '../src/aws/clients.js';
import { resourceTypes } from '../src/aws/registry.js';
import { Engine } from '../src/core/engine.js';
import { startAwsModel } from '../test/support/aws-model/proxy.js';
import { startLocalAws } from '../test/support/local-aws.js';
import { network } from './network-stack.js';
import { arg, median, writeResults } from './results.js';

const sizes = (process.argv.slice(2).find((a) => !a.startsWith('--')) ?? '10,100,1000')
  .split(',')
  .map(Number);
/** Per-call latencies (ms) to plan under besides none; 0 is the local AWS without the model. */
const latencies = [0, ...(arg('latencies') ?? '20,100').split(',').map(Number)];
const ROUNDS = 3;

/** Node's own start, median of five: a yardstick for what a person waits for. */
const nodeMs = median(
  Array.from({ length: 5 }, () => {
    const started = performance.now();
    execFileSync(process.execPath, ['-e', '0']);
    return performance.now() - started;
  }),
);

const local = await startLocalAws();
const results = [];
try {
  for (const n of sizes) {
    await local.reset();
    const stack = network(n);
    const engine = (aws = local.clients(), readEveryType = false) =>
      new Engine({ stack, registry: resourceTypes, aws, concurrency: 10, readEveryType });
    const t0 = Date.now();
    const { report } = await engine().apply();
    const applyMs = Date.now() - t0;
    if (report && report.failed.length > 0) throw new Error(`apply failed: ${report.failed[0]!.error}`);

    for (const latencyMs of latencies) {
      // Real time (speed-up 1): the wait is what a user would have; nothing is created, so readiness plays no part.
      const model =
        latencyMs > 0 ? await startAwsModel({ upstream: local.endpoint, latencyMs, speedup: 1 }) : undefined;
      const clients = () =>
        model
          ? new AwsClients({ region: local.region, endpoint: model.endpoint, maxAttempts: 3 })
          : local.clients();
      try {
        results.push({ resources: n, latencyMs, applyMs, ...(await measure(n, engine, clients)) });
      } finally {
        await model?.stop();
      }
    }
  }
} finally {
  await local.stop();
}

/** A no-op plan's median time and calls, against the plan before, and one Describe per resource. */
async function measure(
  n: number,
  engine: (aws?: AwsClients, readEveryType?: boolean) => Engine,
  clients: () => AwsClients,
) {
  const plans: { ms: number; calls: number }[] = [];
  const everyType: { ms: number; calls: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Interleaved, so that a change in the machine's load weighs on both alike.
    for (const [readEveryType, into] of [
      [false, plans],
      [true, everyType],
    ] as const) {
      const aws = clients();
      const started = performance.now();
      const { plan } = await engine(aws, readEveryType).plan();
      const ms = performance.now() - started;
      if (plan.summary.noop !== n)
        throw new Error(`expected a no-op plan of ${n}, got ${JSON.stringify(plan.summary)}`);
      into.push({ ms, calls: aws.calls.length });
    }
  }

  // Baseline: one Describe per resource, ten at a time, as a per-resource refresh does.
  const baseline: number[] = [];
  const { world } = await engine().plan();
  const ids = [...world.found.values()].map((f) => [f.type.kind, f.found.id] as const);
  for (let r = 0; r < ROUNDS; r++) {
    const ec2 = await clients().ec2();
    await ec2.describeVpcs({}); // the client's first call loads its modules: not part of a refresh
    const started = performance.now();
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids
          .slice(i, i + 10)
          .map(([kind, id]) =>
            kind === 'vpc'
              ? ec2.describeVpcs({ VpcIds: [id] })
              : kind === 'subnet'
                ? ec2.describeSubnets({ SubnetIds: [id] })
                : kind === 'security-group'
                  ? ec2.describeSecurityGroups({ GroupIds: [id] })
                  : ec2.describeRouteTables({ RouteTableIds: [id] }),
          ),
      );
    }
    baseline.push(performance.now() - started);
  }

  const planMs = median(plans.map((p) => p.ms));
  const everyTypeMs = median(everyType.map((p) => p.ms));
  const baselineMs = median(baseline);
  const calls = plans[0]!.calls;
  return {
    planMs: Math.round(planMs),
    apiCalls: calls,
    callsPerResource: Number((calls / n).toFixed(3)),
    planVsNode: Number((planMs / nodeMs).toFixed(2)),
    everyTypeMs: Math.round(everyTypeMs),
    everyTypeCalls: everyType[0]!.calls,
    planVsEveryType: Number((planMs / everyTypeMs).toFixed(3)),
    baselineMs: Math.round(baselineMs),
    baselineCalls: n,
    planVsBaseline: Number((planMs / baselineMs).toFixed(3)),
  };
}

console.log(
  'No-op plan of a network stack (1 VPC; subnets, security groups, route tables 6:3:1) on the local AWS; ' +
    `every type: the plan before, reading all ${resourceTypes.length} types; node -e 0: ${Math.round(nodeMs)} ms`,
);
console.table(
  results.map((r) => ({
    resources: r.resources,
    'latency/call': r.latencyMs === 0 ? 'none (local AWS)' : `${r.latencyMs} ms`,
    'apply (ms)': r.applyMs,
    'no-op plan (ms)': r.planMs,
    'API calls': r.apiCalls,
    '÷ node -e 0': r.planVsNode,
    'every type (ms)': r.everyTypeMs,
    'every type calls': r.everyTypeCalls,
    'plan ÷ every type': r.planVsEveryType,
    'per-resource refresh (ms)': r.baselineMs,
    'plan ÷ refresh': r.planVsBaseline,
  })),
);
await writeResults('plan-scale', { rounds: ROUNDS, nodeMs: Math.round(nodeMs), results });
