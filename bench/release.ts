// How long a code-only release takes: the xkcd stack already exists, and a new image is deployed (release task
// definition, migrate then collectstatic in one one-off Fargate task, then the services' rolling replacement)
// through the AWS model (test/support/aws-model: the one-off task starts and runs its commands, new tasks start,
// pass the target group's health check and the old ones drain, for their times in times.ts). Its time is divided
// by the lower bound: the release's longest path, with the target groups' own settings as AWS holds them.
// Target: under 3 minutes.
// Prints a table and writes bench/results/release.json.
//   node --import tsx bench/release.ts [--speedup=10] [--latency=100] [--rounds=1]
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { AwsClients } from '../src/aws/clients.js';
import { parseManifest } from '../src/config/load-manifest.js';
import type { Manifest } from '../src/config/manifest.js';
import type { EngineEvent } from '../src/core/events.js';
import { deploy } from '../src/django/deploy.js';
import { releaseCommands } from '../src/django/one-off.js';
import { scaledWaitTiming, startAwsModel } from '../test/support/aws-model/proxy.js';
import { ECS_RELEASE, LATENCY, ONE_OFF, TIMES } from '../test/support/aws-model/times.js';
import { startLocalAws } from '../test/support/local-aws.js';
import { repoRoot } from '../test/support/paths.js';
import { arg, median, writeResults } from './results.js';

const SPEEDUP = Number(arg('speedup') ?? process.env.TOUCHDOWN_MODEL_SPEEDUP ?? 10);
const LATENCY_MS = Number(arg('latency') ?? LATENCY.ms);
const ROUNDS = Number(arg('rounds') ?? 1);
const TARGET_SECONDS = 180;
const REGION = 'us-east-1';
const image = (tag: string) => `123456789012.dkr.ecr.${REGION}.amazonaws.com/xkcd-production-app:${tag}`;

const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
const loaded = () => readFile(path, 'utf8').then((text) => parseManifest(text, path));

// moto's own waits off: the model decides when certificates are issued, tasks stop and services are steady.
const local = await startLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
const awsSeconds = (realMs: number) => (realMs * SPEEDUP) / 1000;
const quick = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 120_000 };

/** The target groups the services sit behind, as AWS holds them: the bound's health checks and draining. */
async function targetGroups(aws: AwsClients) {
  const elbv2 = await aws.elbv2();
  const { TargetGroups = [] } = await elbv2.describeTargetGroups({});
  return Promise.all(
    TargetGroups.map(async (g) => {
      const { Attributes = [] } = await elbv2.describeTargetGroupAttributes({
        TargetGroupArn: g.TargetGroupArn,
      });
      const delay = Attributes.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
      return {
        name: g.TargetGroupName ?? '',
        intervalSeconds: g.HealthCheckIntervalSeconds ?? ECS_RELEASE.healthChecks.intervalSeconds,
        healthyThreshold: g.HealthyThresholdCount ?? ECS_RELEASE.healthChecks.healthyThreshold,
        deregistrationDelaySeconds: Number(delay ?? ECS_RELEASE.draining.deregistrationDelaySeconds),
      };
    }),
  );
}

interface Step {
  step: string;
  start: number;
  done: number;
}

async function release(round: number) {
  await local.reset();
  const first = await deploy({
    loaded: await loaded(),
    aws: local.clients(),
    events: () => {},
    signal: new AbortController().signal,
    image: image('v1'),
    timing: quick,
  });
  if (first.status !== 'deployed') throw new Error(`the first deploy failed: ${first.message}`);
  const groups = await targetGroups(local.clients());

  const model = await startAwsModel({ upstream: local.endpoint, speedup: SPEEDUP, latencyMs: LATENCY_MS });
  const aws = new AwsClients({ region: REGION, endpoint: model.endpoint });
  const steps: Step[] = [];
  let t0 = 0;
  const events = (e: EngineEvent) => {
    if (e.type !== 'step') return;
    const at = awsSeconds(Date.now() - t0);
    if (e.state === 'start') steps.push({ step: e.step, start: at, done: Number.NaN });
    else {
      const s = steps.findLast((x) => x.step === e.step);
      if (s) s.done = at;
    }
  };
  t0 = Date.now();
  const result = await deploy({
    loaded: await loaded(),
    aws,
    events,
    signal: new AbortController().signal,
    image: image(`v${round + 2}`),
    timing: scaledWaitTiming(SPEEDUP),
  });
  const wallMs = Date.now() - t0;
  const stats = model.stats();
  await model.stop();
  if (result.status !== 'deployed')
    throw new Error(`the release failed at ${result.failedStep}: ${result.message}`);
  return {
    wallMs,
    awsSeconds: awsSeconds(wallMs),
    steps,
    groups,
    apiCalls: stats.calls,
    moto: stats.upstreamMs,
  };
}

/**
 * The release's longest path: the plan's reads and the release task definition (a call each), one one-off task
 * running the release phase's commands in order (one start, each command's own time), the service update (a
 * call) and its rolling replacement behind the slowest target group (a new target is healthy after one passing
 * check), then the release record (a call).
 */
function lowerBound(groups: Awaited<ReturnType<typeof targetGroups>>, m: Manifest) {
  const call = LATENCY_MS / 1000;
  const rolling =
    ECS_RELEASE.taskStart.seconds +
    Math.max(
      0,
      ...groups.map(
        (g) => g.intervalSeconds * ECS_RELEASE.healthChecks.newTargetChecks + g.deregistrationDelaySeconds,
      ),
    );
  const commands = releaseCommands(m).length;
  const oneOff = ONE_OFF.start + ONE_OFF.command * commands;
  return {
    seconds: 4 * call + oneOff + 2 * call + rolling + call,
    commands,
    oneOff,
    rolling,
    /** The same path with a task of its own for each command, as releases ran before. */
    taskPerCommand: 4 * call + commands * (TIMES.oneOffTask.create + 2 * call) + rolling + call,
  };
}

const runs: Awaited<ReturnType<typeof release>>[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const r = await release(round);
    runs.push(r);
    console.log(
      `release ${round + 1}: ${(r.wallMs / 1000).toFixed(1)} s (${Math.round(r.awsSeconds)} s of AWS time)`,
    );
  }
} finally {
  await local.stop();
}

const mid = [...runs].sort((a, b) => a.wallMs - b.wallMs)[(runs.length - 1) >> 1]!;
const bound = lowerBound(mid.groups, (await loaded()).manifest);
const ratio = (s: number) => Number((s / bound.seconds).toFixed(3));
const load = loadavg().map((l) => Number(l.toFixed(1)));
console.log(
  `\nA code-only release of xkcd (a new image) under the AWS model, ${SPEEDUP}× faster than AWS, ${LATENCY_MS} ms a call`,
);
console.log(
  `Target groups: ${mid.groups.map((g) => `${g.name} checks every ${g.intervalSeconds} s (a new target: one passing check), drains ${g.deregistrationDelaySeconds} s`).join('; ')}`,
);
console.log(
  `Lower bound ${Math.round(bound.seconds)} s: one one-off task for ${bound.commands} commands ${bound.oneOff} s, rolling replacement ${bound.rolling} s, calls; ` +
    `with a task for each command ${Math.round(bound.taskPerCommand)} s`,
);
console.table(
  mid.steps.map((s) => ({
    step: s.step,
    'start (s)': Math.round(s.start),
    'took (s)': Math.round(s.done - s.start),
  })),
);
console.table([
  {
    'release (AWS s)': Math.round(mid.awsSeconds),
    '÷ bound': ratio(mid.awsSeconds),
    '÷ target (180 s)': Number((mid.awsSeconds / TARGET_SECONDS).toFixed(3)),
    'API calls': mid.apiCalls,
    'moto ms/call (median, p90)': `${mid.moto.median}, ${mid.moto.p90}`,
  },
]);
console.log(`load average ${load.join(' ')} on ${cpus().length} CPUs`);
await writeResults('release', {
  speedup: SPEEDUP,
  latencyMs: LATENCY_MS,
  rounds: ROUNDS,
  targetSeconds: TARGET_SECONDS,
  targetGroups: mid.groups,
  boundSeconds: Number(bound.seconds.toFixed(1)),
  boundWithTaskPerCommand: Number(bound.taskPerCommand.toFixed(1)),
  modelled: {
    oneOffTask: ONE_OFF,
    taskStart: ECS_RELEASE.taskStart.seconds,
    sources: [TIMES.oneOffTask.source, ECS_RELEASE.healthChecks.source, ECS_RELEASE.draining.source],
  },
  releaseSeconds: Math.round(mid.awsSeconds),
  medianReleaseSeconds: Math.round(median(runs.map((r) => r.awsSeconds))),
  ratio: ratio(mid.awsSeconds),
  allRatios: runs.map((r) => ratio(r.awsSeconds)),
  steps: mid.steps.map((s) => ({ ...s, start: Math.round(s.start), done: Math.round(s.done) })),
  apiCalls: mid.apiCalls,
  motoMs: mid.moto,
});
