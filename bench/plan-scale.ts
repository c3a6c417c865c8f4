// How long a no-op plan takes, and how many AWS calls it makes, as a stack grows to 10, 100 and 1000
// resources; against, in the same run on the same local AWS, a refresh that reads each resource with its
// own Describe call (what a per-resource refresh costs). Prints a table and writes bench/results/plan-scale.json.
//   node --import tsx bench/plan-scale.ts [sizes, default 10,100,1000]
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { resourceTypes } from '../src/aws/registry.js';
import { AwsStack } from '../src/aws/stack.js';
import { Engine } from '../src/core/engine.js';
import { startLocalAws } from '../test/support/local-aws.js';
import { repoRoot } from '../test/support/paths.js';

const sizes = (process.argv[2] ?? '10,100,1000').split(',').map(Number);
const ROUNDS = 3;

/** A network of n resources: one VPC, then subnets, security groups and route tables (6:3:1). */
function network(n: number): AwsStack {
  const aws = new AwsStack(`scale-${n}`);
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.0.0.0/16' });
  const rest = n - 1;
  const subnets = Math.round(rest * 0.6);
  const groups = Math.round(rest * 0.3);
  const tables = rest - subnets - groups;
  for (let i = 0; i < subnets; i++) {
    vpc.addSubnet({ name: `s${i}`, cidrBlock: `10.0.${Math.floor(i / 16)}.${(i % 16) * 16}/28` });
  }
  for (let i = 0; i < groups; i++) {
    vpc.addSecurityGroup({
      name: `g${i}`,
      ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '10.0.0.0/16' }],
    });
  }
  for (let i = 0; i < tables; i++) vpc.addRouteTable({ name: `t${i}` });
  return aws;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const local = await startLocalAws();
const results = [];
try {
  for (const n of sizes) {
    await local.reset();
    const stack = network(n);
    const engine = (aws = local.clients()) =>
      new Engine({ stack, registry: resourceTypes, aws, concurrency: 10 });
    const t0 = Date.now();
    const { report } = await engine().apply();
    const applyMs = Date.now() - t0;
    if (report && report.failed.length > 0) throw new Error(`apply failed: ${report.failed[0]!.error}`);

    const plans: { ms: number; calls: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const aws = local.clients();
      const started = performance.now();
      const { plan } = await engine(aws).plan();
      const ms = performance.now() - started;
      if (plan.summary.noop !== n)
        throw new Error(`expected a no-op plan of ${n}, got ${JSON.stringify(plan.summary)}`);
      plans.push({ ms, calls: aws.calls.length });
    }

    // Baseline: one Describe per resource, ten at a time, as a per-resource refresh does.
    const baseline: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const aws = local.clients();
      const ec2 = await aws.ec2();
      const { world } = await engine().plan();
      const ids = [...world.found.values()].map((f) => [f.type.kind, f.found.id] as const);
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
    const baselineMs = median(baseline);
    const calls = plans[0]!.calls;
    results.push({
      resources: n,
      applyMs,
      planMs: Math.round(planMs),
      apiCalls: calls,
      callsPerResource: Number((calls / n).toFixed(3)),
      baselineMs: Math.round(baselineMs),
      baselineCalls: n,
      planVsBaseline: Number((planMs / baselineMs).toFixed(3)),
    });
  }
} finally {
  await local.stop();
}

console.log(
  'No-op plan of a network stack (1 VPC; subnets, security groups, route tables 6:3:1) on the local AWS',
);
console.table(
  results.map((r) => ({
    resources: r.resources,
    'apply (ms)': r.applyMs,
    'no-op plan (ms)': r.planMs,
    'API calls': r.apiCalls,
    'calls/resource': r.callsPerResource,
    'per-resource refresh (ms)': r.baselineMs,
    'plan ÷ refresh': r.planVsBaseline,
  })),
);
const out = join(repoRoot, 'bench', 'results');
await mkdir(out, { recursive: true });
await writeFile(
  join(out, 'plan-scale.json'),
  `${JSON.stringify({ benchmark: 'plan-scale', date: new Date().toISOString(), node: process.version, cpus: cpus().length, rounds: ROUNDS, results }, null, 2)}\n`,
);
console.log(`written: bench/results/plan-scale.json`);
