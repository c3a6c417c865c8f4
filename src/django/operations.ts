// Operating a deployed app: scale, secrets, one-off management commands, status. Each works on what the
// stack owns, found live (the cluster and services through a plan, the secrets under /<app>/<stage>/).
import type { AwsClients } from '../aws/clients.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import type { Engine } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import type { World } from '../core/plan.js';
import type { Stack } from '../core/stack.js';
import { foundOf, handlesOf, outputsOf } from './blueprint/index.js';
import { LIVE_ALIAS } from './blueprint/lambda.js';
import { checkScalable, manifestCounts, ScaledCounts } from './counts.js';
import { ecsRunner, lambdaRunner, type OneOffResult, oneOffTask } from './one-off.js';
import { deployer } from './releases.js';
import { followLogStream } from './task-logs.js';

/** The ECS names of the app's cluster and services, from what exists. */
export function services(world: World, stack: Stack): { cluster: string; services: Record<string, string> } {
  const h = handlesOf(stack);
  const cluster = String(outputsOf(world, h.containers?.cluster)?.name ?? '');
  const found = Object.entries(h.containers?.services ?? {}).flatMap(([process, service]) => {
    const name = outputsOf(world, service)?.name;
    return name ? [[process, name]] : [];
  });
  if (!cluster || found.length === 0)
    throw new ConfigError('nothing is deployed yet: run touchdown deploy first');
  return { cluster, services: Object.fromEntries(found) };
}

/** What one process's service runs, as a plan read it. */
export interface Running {
  desired: number;
  running: number;
  /** The task definition's family and revision, e.g. xkcd-production-web:7. */
  revision: string;
}

/** Each process's service as the plan found it ({} before the first deploy): no second read of ECS. */
export function runningServices(world: World, stack: Stack): Record<string, Running> {
  const out: Record<string, Running> = {};
  for (const [process, service] of Object.entries(handlesOf(stack).containers?.services ?? {})) {
    const found = foundOf(world, service);
    if (!found) continue;
    out[process] = {
      desired: Number(found.args.desiredCount ?? 0),
      running: Number(found.state?.runningCount ?? 0),
      revision:
        String(found.args.taskDefinition ?? '')
          .split('/')
          .at(-1) ?? '',
    };
  }
  return out;
}

export interface ScaleChange {
  process: string;
  service: string;
  from: number;
  to: number;
}

/** What `scale` would change (`web=3 worker-default=2`), read from what runs; nothing changes yet. */
export async function planScale(
  aws: AwsClients,
  engine: Engine,
  loaded: LoadedManifest,
  wanted: Record<string, number>,
): Promise<{ cluster: string; changes: ScaleChange[] }> {
  const counts = checkScalable(loaded, wanted);
  const { world } = await engine.plan();
  const { cluster, services: names } = services(world, engine.stack);
  const ecs = await aws.ecs();
  const changes: ScaleChange[] = [];
  for (const [process, to] of Object.entries(counts)) {
    const service = names[process];
    if (!service) throw new ConfigError(`${process} is not deployed yet: run touchdown deploy first`);
    const [before] = (await ecs.describeServices({ cluster, services: [service] })).services ?? [];
    changes.push({ process, service, from: before?.desiredCount ?? 0, to });
  }
  return { cluster, changes };
}

/**
 * Changes the running counts only, never the task definition revision (seed 001, issue 1). The counts are
 * recorded first, so the next deploy keeps them even when a service update below fails.
 */
export async function scale(
  aws: AwsClients,
  loaded: LoadedManifest,
  planned: { cluster: string; changes: ScaleChange[] },
) {
  const record = new ScaledCounts(aws, loaded.stackName);
  const [recorded, who] = await Promise.all([record.read(), deployer(aws)]);
  const fromFile = manifestCounts(loaded);
  const time = new Date().toISOString();
  // A count autoscaling owns is its own to change next, not a deploy's: nothing to keep for it.
  for (const c of planned.changes) {
    const manifestCount = fromFile[c.process];
    if (manifestCount !== undefined) recorded[c.process] = { count: c.to, manifestCount, time, who };
  }
  await record.write(recorded);
  const ecs = await aws.ecs();
  const result: Record<string, { from: number; to: number; taskDefinition: string }> = {};
  for (const c of planned.changes) {
    const after = await ecs.updateService({
      cluster: planned.cluster,
      service: c.service,
      desiredCount: c.to,
    });
    result[c.process] = { from: c.from, to: c.to, taskDefinition: after.service?.taskDefinition ?? '' };
  }
  return result;
}

export function parseScale(args: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of args) {
    const m = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(a);
    if (!m) throw new ConfigError(`"${a}": write it as process=count, e.g. web=3 worker-default=2`);
    // ECS runs at most 5,000 tasks per service (https://docs.aws.amazon.com/general/latest/gr/ecs-service.html).
    if (Number(m[2]) > 5000) throw new ConfigError(`"${a}": ECS runs at most 5000 tasks per service`);
    out[m[1]!] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new ConfigError('say what to scale, e.g. touchdown scale web=3');
  return out;
}

/**
 * Runs `manage.py <args>` once with the serving release (a Fargate task, or the function's live alias). On ECS
 * the command's lines go to `print` as CloudWatch receives them (`streamed`); Lambda answers with them at the end.
 */
export async function manage(
  aws: AwsClients,
  engine: Engine,
  args: string[],
  signal: AbortSignal,
  print?: (line: string) => void,
): Promise<OneOffResult & { streamed: number | undefined }> {
  const { world } = await engine.plan();
  const h = handlesOf(engine.stack);
  const fn = outputsOf(world, h.lambda?.fn);
  if (fn) {
    const result = await lambdaRunner(aws, String(fn.name), LIVE_ALIAS, { signal }).manage(args);
    return { ...result, streamed: undefined };
  }
  if (!outputsOf(world, h.containers?.taskDefinitions.release))
    throw new ConfigError('nothing is deployed yet: run touchdown deploy first');
  const task = oneOffTask(world, h);
  const ended = new AbortController();
  let following: Promise<number> | undefined;
  const onStart = ({ logStream }: { logStream?: { group: string; stream: string } }) => {
    if (logStream && print) following = followLogStream(aws, logStream, print, ended.signal);
  };
  try {
    const result = await ecsRunner(aws, task, { signal, onStart }).manage(args);
    ended.abort();
    return { ...result, streamed: await following };
  } finally {
    ended.abort();
  }
}
