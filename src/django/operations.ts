// Operating a deployed app: scale, secrets, one-off management commands, status. Each works on what the
// stack owns, found live (the cluster and services through a plan, the secrets under /<app>/<stage>/).
import type { AwsClients } from '../aws/clients.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import type { Engine } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import type { World } from '../core/plan.js';
import { FUNCTION, LIVE_ALIAS } from './blueprint/lambda.js';
import { ecsRunner, lambdaRunner, type OneOffResult, oneOffTask } from './one-off.js';

/** The ECS names of the app's cluster and services, from what exists. */
export function services(world: World): { cluster: string; services: Record<string, string> } {
  const cluster = String(world.outputs.get('ecs-cluster.main')?.name ?? '');
  const found = [...world.outputs]
    .filter(([a]) => a.startsWith('ecs-service.'))
    .map(([a, o]) => [a.slice(12), String(o.name)]);
  if (!cluster || found.length === 0)
    throw new ConfigError('nothing is deployed yet: run touchdown deploy first');
  return { cluster, services: Object.fromEntries(found) };
}

/** `web=3 worker-default=2`: changes the running count only, never the task definition revision (seed 001, issue 1). */
export async function scale(aws: AwsClients, engine: Engine, wanted: Record<string, number>) {
  const { world } = await engine.plan();
  const { cluster, services: names } = services(world);
  const ecs = await aws.ecs();
  const result: Record<string, { from: number; to: number; taskDefinition: string }> = {};
  for (const [process, count] of Object.entries(wanted)) {
    const service = names[process] ?? names[`worker-${process}`];
    if (!service)
      throw new ConfigError(`no process "${process}": this app runs ${Object.keys(names).join(', ')}`);
    const [before] = (await ecs.describeServices({ cluster, services: [service] })).services ?? [];
    const after = await ecs.updateService({ cluster, service, desiredCount: count });
    result[process] = {
      from: before?.desiredCount ?? 0,
      to: count,
      taskDefinition: after.service?.taskDefinition ?? '',
    };
  }
  return result;
}

export function parseScale(args: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of args) {
    const m = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(a);
    if (!m) throw new ConfigError(`"${a}": write it as process=count, e.g. web=3 worker-default=2`);
    out[m[1]!] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new ConfigError('say what to scale, e.g. touchdown scale web=3');
  return out;
}

/** Runs `manage.py <args>` once with the serving release (a Fargate task, or the function's live alias). */
export async function manage(
  aws: AwsClients,
  engine: Engine,
  app: LoadedManifest,
  args: string[],
  signal: AbortSignal,
): Promise<OneOffResult> {
  const { world } = await engine.plan();
  const fn = world.outputs.get(`lambda-function.${FUNCTION}`);
  if (fn) return lambdaRunner(aws, String(fn.name), LIVE_ALIAS, { signal }).manage(args);
  if (!world.outputs.get('task-definition.release'))
    throw new ConfigError('nothing is deployed yet: run touchdown deploy first');
  const task = oneOffTask(world, app.manifest.network.nat === 'none');
  return ecsRunner(aws, task, { signal }).manage(args);
}
