// `touchdown deploy`: infrastructure, image, release phase (migrate, collectstatic, release.commands), traffic,
// record.
// Any failed step leaves the previous release serving: services change only in the traffic step.
import type { AwsClients } from '../aws/clients.js';
import { stackZones } from '../aws/ec2/zones.js';
import { snapshotDatabase } from '../aws/rds/snapshots.js';
import { resourceTypes } from '../aws/registry.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import type { ApplyReport } from '../core/apply.js';
import { Engine } from '../core/engine.js';
import type { EventSink } from '../core/events.js';
import type { Lease } from '../core/lock.js';
import { hasChanges, type Plan, type World } from '../core/plan.js';
import type { Stack } from '../core/stack.js';
import { runStep } from '../core/step.js';
import type { WaitTiming } from '../core/wait.js';
import { imageSource } from './blueprint/image-source.js';
import { type AppHandles, awsBlueprint, handlesOf, outputsOf, zoneNeeds } from './blueprint/index.js';
import { releaseCompute } from './compute.js';
import { runningCounts } from './counts.js';
import { releaseCommands } from './one-off.js';
import { failure, runReleasePhase } from './release-phase.js';
import { deployer, type Release, ReleaseHistory } from './releases.js';
import { Secrets } from './secrets.js';
import { lastLinesOfStoppedTask } from './task-logs.js';

export interface DeployOptions {
  loaded: LoadedManifest;
  aws: AwsClients;
  events: EventSink;
  signal: AbortSignal;
  /** An image built elsewhere; otherwise the project is built and pushed here. */
  image?: string;
  concurrency?: number;
  timing?: WaitTiming;
  /** Shown the infrastructure plan before anything changes. */
  confirm?: (plan: Plan, context: { world: World; stack: Stack }) => Promise<boolean>;
  /** Puts an earlier release's image back: no snapshot, no release phase (the database is left as it is). */
  rollbackTo?: Release;
  /** Why this release was made, kept in its record (e.g. the database was restored). @default the rollback's */
  note?: string;
  /** The stack's lock, held by the caller: checked before each change, so a deploy that lost it stops. */
  lease?: Lease;
}

export interface DeployResult {
  status: 'deployed' | 'unchanged' | 'failed' | 'cancelled';
  release?: Release;
  failedStep?: string;
  message?: string;
  /** The last log lines of a failed one-off task. */
  logs?: string[];
  report?: ApplyReport;
}

export async function deploy(o: DeployOptions): Promise<DeployResult> {
  const { aws, events } = o;
  // A malformed image reference is refused before anything changes (Lambda takes a package, checked later).
  if (o.image && o.loaded.manifest.web.compute !== 'lambda') imageSource(o.image);
  const history = new ReleaseHistory(aws, o.loaded.stackName);
  // Counts set with `touchdown scale` stand until scale or touchdown.yml changes them. The zones are asked
  // first: a region without enough of them is refused before anything changes.
  const [account, current, { loaded }, zones] = await Promise.all([
    aws.account(),
    history.current(),
    runningCounts(aws, o.loaded),
    stackZones(aws, zoneNeeds(o.loaded.manifest)),
  ]);
  const m = loaded.manifest;
  const engineFor = (image: string | undefined, version?: string) =>
    new Engine({
      stack: awsBlueprint(loaded, { region: aws.region, account, zones, image, version }),
      registry: resourceTypes,
      aws,
      events,
      signal: o.signal,
      concurrency: o.concurrency,
      timing: o.timing,
      lease: o.lease,
    });
  const stillHeld = async () => {
    await o.lease?.ensureHeld();
  };
  const step = <T>(name: string, run: () => Promise<T>) => runStep(events, name, run);
  const failed = (stepName: string, message: string, extra: Partial<DeployResult> = {}): DeployResult => ({
    status: 'failed',
    failedStep: stepName,
    message,
    ...extra,
  });

  // 0. Declared secrets must be set: tasks that cannot read them never start.
  const missing = await new Secrets(aws, loaded).missing();
  if (missing.length > 0) {
    const how = missing.map(
      (name) =>
        `touchdown secrets set ${name}${loaded.stage === 'production' ? '' : ` --stage ${loaded.stage}`}`,
    );
    return failed(
      'secrets',
      `not set yet: ${missing.join(', ')}. Nothing was changed; run ${how.join(' and ')}, then deploy`,
    );
  }

  // 1. Infrastructure, with the release that serves now (so nothing about the app changes yet). Before the
  // first release is recorded nothing is deleted here: services a killed first deploy made are the traffic
  // step's to take over, not orphans (on AWS a deleted service drains for minutes and blocks its name).
  const infraEngine = engineFor(current?.image, current?.functionVersion);
  const infrastructure = handlesOf(infraEngine.stack);
  const infra = await step('infrastructure', () =>
    infraEngine.apply({
      confirm: o.confirm,
      ...(current ? {} : { only: () => true }),
    }),
  );
  if (!infra.confirmed) return { status: 'cancelled' };
  if (infra.report && (infra.report.failed.length > 0 || infra.report.interrupted)) {
    return failed('infrastructure', infra.report.failed[0]?.error ?? 'interrupted', { report: infra.report });
  }

  // 2. The image (a zip package on Lambda).
  const compute = releaseCompute({
    aws,
    loaded,
    events,
    options: { signal: o.signal, timing: o.timing },
  });
  const built = async () => {
    await stillHeld();
    return step(compute.build.step, () => compute.build.run(infra.world, infrastructure));
  };
  const image = o.rollbackTo?.image ?? o.image ?? (await built());
  if (current && image === current.image && !hasChanges(infra.plan) && !o.rollbackTo) {
    return {
      status: 'unchanged',
      release: current,
      message: 'nothing to deploy: the image and the infrastructure are unchanged',
    };
  }

  const who = await deployer(aws);
  await stillHeld();
  const { number } = await history.claim({ image, taskDefinitions: {}, time: new Date().toISOString(), who });
  const record = (status: Release['status'], recorded: Partial<Release>, failedStep?: string) =>
    history.record({
      number,
      image,
      taskDefinitions: {},
      ...recorded,
      time: new Date().toISOString(),
      who,
      status,
      ...(failedStep ? { failedStep } : {}),
    });

  // 3. Optionally, a snapshot of the database before its schema changes.
  const database = outputsOf(infra.world, infrastructure.database);
  if (m.release.snapshot && database?.id && current && !o.rollbackTo) {
    await stillHeld();
    await step('snapshot', () =>
      snapshotDatabase(aws, database.id!, `${loaded.stackName}-release-${number}`, {
        signal: o.signal,
        timing: o.timing,
      }),
    );
  }

  // 4. The release phase: what one-off commands run with (the release task definition, or the function's
  // new version), then migrate, collectstatic and release.commands (release-phase.ts).
  const definition = compute.definition;
  const releaseEngine = engineFor(image);
  const releasing = handlesOf(releaseEngine.stack);
  const wanted = new Set(definition.resources(releasing).map((r) => r?.address));
  const releaseDef = await step(definition.step, () => releaseEngine.apply({ only: (a) => wanted.has(a) }));
  if (releaseDef.report && releaseDef.report.failed.length > 0) {
    await record('failed', {}, definition.step);
    return failed(definition.step, releaseDef.report.failed[0]!.error ?? '', { report: releaseDef.report });
  }
  await stillHeld();
  // The release step read only what its definition needs; where one-off commands run is the infrastructure's.
  const world = {
    found: new Map([...infra.world.found, ...releaseDef.world.found]),
    outputs: new Map([...infra.world.outputs, ...releaseDef.world.outputs]),
  };
  const prepared = await compute.prepare(world, releasing, { step, rollbackTo: o.rollbackTo });
  // A rollback runs the earlier code against today's schema and assets: no release command runs again.
  const commands = o.rollbackTo ? [] : releaseCommands(m);
  const phase = await runReleasePhase({
    events,
    runner: prepared.runner,
    commands,
    signal: o.signal,
    stillHeld,
  });
  if (phase.status === 'cancelled') {
    await record('cancelled', prepared.recorded, phase.step);
    return { status: 'cancelled', failedStep: phase.step, message: phase.message };
  }
  if (phase.status === 'failed') {
    const logs = await phase.result.lastLines(20);
    await record('failed', prepared.recorded, phase.step);
    return failed(phase.step, `${failure(phase.what, phase.result)}; the previous release still serves`, {
      logs,
    });
  }

  // 5. Traffic: the services move to the new task definitions (the `live` alias to the new version) and
  // must become stable.
  const trafficEngine = engineFor(image, prepared.version);
  const serving = handlesOf(trafficEngine.stack);
  const traffic = await step('traffic', () => trafficEngine.apply());
  if (traffic.report && (traffic.report.failed.length > 0 || traffic.report.interrupted)) {
    await record('failed', {}, 'traffic');
    const logs = await newTasksLastLines(aws, traffic.world, serving).catch(() => []);
    return failed('traffic', traffic.report.failed[0]?.error ?? 'interrupted', {
      report: traffic.report,
      ...(logs.length > 0 ? { logs } : {}),
    });
  }

  // 6. The record of what serves now.
  const taskDefinitions = Object.fromEntries(
    Object.entries(serving.containers?.taskDefinitions ?? {}).flatMap(([name, handle]) => {
      const arn = outputsOf(traffic.world, handle)?.arn;
      return arn ? [[name, arn]] : [];
    }),
  );
  const release: Release = {
    number,
    image,
    taskDefinitions,
    ...(prepared.version ? { functionVersion: prepared.version } : {}),
    time: new Date().toISOString(),
    who,
    status: 'live',
    ...(o.note || o.rollbackTo ? { note: o.note ?? `rollback to release ${o.rollbackTo!.number}` } : {}),
  };
  await history.promote(release);
  return { status: 'deployed', release };
}

/** The new release's services' task that stopped last: its output says why the deployment failed. */
async function newTasksLastLines(aws: AwsClients, world: World, h: AppHandles): Promise<string[]> {
  const cluster = outputsOf(world, h.containers?.cluster)?.arn;
  const definitions = Object.values(h.containers?.taskDefinitions ?? {}).flatMap((handle) => {
    const arn = handle === h.containers?.taskDefinitions.release ? undefined : outputsOf(world, handle)?.arn;
    return arn ? [arn] : [];
  });
  if (!cluster || definitions.length === 0) return [];
  return lastLinesOfStoppedTask(aws, String(cluster), definitions, 50);
}
