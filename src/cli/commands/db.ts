// `touchdown db snapshot | snapshots | restore --to <time|snapshot> | remove-old <id>`: the stack's database.
// A restore makes a new instance, checks it, and moves the app to it only as a new release; the old one stays.

import type { DBInstance } from '@aws-sdk/client-rds';
import type { AwsClients } from '../../aws/clients.js';
import { runTask } from '../../aws/ecs/run-task.js';
import { listSnapshots, snapshotDatabase } from '../../aws/rds/snapshots.js';
import { ConfigError } from '../../core/errors.js';
import type { World } from '../../core/plan.js';
import { type AppHandles, handlesOf } from '../../django/blueprint/index.js';
import {
  adopt,
  formerDatabases,
  iso,
  matchStorage,
  removeFormer,
  resolves,
  restoredName,
  restoreInto,
  restoreSource,
  restoreWindow,
  SNAPSHOT_STACK_TAG,
  stackDatabase,
} from '../../django/db-restore.js';
import { deploy } from '../../django/deploy.js';
import { oneOffTask } from '../../django/one-off.js';
import { ReleaseHistory } from '../../django/releases.js';
import { confirm } from '../confirm.js';
import { type GlobalOptions, openApp, parseDuration, type Session } from '../session.js';
import { streams } from '../streams.js';

export interface DbOptions extends GlobalOptions {
  name?: string;
  to?: string;
  force?: boolean;
}

const out = (s: string) => streams.stdout.write(`${s}\n`);
const say = (s: string) => streams.stderr.write(`${s}\n`);
const stamp = () => new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);

/** RDS snapshot identifiers: a letter first, letters, digits and single hyphens, at most 255, no hyphen last. */
const SNAPSHOT_ID = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,254}(?<!-)$/;

export async function dbCommand(action: string, id: string | undefined, options: DbOptions): Promise<number> {
  // Flags first, before AWS is asked anything.
  if (!['snapshot', 'snapshots', 'restore', 'remove-old'].includes(action))
    throw new ConfigError(`touchdown db ${action}: use snapshot, snapshots, restore or remove-old`);
  if (options.name !== undefined && !SNAPSHOT_ID.test(options.name))
    throw new ConfigError(
      `--name ${options.name}: use letters, digits and single hyphens, a letter first, no hyphen last (at most 255)`,
    );
  if (action === 'restore' && !options.to)
    throw new ConfigError(
      'touchdown db restore needs --to: a time like 2026-12-06T21:30:00Z, or a snapshot from touchdown db snapshots',
    );
  if (action === 'remove-old' && !id)
    throw new ConfigError(
      'touchdown db remove-old needs the old database id (touchdown db snapshots lists them)',
    );
  const s = await openApp(options, `db ${action}`);
  s.close();
  try {
    const stack = s.app.stackName;
    const database = handlesOf(s.engine.stack).database;
    if (!database)
      throw new ConfigError(
        `${stack} has no database: declare database: in touchdown.yml and run touchdown deploy`,
      );
    const db = await stackDatabase(s.aws, stack, database.address);
    if (action === 'snapshot') return await snapshot(s, db, options);
    if (action === 'snapshots') return await snapshots(s, db, options);
    if (action === 'restore') return await restore(s, db, options.to!, options);
    return await removeOld(s, id!, options);
  } finally {
    s.close();
  }
}

async function snapshot(s: Session, db: DBInstance, options: DbOptions): Promise<number> {
  const dbId = db.DBInstanceIdentifier!;
  const name = options.name ?? `${dbId}-manual-${stamp()}`;
  if (!options.json) say(`taking snapshot ${name} of ${dbId}`);
  const arn = await snapshotDatabase(s.aws, dbId, name, {
    signal: s.signal,
    tags: { [SNAPSHOT_STACK_TAG]: s.app!.stackName },
    progress: options.json ? undefined : say,
  });
  out(options.json ? JSON.stringify({ snapshot: name, arn, database: dbId }, null, 2) : name);
  return 0;
}

async function snapshots(s: Session, db: DBInstance, options: DbOptions): Promise<number> {
  const former = await formerDatabases(s.aws, s.app!.stackName);
  const ids = [db.DBInstanceIdentifier!, ...former.map((d) => d.DBInstanceIdentifier!)];
  const all = (await Promise.all(ids.map((i) => listSnapshots(s.aws, i)))).flat();
  all.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
  const window = await restoreWindow(s.aws, db);
  if (options.json) {
    out(
      JSON.stringify(
        {
          database: db.DBInstanceIdentifier,
          restorableWindow: { earliest: window.earliest ?? null, latest: window.latest ?? null },
          snapshots: all,
          formerDatabases: ids.slice(1),
        },
        null,
        2,
      ),
    );
    return 0;
  }
  out(`${db.DBInstanceIdentifier} (the database ${s.app!.stackName} uses)`);
  out(
    window.earliest && window.latest
      ? `  point in time: any second from ${iso(window.earliest)} to ${iso(window.latest)} (touchdown db restore --to <time>)`
      : '  point in time: none yet (no automated backup; database.backups may be 0)',
  );
  if (all.length === 0) out('  no snapshots yet: touchdown db snapshot takes one');
  const width = Math.max(0, ...all.map((x) => x.id.length));
  for (const x of all)
    out(
      `  ${x.id.padEnd(width)}  ${x.type.padEnd(9)}  ${x.createdAt ? iso(x.createdAt) : 'not yet'}  ${x.sizeGb ?? '?'} GB  ${x.status}`,
    );
  for (const f of ids.slice(1))
    out(`  former database ${f}: kept until touchdown db remove-old ${f} --force`);
  return 0;
}

async function restore(s: Session, db: DBInstance, to: string, options: DbOptions): Promise<number> {
  const app = s.app!;
  // Everything that can be refused is refused here, before the first change.
  const source = await restoreSource(s.aws, app.stackName, db, to);
  const current = await new ReleaseHistory(s.aws, app.stackName).current();
  if (!current) throw new ConfigError(`${app.stackName} has no live release: run touchdown deploy first`);
  const { world } = await s.engine.plan();
  const oldId = db.DBInstanceIdentifier!;
  const newId = restoredName(oldId);
  const from = 'time' in source ? `${oldId} as it was at ${iso(source.time)}` : `snapshot ${to}`;
  if (!options.json)
    out(
      `${from} will be restored into a new database, ${newId} (same subnets, security group, class, parameter group, encryption). ` +
        `Once it answers, release ${current.number}'s image is deployed again as a new release using it. ${oldId} is kept, ` +
        `untouched, until touchdown db remove-old ${oldId} --force.`,
    );
  if (!(await confirm('Restore?', options))) {
    out('Nothing changed.');
    return 0;
  }
  await s.lock.acquire({ timeoutMs: parseDuration(options.lockTimeout ?? '0s'), signal: s.signal });
  try {
    const progress = options.json ? undefined : say;
    const restored = await restoreInto(s.aws, db, source, newId, { signal: s.signal, progress });
    await matchStorage(s.aws, db, newId);
    const problem = await check(
      s.aws,
      world,
      handlesOf(s.engine.stack),
      app.manifest,
      db,
      restored,
      s.signal,
    );
    if (problem)
      throw new Error(
        `the restored database ${newId} did not pass its check: ${problem}. The app still uses ${oldId}; ` +
          `look at ${newId}, then remove it with aws rds delete-db-instance --db-instance-identifier ${newId}`,
      );
    await s.lock.ensureHeld();
    await adopt(s.aws, app.stackName, db, restored);
    const result = await deploy({
      loaded: app,
      aws: s.aws,
      events: s.events,
      signal: s.signal,
      ...(app.manifest.web.compute === 'lambda' ? {} : { image: current.image }),
      note: `database restored from ${from} into ${newId}`,
      concurrency: options.concurrency,
      lease: s.lock,
    });
    s.close();
    const summary = {
      database: newId,
      endpoint: restored.hostPort,
      restoredFrom: 'time' in source ? iso(source.time) : to,
      formerDatabase: oldId,
      release: result.release?.number ?? null,
      status: result.status,
    };
    if (options.json) out(JSON.stringify(summary, null, 2));
    if (result.status !== 'deployed') {
      say(
        `${newId} is now the stack's database, but the release failed at ${result.failedStep}: ${result.message}. ` +
          `The app serves release ${current.number} on ${oldId} until touchdown deploy succeeds.`,
      );
      return 1;
    }
    if (!options.json)
      out(
        `Release ${result.release!.number} is live on ${newId} (${restored.hostPort}). ${oldId} is kept: ` +
          `touchdown db remove-old ${oldId} --force deletes it, with a final snapshot.`,
      );
    return 0;
  } finally {
    await s.lock.release();
  }
}

/**
 * The restored database answers the app: on ECS a one-off task of the serving release connects with the new
 * address and runs SELECT 1 (from inside the VPC, as the app will); on Lambda its endpoint must resolve.
 */
async function check(
  aws: AwsClients,
  world: World,
  handles: AppHandles,
  manifest: { web: { compute: string } },
  old: DBInstance,
  restored: { endpoint: string; hostPort: string },
  signal: AbortSignal,
): Promise<string | undefined> {
  if (!restored.endpoint) return 'RDS gave it no endpoint';
  if (manifest.web.compute === 'lambda') return resolves(restored.endpoint);
  const task = oneOffTask(world, handles);
  const ecs = await aws.ecs();
  const { taskDefinition } = await ecs.describeTaskDefinition({ taskDefinition: task.taskDefinition });
  const env = taskDefinition?.containerDefinitions?.find((c) => c.name === task.containerName)?.environment;
  const url = env?.find((e) => e.name === 'DATABASE_URL')?.value;
  const oldAddress = old.Endpoint?.Address;
  if (!url || !oldAddress || !url.includes(oldAddress))
    return `the serving release has no DATABASE_URL on ${oldAddress} to point elsewhere`;
  const result = await runTask(
    aws,
    {
      ...task,
      command: [
        'python',
        'manage.py',
        'shell',
        '-c',
        'from django.db import connection\nwith connection.cursor() as c: c.execute("SELECT 1")',
      ],
      environment: {
        DATABASE_URL: url.replace(`${oldAddress}:${old.Endpoint?.Port ?? 5432}`, restored.hostPort),
      },
    },
    { signal },
  );
  return result.exitCode === 0
    ? undefined
    : `a task connecting to it with SELECT 1 ended with ${result.exitCode ?? 'no exit code'} (${result.stoppedReason ?? 'no reason given'})`;
}

async function removeOld(s: Session, id: string, options: DbOptions): Promise<number> {
  if (!options.force)
    throw new ConfigError(
      `touchdown db remove-old ${id} deletes that database (a final snapshot is kept): add --force to say so`,
    );
  if (!options.json) out(`${id} will be deleted, leaving a final snapshot.`);
  if (!(await confirm('Delete it?', options))) {
    out('Nothing changed.');
    return 0;
  }
  await s.lock.acquire({ timeoutMs: parseDuration(options.lockTimeout ?? '0s'), signal: s.signal });
  try {
    const snapshotId = await removeFormer(s.aws, s.app!.stackName, id, {
      signal: s.signal,
      progress: options.json ? undefined : say,
    });
    out(
      options.json
        ? JSON.stringify({ deleted: id, finalSnapshot: snapshotId }, null, 2)
        : `${id} deleted; its final snapshot is ${snapshotId}`,
    );
    return 0;
  } finally {
    await s.lock.release();
  }
}
