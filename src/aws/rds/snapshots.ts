// Snapshots of an RDS instance: take one before a release's migrations, restore one (or a point in time) to
// a new database, list them for rollbacks. The database itself is the resource type in instance.ts.
import { DEFAULT_WAIT_TIMING, type WaitTiming, waitFor } from '../../core/wait.js';
import type { AwsClients } from '../clients.js';
import { allPages, byMarker } from '../pages.js';
import { tagList } from '../tags.js';
import { read, untilReady, type Wait } from './instance.js';

export interface OperationOptions {
  signal?: AbortSignal;
  timing?: WaitTiming;
  progress?: (message: string) => void;
}

function waiterFor(options: OperationOptions): Wait {
  return (spec) =>
    waitFor(spec, {
      timing: options.timing ?? DEFAULT_WAIT_TIMING,
      signal: options.signal ?? new AbortController().signal,
      progress: (state) => options.progress?.(`waiting: ${state}`),
    });
}

/**
 * Takes a manual snapshot of a database (kept until deleted, unlike automated backups) and waits until
 * it is complete. Returns the snapshot's ARN.
 *
 * @example await snapshotDatabase(aws, 'xkcd-prod-db', `xkcd-prod-db-before-${release}`, { progress })
 */
export async function snapshotDatabase(
  aws: AwsClients,
  instanceId: string,
  snapshotId: string,
  options: OperationOptions & { tags?: Record<string, string> } = {},
): Promise<string> {
  const rds = await aws.rds();
  await rds.createDBSnapshot({
    DBInstanceIdentifier: instanceId,
    DBSnapshotIdentifier: snapshotId,
    ...(options.tags ? { Tags: tagList(options.tags) } : {}),
  });
  options.progress?.(`taking snapshot ${snapshotId}`);
  return waiterFor(options)({
    what: `snapshot "${snapshotId}" of RDS instance "${instanceId}" to complete`,
    timeoutMs: 2 * 60 * 60_000,
    hint: `a snapshot takes minutes to hours depending on the database's size; it continues in AWS: follow it with aws rds describe-db-snapshots --db-snapshot-identifier ${snapshotId}`,
    check: async () => {
      const { DBSnapshots } = await rds.describeDBSnapshots({ DBSnapshotIdentifier: snapshotId });
      const s = DBSnapshots?.[0];
      if (s?.Status === 'failed') throw new Error(`the snapshot ${snapshotId} of ${instanceId} failed`);
      return s?.Status === 'available'
        ? { done: true, value: s.DBSnapshotArn! }
        : { done: false, state: s?.Status ?? 'creating' };
    },
  });
}

export interface RestoreRequest {
  /** A snapshot, or a point in time of an instance's automated backups ('latest': the newest restorable). */
  from: { snapshotId: string } | { instanceId: string; time: Date | 'latest' };
  /** The new instance's identifier; the source is left as it is. */
  newInstanceId: string;
  subnetGroupName: string;
  vpcSecurityGroupIds: string[];
  /** @default the source's class */
  instanceClass?: string;
  /** Tags of the new instance. Ownership tags are never copied: the restored database belongs to no stack. */
  tags?: Record<string, string>;
  /** Settings AWS gives a restored instance from its defaults, not from the source: pass the source's to keep them. */
  same?: {
    DBParameterGroupName?: string;
    MultiAZ?: boolean;
    StorageType?: string;
    BackupRetentionPeriod?: number;
    DeletionProtection?: boolean;
    /** Point in time only: a snapshot restore leaves storage autoscaling off. */
    MaxAllocatedStorage?: number;
  };
}

export interface RestoredDatabase {
  id: string;
  arn: string;
  endpoint: string;
  port: number;
  /** `host:port` */
  hostPort: string;
}

/**
 * Restores a snapshot or a point in time into a new, private database and waits until it is available.
 * Its master password is the source's (the source's SSM parameter still applies).
 *
 * @example await restoreDatabase(aws, { from: { instanceId: 'xkcd-prod-db', time: 'latest' }, newInstanceId: 'xkcd-prod-db-restored', subnetGroupName, vpcSecurityGroupIds })
 */
export async function restoreDatabase(
  aws: AwsClients,
  request: RestoreRequest,
  options: OperationOptions = {},
): Promise<RestoredDatabase> {
  const rds = await aws.rds();
  const source = 'snapshotId' in request.from ? request.from.snapshotId : request.from.instanceId;
  const { MaxAllocatedStorage, ...same } = request.same ?? {};
  const common = {
    DBSubnetGroupName: request.subnetGroupName,
    VpcSecurityGroupIds: request.vpcSecurityGroupIds,
    DBInstanceClass: request.instanceClass,
    PubliclyAccessible: false,
    ...same,
    // Snapshots must not carry the new instance's tags (a restore from one would join its stack).
    CopyTagsToSnapshot: false,
    // Explicit tags, so that RDS does not give the new instance the snapshot's (or source's) own.
    Tags: tagList({ ...request.tags, 'touchdown:restored-from': source }),
  };
  if ('snapshotId' in request.from) {
    await rds.restoreDBInstanceFromDBSnapshot({
      DBSnapshotIdentifier: request.from.snapshotId,
      DBInstanceIdentifier: request.newInstanceId,
      ...common,
    });
  } else {
    const { time } = request.from;
    await rds.restoreDBInstanceToPointInTime({
      SourceDBInstanceIdentifier: request.from.instanceId,
      TargetDBInstanceIdentifier: request.newInstanceId,
      ...(time === 'latest' ? { UseLatestRestorableTime: true } : { RestoreTime: time }),
      ...common,
      MaxAllocatedStorage,
    });
  }
  options.progress?.(`restoring ${source} into ${request.newInstanceId}`);
  const db = await untilReady(waiterFor(options), rds, request.newInstanceId, {
    what: `RDS instance "${request.newInstanceId}" restored from "${source}" to become available`,
    timeoutMs: 2 * 60 * 60_000,
    hint: `a restore takes 10 minutes to hours depending on the data; it continues in AWS: follow it with aws rds describe-db-instances --db-instance-identifier ${request.newInstanceId}`,
  });
  const { outputs } = read(db, undefined);
  return {
    id: outputs.id,
    arn: outputs.arn,
    endpoint: outputs.endpoint,
    port: outputs.port,
    hostPort: outputs.hostPort,
  };
}

export interface DatabaseSnapshot {
  id: string;
  arn: string;
  /** 'manual' (kept until deleted) or 'automated' (kept for the backup retention period). */
  type: string;
  status: string;
  createdAt?: Date;
  sizeGb?: number;
}

/** A database's snapshots, manual and automated, newest first. */
export async function listSnapshots(aws: AwsClients, instanceId: string): Promise<DatabaseSnapshot[]> {
  const rds = await aws.rds();
  const snapshots = await allPages(
    (Marker) => rds.describeDBSnapshots({ DBInstanceIdentifier: instanceId, Marker, MaxRecords: 100 }),
    (p) => p.DBSnapshots,
    byMarker,
  );
  return snapshots
    .map((s) => ({
      id: s.DBSnapshotIdentifier!,
      arn: s.DBSnapshotArn!,
      type: s.SnapshotType ?? 'manual',
      status: s.Status ?? 'unknown',
      createdAt: s.SnapshotCreateTime,
      sizeGb: s.AllocatedStorage,
    }))
    .sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
}
