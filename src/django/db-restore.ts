// `touchdown db`: the stack's PostgreSQL snapshots, and restores into a NEW instance that the stack adopts.
// The stack finds its database by tag (no state file), so adopting is moving the ownership tags: the restored
// instance takes the old one's, and the old one keeps `touchdown:former-stack` instead, out of every plan's
// sight (a plan neither changes nor deletes it) until `db remove-old` deletes it with a final snapshot.
import { lookup } from 'node:dns/promises';
import type { DBInstance, DBSnapshot } from '@aws-sdk/client-rds';
import type { AwsClients } from '../aws/clients.js';
import { isNotFound } from '../aws/errors.js';
import { allPages, byMarker } from '../aws/pages.js';
import { untilReady } from '../aws/rds/instance.js';
import { type OperationOptions, type RestoredDatabase, restoreDatabase } from '../aws/rds/snapshots.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagList, tagMap } from '../aws/tags.js';
import { ConfigError } from '../core/errors.js';
import type { WaitSpec } from '../core/resource.js';
import { DEFAULT_WAIT_TIMING, type WaitTiming, waitFor } from '../core/wait.js';

/** On a replaced database: the stack it served, so `db remove-old` finds it and nothing else does. */
export const FORMER_STACK_TAG = 'touchdown:former-stack';
/** On a manual snapshot: the stack whose database it is (not touchdown:stack, which would make it a resource). */
export const SNAPSHOT_STACK_TAG = 'touchdown:snapshot-of-stack';
const RESTORED_FROM_TAG = 'touchdown:restored-from';

/** The database the stack uses now: the instance holding the ownership tags of the blueprint's database (its address). */
export async function stackDatabase(aws: AwsClients, stack: string, address: string): Promise<DBInstance> {
  const found = (await instances(aws)).filter((db) => {
    const t = tagMap(db.TagList);
    return t[STACK_TAG] === stack && t[RESOURCE_TAG] === address;
  });
  if (found.length === 0) throw new ConfigError(`${stack} has no database yet: run touchdown deploy first`);
  return found[0]!;
}

/** Databases the stack used before a restore, kept until `db remove-old`. */
export async function formerDatabases(aws: AwsClients, stack: string): Promise<DBInstance[]> {
  return (await instances(aws)).filter((db) => tagMap(db.TagList)[FORMER_STACK_TAG] === stack);
}

async function instances(aws: AwsClients): Promise<DBInstance[]> {
  const rds = await aws.rds();
  return allPages(
    (Marker) => rds.describeDBInstances({ Marker, MaxRecords: 100 }),
    (p) => p.DBInstances,
    byMarker,
  );
}

export interface RestoreWindow {
  earliest?: Date;
  latest?: Date;
}

/**
 * From when to when the database can be restored to: its automated backups' RestoreWindow.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreWindow.html
 */
export async function restoreWindow(aws: AwsClients, db: DBInstance): Promise<RestoreWindow> {
  const rds = await aws.rds();
  const { DBInstanceAutomatedBackups } = await rds.describeDBInstanceAutomatedBackups({
    DBInstanceIdentifier: db.DBInstanceIdentifier,
  });
  const window = DBInstanceAutomatedBackups?.find((b) => b.Status === 'active')?.RestoreWindow;
  return {
    ...(window?.EarliestTime ? { earliest: window.EarliestTime } : {}),
    ...((db.LatestRestorableTime ?? window?.LatestTime)
      ? { latest: db.LatestRestorableTime ?? window?.LatestTime }
      : {}),
  };
}

export type RestoreSource = { time: Date } | { snapshot: DBSnapshot };

/**
 * What `--to` names: an ISO time within the restorable window, or a snapshot of this stack's database
 * (the current one or a former one). Refused with the reason before anything changes.
 */
export async function restoreSource(
  aws: AwsClients,
  stack: string,
  db: DBInstance,
  to: string,
): Promise<RestoreSource> {
  if (/^\d{4}-\d{2}-\d{2}T/.test(to)) {
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(to))
      throw new ConfigError(`--to ${to}: say the time zone, e.g. ${to}Z for UTC`);
    const time = new Date(to);
    if (Number.isNaN(time.getTime()))
      throw new ConfigError(`--to ${to}: not a time; write it like 2026-12-06T21:30:00Z`);
    if (db.BackupRetentionPeriod === 0)
      throw new ConfigError(
        `${db.DBInstanceIdentifier} keeps no automated backups (database.backups is 0), so it has no point in time to restore: restore a snapshot instead (touchdown db snapshots)`,
      );
    // Any time up to LatestRestorableTime, as far back as the backups reach (API_RestoreDBInstanceToPointInTime).
    const w = await restoreWindow(aws, db);
    if (!w.earliest || !w.latest || time < w.earliest || time > w.latest)
      throw new ConfigError(
        `--to ${to}: ${db.DBInstanceIdentifier} can be restored to a time ` +
          (w.earliest && w.latest
            ? `from ${iso(w.earliest)} to ${iso(w.latest)}`
            : 'once its first automated backup exists') +
          '; pick one in that window (touchdown db snapshots shows it)',
      );
    return { time };
  }
  const rds = await aws.rds();
  let snapshot: DBSnapshot | undefined;
  try {
    snapshot = (await rds.describeDBSnapshots({ DBSnapshotIdentifier: to })).DBSnapshots?.[0];
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!snapshot)
    throw new ConfigError(
      `--to ${to}: no snapshot by that name, and not a time (write times like 2026-12-06T21:30:00Z); touchdown db snapshots lists them`,
    );
  const former = (await formerDatabases(aws, stack)).map((d) => d.DBInstanceIdentifier);
  const tags = tagMap(snapshot.TagList);
  const ours =
    snapshot.DBInstanceIdentifier === db.DBInstanceIdentifier ||
    former.includes(snapshot.DBInstanceIdentifier) ||
    tags[SNAPSHOT_STACK_TAG] === stack;
  if (!ours)
    throw new ConfigError(
      `--to ${to}: that snapshot is of ${snapshot.DBInstanceIdentifier}, not of ${stack}'s database; touchdown db snapshots lists its own`,
    );
  // A restore keeps the snapshot's encryption: an unencrypted copy of an encrypted database is refused.
  if (Boolean(snapshot.Encrypted) !== Boolean(db.StorageEncrypted))
    throw new ConfigError(
      `--to ${to}: the snapshot is ${snapshot.Encrypted ? 'encrypted' : 'not encrypted'} but ${db.DBInstanceIdentifier} ${db.StorageEncrypted ? 'is' : 'is not'}; ` +
        'copy it with aws rds copy-db-snapshot --kms-key-id to an encrypted one, then restore the copy',
    );
  if (snapshot.Status !== 'available')
    throw new ConfigError(`--to ${to}: the snapshot is "${snapshot.Status}"; wait until it is available`);
  return { snapshot };
}

/** `<db>-restored-<yyyymmddhhmmss>`, from the first database's name (a restore of a restore does not grow it). */
export function restoredName(current: string, now = new Date()): string {
  const base = current.replace(/-restored-\d{14}$/, '');
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // RDS identifiers: at most 63 characters, no hyphen at the end of the base.
  return `${base.slice(0, 63 - 24).replace(/-+$/, '')}-restored-${stamp}`;
}

/**
 * Restores into a new instance in the same subnet group and security groups, with the same class, parameter
 * group, Multi-AZ, storage, backups and deletion protection (encryption and its key come with the data), and
 * waits until it is available. It joins no stack yet: `adopt` does that once it has been checked.
 * Each is given: AWS would otherwise take the default security group, subnet group and parameter group, single-AZ.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RestoreDBInstanceToPointInTime.html
 */
export async function restoreInto(
  aws: AwsClients,
  db: DBInstance,
  source: RestoreSource,
  newId: string,
  options: OperationOptions,
): Promise<RestoredDatabase> {
  const group = db.DBParameterGroups?.[0]?.DBParameterGroupName;
  const storage = db.AllocatedStorage ?? 0;
  return restoreDatabase(
    aws,
    {
      from:
        'time' in source
          ? { instanceId: db.DBInstanceIdentifier!, time: source.time }
          : { snapshotId: source.snapshot.DBSnapshotIdentifier! },
      newInstanceId: newId,
      subnetGroupName: db.DBSubnetGroup!.DBSubnetGroupName!,
      vpcSecurityGroupIds: (db.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId!),
      instanceClass: db.DBInstanceClass,
      same: {
        ...(group && !group.startsWith('default.') ? { DBParameterGroupName: group } : {}),
        MultiAZ: db.MultiAZ ?? false,
        ...(db.StorageType ? { StorageType: db.StorageType } : {}),
        BackupRetentionPeriod: db.BackupRetentionPeriod ?? 7,
        DeletionProtection: db.DeletionProtection ?? true,
        ...(db.MaxAllocatedStorage && db.MaxAllocatedStorage > storage
          ? { MaxAllocatedStorage: db.MaxAllocatedStorage }
          : {}),
      },
    },
    options,
  );
}

/** Storage autoscaling, which a snapshot restore cannot set, put back as the old database had it. */
export async function matchStorage(aws: AwsClients, old: DBInstance, restored: string): Promise<void> {
  const rds = await aws.rds();
  const [now] = (await rds.describeDBInstances({ DBInstanceIdentifier: restored })).DBInstances ?? [];
  const want = old.MaxAllocatedStorage;
  if (!now || !want || want <= (old.AllocatedStorage ?? 0) || now.MaxAllocatedStorage === want) return;
  await rds.modifyDBInstance({
    DBInstanceIdentifier: restored,
    MaxAllocatedStorage: want,
    ApplyImmediately: true,
  });
}

/** The restored endpoint answers DNS (RDS publishes it once the instance is available). */
export async function resolves(host: string): Promise<string | undefined> {
  try {
    await lookup(host);
    return undefined;
  } catch (err) {
    return `its endpoint ${host} does not resolve (${(err as NodeJS.ErrnoException).code})`;
  }
}

/**
 * Moves the stack's ownership tags from the old database to the restored one: from now on every plan, deploy
 * and status finds the restored one as the stack's `db`, and the old one as nothing of the stack's.
 */
export async function adopt(aws: AwsClients, stack: string, old: DBInstance, restored: RestoredDatabase) {
  const rds = await aws.rds();
  const tags = tagMap(old.TagList);
  // Everything but AWS's own and the old one's history: the restored one names its own source.
  const moved: TagMap = Object.fromEntries(
    Object.entries(tags).filter(([k]) => !k.startsWith('aws:') && k !== RESTORED_FROM_TAG),
  );
  await rds.addTagsToResource({ ResourceName: restored.arn, Tags: tagList(moved) });
  await rds.addTagsToResource({
    ResourceName: old.DBInstanceArn!,
    Tags: tagList({ [FORMER_STACK_TAG]: stack, 'touchdown:replaced-by': restored.id }),
  });
  await rds.removeTagsFromResource({ ResourceName: old.DBInstanceArn!, TagKeys: [STACK_TAG, RESOURCE_TAG] });
}

/**
 * Deletes a database the stack replaced, leaving a final snapshot (deletion protection is lifted first).
 * Its password parameter stays: the restored database has the same master password.
 */
export async function removeFormer(
  aws: AwsClients,
  stack: string,
  id: string,
  options: { signal: AbortSignal; timing?: WaitTiming; progress?: (m: string) => void },
): Promise<string> {
  const former = await formerDatabases(aws, stack);
  const db = former.find((d) => d.DBInstanceIdentifier === id);
  if (!db)
    throw new ConfigError(
      `${id} is not a database ${stack} replaced; these are: ${former.map((d) => d.DBInstanceIdentifier).join(', ') || 'none'}`,
    );
  const rds = await aws.rds();
  const wait = <T>(spec: WaitSpec<T>) =>
    waitFor(spec, {
      timing: options.timing ?? DEFAULT_WAIT_TIMING,
      signal: options.signal,
      progress: (state) => options.progress?.(`waiting: ${state}`),
    });
  if (db.DeletionProtection) {
    options.progress?.(`turning deletion protection of ${id} off`);
    await rds.modifyDBInstance({
      DBInstanceIdentifier: id,
      DeletionProtection: false,
      ApplyImmediately: true,
    });
    // A delete sent while the instance is still "modifying" is refused as one of a protected instance.
    await untilReady(wait, rds, id, {
      what: `RDS instance "${id}" to lift its deletion protection`,
      timeoutMs: 30 * 60_000,
      settled: true,
      hint: 'look at the instance in the RDS console; run the same command again to keep waiting',
    });
  }
  const snapshot = `${id}-final-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
  await rds.deleteDBInstance({ DBInstanceIdentifier: id, FinalDBSnapshotIdentifier: snapshot });
  options.progress?.(`deleting ${id}, taking the final snapshot ${snapshot}`);
  await wait({
    what: `RDS instance "${id}" to be deleted`,
    timeoutMs: 60 * 60_000,
    hint: `RDS takes 5 to 15 minutes to delete a database and take its final snapshot; it continues in AWS (aws rds describe-db-instances --db-instance-identifier ${id})`,
    check: async () => {
      try {
        const [d] = (await rds.describeDBInstances({ DBInstanceIdentifier: id })).DBInstances ?? [];
        return d
          ? { done: false, state: d.DBInstanceStatus ?? 'deleting' }
          : { done: true, value: undefined };
      } catch (err) {
        if (isNotFound(err)) return { done: true, value: undefined };
        throw err;
      }
    },
  });
  return snapshot;
}

export const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;
