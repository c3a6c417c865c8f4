// `touchdown deploy`: infrastructure, image, release phase (migrate, collectstatic), traffic, record.
// Any failed step leaves the previous release serving: services change only in the traffic step.
import type { AwsClients } from '../aws/clients.js';
import { snapshotDatabase } from '../aws/rds/instance.js';
import { resourceTypes } from '../aws/registry.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import type { ApplyReport } from '../core/apply.js';
import { Engine } from '../core/engine.js';
import type { EventSink } from '../core/events.js';
import { hasChanges, type Plan } from '../core/plan.js';
import { runStep } from '../core/step.js';
import type { WaitTiming } from '../core/wait.js';
import { awsBlueprint } from './blueprint/index.js';
import { releaseCompute } from './compute.js';
import { deployer, type Release, ReleaseHistory } from './releases.js';
import { Secrets } from './secrets.js';

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
  confirm?: (plan: Plan) => Promise<boolean>;
  /** Puts an earlier release's image back: no snapshot, no release phase (the database is left as it is). */
  rollbackTo?: Release;
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
  const { loaded, aws, events } = o;
  const m = loaded.manifest;
  const history = new ReleaseHistory(aws, loaded.stackName);
  const [account, current] = await Promise.all([aws.account(), history.current()]);
  const engineFor = (image: string | undefined, version?: string) =>
    new Engine({
      stack: awsBlueprint(loaded, { region: aws.region, account, image, version }),
      registry: resourceTypes,
      aws,
      events,
      signal: o.signal,
      concurrency: o.concurrency,
      timing: o.timing,
    });
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
  const infra = await step('infrastructure', () =>
    engineFor(current?.image, current?.functionVersion).apply({
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
    account,
    events,
    options: { signal: o.signal, timing: o.timing },
  });
  const image =
    o.rollbackTo?.image ?? o.image ?? (await step(compute.build.step, () => compute.build.run(infra.world)));
  if (current && image === current.image && !hasChanges(infra.plan) && !o.rollbackTo) {
    return {
      status: 'unchanged',
      release: current,
      message: 'nothing to deploy: the image and the infrastructure are unchanged',
    };
  }

  const number = await history.next();
  const who = await deployer(aws);
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
  const database = infra.world.outputs.get('db-instance.db') as { id?: string } | undefined;
  if (m.release.snapshot && database?.id && current && !o.rollbackTo) {
    await step('snapshot', () =>
      snapshotDatabase(aws, database.id!, `${loaded.stackName}-release-${number}`, {
        signal: o.signal,
        timing: o.timing,
      }),
    );
  }

  // 4. The release phase: what one-off commands run with (the release task definition, or the function's
  // new version), then migrate and collectstatic.
  const definition = compute.definition;
  const releaseDef = await step(definition.step, () => engineFor(image).apply({ only: definition.only }));
  if (releaseDef.report && releaseDef.report.failed.length > 0) {
    await record('failed', {}, definition.step);
    return failed(definition.step, releaseDef.report.failed[0]!.error ?? '', { report: releaseDef.report });
  }
  const prepared = await compute.prepare(releaseDef.world, { step, rollbackTo: o.rollbackTo });
  const commands: [string, string[]][] = [];
  // A rollback runs the earlier code against today's schema: migrations are not undone.
  if (!o.rollbackTo && m.release.migrate && m.database) commands.push(['migrate', ['migrate', '--noinput']]);
  if (!o.rollbackTo && m.release.collectstatic && m.buckets.static) {
    commands.push(['collectstatic', ['collectstatic', '--noinput']]);
  }
  // All start at once (collectstatic touches no database, so it need not wait for migrate): one task start
  // instead of two (https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/task.html); reported in order.
  const running = commands.map(([, args]) => prepared.runner.manage(args));
  for (const r of running) r.catch(() => {});
  for (const [i, [name, args]] of commands.entries()) {
    const result = await step(name, () => running[i]!).catch(async (err: Error) => {
      if (!o.signal.aborted) throw err;
      await record('cancelled', prepared.recorded, name);
      return err;
    });
    if (result instanceof Error) return { status: 'cancelled', failedStep: name, message: result.message };
    if (result.exitCode !== 0) {
      const logs = await result.lastLines(20);
      await record('failed', prepared.recorded, name);
      const why =
        result.exitCode === undefined
          ? `stopped without an exit code (${result.reason ?? 'no reason given'})`
          : `exited with code ${result.exitCode}`;
      return failed(name, `${args.join(' ')} ${why}; the previous release still serves`, { logs });
    }
  }

  // 5. Traffic: the services move to the new task definitions (the `live` alias to the new version) and
  // must become stable.
  const traffic = await step('traffic', () => engineFor(image, prepared.version).apply());
  if (traffic.report && (traffic.report.failed.length > 0 || traffic.report.interrupted)) {
    await record('failed', {}, 'traffic');
    return failed('traffic', traffic.report.failed[0]?.error ?? 'interrupted', { report: traffic.report });
  }

  // 6. The record of what serves now.
  const taskDefinitions = Object.fromEntries(
    [...traffic.world.outputs]
      .filter(([a]) => a.startsWith('task-definition.'))
      .map(([a, out]) => [a.slice(16), String(out.arn)]),
  );
  const release: Release = {
    number,
    image,
    taskDefinitions,
    ...(prepared.version ? { functionVersion: prepared.version } : {}),
    time: new Date().toISOString(),
    who,
    status: 'live',
    ...(o.rollbackTo ? { note: `rollback to release ${o.rollbackTo.number}` } : {}),
  };
  await history.promote(release);
  return { status: 'deployed', release };
}
