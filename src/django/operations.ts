// Operating a deployed app: scale, secrets, one-off management commands, status. Each works on what the
// stack owns, found live (the cluster and services through a plan, the secrets under /<app>/<stage>/).
import type { AwsClients } from '../aws/clients.js';
import { runTask } from '../aws/ecs/run-task.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import type { Engine } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import type { World } from '../core/plan.js';
import { oneOffTask } from './one-off.js';

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

/** Runs `manage.py <args>` once with the serving release, and returns its exit code. */
export async function manage(
  aws: AwsClients,
  engine: Engine,
  app: LoadedManifest,
  args: string[],
  signal: AbortSignal,
) {
  const { world } = await engine.plan();
  if (!world.outputs.get('task-definition.release'))
    throw new ConfigError('nothing is deployed yet: run touchdown deploy first');
  const task = oneOffTask(world, app.manifest.network.nat === 'none');
  return runTask(aws, { ...task, command: ['python', 'manage.py', ...args] }, { signal });
}
