// RDS PostgreSQL instance: the application's database. Its master password is generated here, kept in
// an SSM SecureString before the database exists, and never passes through arguments, plans or outputs.
// Snapshots, restores and their listing are beside it, in snapshots.ts.
import { randomBytes } from 'node:crypto';
import type {
  DBInstance as AwsInstance,
  CreateDBInstanceCommandInput,
  ModifyDBInstanceCommandInput,
  RDS,
} from '@aws-sdk/client-rds';
import type { SSM } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext, type WaitSpec } from '../../core/resource.js';
import { createOnce, ownedHere } from '../create-once.js';
import { errorCode, ignoreNotFound, isNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages, byMarker } from '../pages.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagList, tagMap, userTags } from '../tags.js';
import { updateRdsTags } from './common.js';

/** Kept on the instance, so that a delete (which sees only what AWS has) honours the declaration. */
const FINAL_SNAPSHOT_TAG = 'touchdown:final-snapshot';
/** The SSM parameter holding the master password, named on the instance so that outputs and delete find it. */
const PASSWORD_TAG = 'touchdown:password-parameter';
/**
 * The password parameter's stack. Not `touchdown:stack`: the SSM parameter type finds its own kind by that
 * tag and would delete this one as undeclared.
 */
const OWNER_STACK_TAG = 'touchdown:owner-stack';

/** States a database serves in (storage optimisation runs for hours after a storage change, online). */
const READY = new Set(['available', 'storage-optimization']);
/** States a database does not leave without someone's help. */
const FAILED = new Set([
  'failed',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'incompatible-credentials',
  'incompatible-network',
  'incompatible-option-group',
  'incompatible-parameters',
  'incompatible-restore',
  'insufficient-capacity',
  'restore-error',
  'storage-full',
]);

/** Letters, digits and underscores, a letter first: PostgreSQL's unquoted identifiers, as RDS wants them. */
const identifier = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_]{0,62}$/,
    'use 1 to 63 letters, digits and underscores, starting with a letter',
  );

const fields = {
  /** The database's label in this stack; its identifier in AWS is derived as `<stack>-<path>`, lower-case. */
  name: field(z.string().min(1).max(200)),
  /** Always 'postgres'. */
  engine: field(z.literal('postgres').default('postgres'), { replace: true }),
  /**
   * PostgreSQL version: a major version ('16') lets AWS pick and apply minor versions; a full one
   * ('16.4') pins it. Raising the major upgrades in place (minutes of downtime). @default '16'
   */
  engineVersion: field(
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, "write a major version like '16', or a full one like '16.4'")
      .default('16'),
  ),
  /** @default 'db.t4g.micro' (2 vCPU burstable, 1 GB; about $12 a month in us-east-1). */
  instanceClass: field(
    z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'write it like db.t4g.micro')
      .default('db.t4g.micro'),
  ),
  /** Storage in GB, 20 to 65536; it can grow in place but never shrink. @default 20 */
  allocatedStorage: field(z.number().int().min(20).max(65536).default(20)),
  /** Storage autoscaling: RDS grows storage up to this many GB when it runs low. @default null (off) */
  maxAllocatedStorage: field(z.number().int().min(21).max(65536).nullable().default(null)),
  /** @default 'gp3' */
  storageType: field(z.enum(['gp3', 'gp2']).default('gp3')),
  /** Encryption at rest. Changing it means a new database. @default true */
  storageEncrypted: field(z.boolean().default(true), { replace: true }),
  /**
   * The KMS key (ARN or key id; not an alias, which RDS reports as the key) encrypting storage.
   * Changing it means a new database. @default AWS's `aws/rds` key
   */
  kmsKeyId: field(input(z.string().min(1)).optional(), { replace: true, normalize: kmsKeyForm }),
  /** A standby in a second availability zone, failed over to automatically. Doubles the cost. @default false */
  multiAz: field(z.boolean().default(false)),
  /** Days of automated backups kept (point-in-time restore), 0 to 35; 0 turns backups off. @default 7 */
  backupRetentionDays: field(z.number().int().min(0).max(35).default(7)),
  /** AWS refuses to delete the database while on; `destroy --force` turns it off first. @default true */
  deletionProtection: field(z.boolean().default(true)),
  /** A public address; leave it off and reach the database from the app's security group. @default false */
  publiclyAccessible: field(z.boolean().default(false)),
  /** The database created inside the instance. Changing it means a new database. @default 'app' */
  dbName: field(identifier.default('app'), { replace: true }),
  /** The master user. Changing it means a new database. @default 'app' */
  masterUsername: field(identifier.default('app'), { replace: true }),
  /** The DB subnet group it lives in. Changing it means a new database. */
  subnetGroupName: field(input(z.string().min(1)), { replace: true }),
  /** A DB parameter group of the same major version. @default null: AWS's default group */
  parameterGroupName: field(input(z.string().min(1)).nullable().default(null)),
  /** Security groups controlling who reaches port 5432; at least one (without, AWS picks the VPC's default). */
  vpcSecurityGroupIds: field(z.array(input(z.string().min(1))).min(1), { unordered: true }),
  /**
   * The SSM SecureString parameter Touchdown keeps the generated master password in; only its name is
   * ever shown. @default `/<stack>/<path>/master-password`
   */
  passwordParameter: field(
    z
      .string()
      .max(256)
      .regex(
        /^(\/[A-Za-z0-9_.-]+)+$/,
        'write it like /app/prod/db-password: levels of letters, digits, ".", "-", "_"',
      )
      .optional(),
  ),
  /** Whether a delete leaves a final snapshot `<id>-final-<yyyymmddhhmm>`. @default true */
  finalSnapshot: field(z.boolean().default(true)),
  tags: field(tags()),
};

export interface DbInstanceOutputs {
  /** The DB instance identifier. */
  id: string;
  arn: string;
  /** The host name to connect to. */
  endpoint: string;
  port: number;
  /** `host:port`, for building DATABASE_URL (an output cannot be called `address`: resources have one). */
  hostPort: string;
  /** The DbiResourceId, used in IAM policies for database authentication. */
  resourceId: string;
  /** The name of the SSM parameter holding the master password (never the password). */
  passwordParameter: string;
}

type Args = ArgsOf<typeof fields>;
type InstanceFound = Found<Args, DbInstanceOutputs>;
export type Wait = <T>(spec: WaitSpec<T>) => Promise<T>;

export const DbInstance = defineResourceType({
  kind: 'db-instance',
  noun: 'RDS instance',
  listedAs: 'rds',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 360, update: 120, delete: 300 },
  fields,
  outputs: ['id', 'arn', 'endpoint', 'port', 'hostPort', 'resourceId', 'passwordParameter'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    const storage = args.allocatedStorage ?? 20;
    if (args.maxAllocatedStorage != null && args.maxAllocatedStorage <= storage) {
      problems.push(
        `maxAllocatedStorage: must be more than allocatedStorage (${storage} GB), or null to turn storage autoscaling off`,
      );
    }
    if (args.kmsKeyId !== undefined && args.storageEncrypted === false) {
      problems.push(
        'kmsKeyId: a KMS key is only used with storageEncrypted: true; set that, or remove kmsKeyId',
      );
    }
    return problems;
  },

  async find(ctx, wanted) {
    const rds = await ctx.aws.rds();
    // DescribeDBInstances returns every instance with its TagList, 100 a page: one call for a stack's
    // databases (the tagging API would need a second call to describe what it lists).
    const all = await allPages(
      (Marker) => rds.describeDBInstances({ Marker, MaxRecords: 100 }),
      (p) => p.DBInstances,
      byMarker,
    );
    const declared = new Map(wanted.map((w) => [w.address, w.args]));
    return all
      .filter((db) => tagMap(db.TagList)[STACK_TAG] === ctx.stack)
      .map((db) => read(db, declared.get(tagMap(db.TagList)[RESOURCE_TAG] ?? '')));
  },

  async create(ctx, args) {
    const [rds, ssm] = await Promise.all([ctx.aws.rds(), ctx.aws.ssm()]);
    const id = physicalName(ctx.stack, ctx.path, { max: 63, lowerCase: true, letterFirst: true });
    const parameter = args.passwordParameter ?? defaultPasswordParameter(ctx);
    // Saved before the database exists: a crash in between leaves a password to reuse, never a lost one.
    const password = await masterPassword(ctx, ssm, parameter, id);
    const request: CreateDBInstanceCommandInput = {
      DBInstanceIdentifier: id,
      Engine: args.engine,
      EngineVersion: args.engineVersion,
      DBInstanceClass: args.instanceClass,
      AllocatedStorage: args.allocatedStorage,
      MaxAllocatedStorage: args.maxAllocatedStorage ?? undefined,
      StorageType: args.storageType,
      StorageEncrypted: args.storageEncrypted,
      KmsKeyId: args.kmsKeyId,
      MultiAZ: args.multiAz,
      BackupRetentionPeriod: args.backupRetentionDays,
      DeletionProtection: args.deletionProtection,
      PubliclyAccessible: args.publiclyAccessible,
      DBName: args.dbName,
      MasterUsername: args.masterUsername,
      MasterUserPassword: password,
      DBSubnetGroupName: args.subnetGroupName,
      DBParameterGroupName: args.parameterGroupName ?? undefined,
      VpcSecurityGroupIds: args.vpcSecurityGroupIds,
      // Snapshots must not carry ownership tags: a restore from one would otherwise join this stack.
      CopyTagsToSnapshot: false,
      Tags: tagList(ctx.tags(instanceTags(args, parameter))),
    };
    // A retry after a lost answer meets DBInstanceAlreadyExists: ours by its tags, then waited for as usual.
    await createOnce(
      () => rds.createDBInstance(request),
      async () => {
        const db = await describe(rds, id);
        return db && { value: {}, ours: ownedHere(ctx, tagMap(db.TagList)) };
      },
    );
    const db = await untilReady(ctx.wait, rds, id, {
      what: `RDS instance "${ctx.path}" to become available`,
      timeoutMs: 60 * 60_000,
      hint:
        `RDS takes 5 to 20 minutes to create a database, more with Multi-AZ or large storage; run the same command ` +
        `again to keep waiting (the master password is already saved in ${parameter})`,
    });
    return read(db, args);
  },

  async update(ctx, found, args, changed) {
    const [rds, ssm] = await Promise.all([ctx.aws.rds(), ctx.aws.ssm()]);
    const id = found.id;
    const has = (name: keyof Args) => changed.includes(name);
    const current = await describe(rds, id);
    if (!current) throw new Error(`the database ${id} disappeared before it could be changed`);
    const request: ModifyDBInstanceCommandInput = { DBInstanceIdentifier: id, ApplyImmediately: true };
    if (has('engineVersion')) {
      const from = major(current.EngineVersion!);
      const to = major(args.engineVersion);
      if (to < from) {
        throw new Error(
          `PostgreSQL ${from} cannot be downgraded to ${to} in place: restore a snapshot into a new database instead`,
        );
      }
      request.EngineVersion = args.engineVersion;
      if (to !== from) {
        request.AllowMajorVersionUpgrade = true;
        ctx.progress(
          `upgrading PostgreSQL ${from} to ${to}: the database is unavailable for several minutes`,
        );
      }
    }
    if (has('instanceClass')) request.DBInstanceClass = args.instanceClass;
    if (has('allocatedStorage')) {
      if (args.allocatedStorage < (current.AllocatedStorage ?? 0)) {
        throw new Error(
          `RDS cannot shrink storage (it has ${current.AllocatedStorage} GB, ${args.allocatedStorage} GB are declared): ` +
            'declare at least the current size, or restore a dump into a new, smaller database',
        );
      }
      request.AllocatedStorage = args.allocatedStorage;
    }
    // Autoscaling is turned off by making the ceiling the current size.
    if (has('maxAllocatedStorage'))
      request.MaxAllocatedStorage = args.maxAllocatedStorage ?? current.AllocatedStorage;
    if (has('storageType')) request.StorageType = args.storageType;
    if (has('multiAz')) request.MultiAZ = args.multiAz;
    if (has('backupRetentionDays')) request.BackupRetentionPeriod = args.backupRetentionDays;
    if (has('deletionProtection')) request.DeletionProtection = args.deletionProtection;
    if (has('publiclyAccessible')) request.PubliclyAccessible = args.publiclyAccessible;
    if (has('vpcSecurityGroupIds')) request.VpcSecurityGroupIds = args.vpcSecurityGroupIds;
    if (has('parameterGroupName')) {
      request.DBParameterGroupName =
        args.parameterGroupName ?? `default.postgres${major(args.engineVersion)}`;
      ctx.progress('static parameters of the new parameter group apply at the next reboot');
    }
    if (Object.keys(request).length > 2) {
      await rds.modifyDBInstance(request);
      await untilReady(ctx.wait, rds, id, {
        what: `RDS instance "${ctx.path}" to apply its changes`,
        timeoutMs: 60 * 60_000,
        settled: true,
        hint:
          'instance class, storage and Multi-AZ changes can take 30 minutes or more; run the same command again to ' +
          `keep waiting. If it is stopped, start it first (aws rds start-db-instance --db-instance-identifier ${id})`,
      });
    }
    const before = found.args.passwordParameter ?? found.outputs.passwordParameter;
    const parameter = args.passwordParameter ?? before ?? defaultPasswordParameter(ctx);
    if (has('passwordParameter') && before) await movePassword(ctx, ssm, before, parameter, id);
    if (has('tags') || has('finalSnapshot') || has('passwordParameter')) {
      const have: TagMap = {
        ...found.args.tags,
        [FINAL_SNAPSHOT_TAG]: String(found.args.finalSnapshot ?? true),
      };
      if (before) have[PASSWORD_TAG] = before;
      await updateRdsTags(rds, found.outputs.arn, have, instanceTags(args, parameter));
    }
    const db = await describe(rds, id);
    if (!db) throw new Error(`the database ${id} disappeared while it was being changed`);
    return read(db, args);
  },

  async holdsData(ctx, found) {
    const rds = await ctx.aws.rds();
    const db = await describe(rds, found.id);
    if (!db || db.DBInstanceStatus === 'deleting') return undefined;
    return `a PostgreSQL database, ${db.AllocatedStorage} GB`;
  },

  async empty(ctx, found) {
    const rds = await ctx.aws.rds();
    const db = await describe(rds, found.id);
    if (!db?.DeletionProtection) return;
    ctx.progress('turning deletion protection off');
    await rds.modifyDBInstance({
      DBInstanceIdentifier: found.id,
      DeletionProtection: false,
      ApplyImmediately: true,
    });
    // The change takes effect once the instance is "available" again: a delete sent while it is "modifying"
    // is refused as one of a protected instance.
    await untilReady(ctx.wait, rds, found.id, {
      what: `RDS instance "${ctx.path}" to lift its deletion protection`,
      timeoutMs: 30 * 60_000,
      settled: true,
      hint: 'look at the instance in the RDS console; run the same command again to keep waiting',
    });
  },

  async delete(ctx, found) {
    const [rds, ssm] = await Promise.all([ctx.aws.rds(), ctx.aws.ssm()]);
    const id = found.id;
    if (found.args.finalSnapshot === false) {
      await startDelete(rds, id, { SkipFinalSnapshot: true });
    } else {
      const snapshot = await deleteWithSnapshot(rds, id);
      if (snapshot) ctx.progress(`taking the final snapshot ${snapshot}`);
    }
    await ctx.wait({
      what: `RDS instance "${ctx.path}" to be deleted`,
      timeoutMs: 60 * 60_000,
      hint: 'RDS takes 5 to 15 minutes to delete a database and take its final snapshot; run the same command again to keep waiting',
      check: async () => {
        const db = await describe(rds, id);
        return db
          ? { done: false, state: db.DBInstanceStatus ?? 'deleting' }
          : { done: true, value: undefined };
      },
    });
    // Only once the database is gone: until then the password is the way in.
    const parameter = found.outputs.passwordParameter || found.args.passwordParameter;
    if (parameter) await ignoreNotFound(ssm.deleteParameter({ Name: parameter }), 'ParameterNotFound');
  },
});

function instanceTags(args: Args, parameter: string): TagMap {
  return { ...args.tags, [PASSWORD_TAG]: parameter, [FINAL_SNAPSHOT_TAG]: String(args.finalSnapshot) };
}

function defaultPasswordParameter(ctx: OpContext): string {
  const level = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '-');
  return `/${level(ctx.stack)}/${ctx.path.split('/').map(level).join('/')}/master-password`;
}

/** 30 random bytes as base64url: 40 letters, digits, "-" and "_", all allowed by RDS and safe in a URL. */
function generatePassword(): string {
  return randomBytes(30).toString('base64url');
}

/** The password saved for this database, or a new one saved now. Refuses a parameter someone else owns. */
async function masterPassword(ctx: OpContext, ssm: SSM, name: string, id: string): Promise<string> {
  const existing = await ignoreNotFound(
    ssm.getParameter({ Name: name, WithDecryption: true }),
    'ParameterNotFound',
  );
  const value = existing?.Parameter?.Value;
  if (value !== undefined) {
    const { TagList } = await ssm.listTagsForResource({ ResourceType: 'Parameter', ResourceId: name });
    const t = tagMap(TagList);
    if (t[RESOURCE_TAG] !== ctx.address || t[OWNER_STACK_TAG] !== ctx.stack) {
      throw new Error(
        `the SSM parameter ${name} already exists and is not this database's password: ` +
          'set passwordParameter to another name, or delete that parameter',
      );
    }
    ctx.progress(`reusing the master password an interrupted run saved in ${name}`);
    return value;
  }
  const password = generatePassword();
  // After a lost answer the parameter holds this very password when its tags name this database.
  await createOnce(
    () =>
      ssm.putParameter({
        Name: name,
        Type: 'SecureString',
        Value: password,
        Description: `Master password of the RDS instance ${id} (managed by Touchdown)`,
        Tags: tagList(passwordTags(ctx)),
      }),
    async () => {
      const t = await ignoreNotFound(
        ssm.listTagsForResource({ ResourceType: 'Parameter', ResourceId: name }),
        'ParameterNotFound',
        'InvalidResourceId',
      );
      const tags = tagMap(t?.TagList);
      return (
        t && { value: {}, ours: tags[RESOURCE_TAG] === ctx.address && tags[OWNER_STACK_TAG] === ctx.stack }
      );
    },
  );
  return password;
}

function passwordTags(ctx: OpContext): TagMap {
  return { [RESOURCE_TAG]: ctx.address, [OWNER_STACK_TAG]: ctx.stack };
}

/** Moves the password to a new parameter name; the database keeps the same password. */
async function movePassword(ctx: OpContext, ssm: SSM, from: string, to: string, id: string): Promise<void> {
  const { Parameter } = await ssm.getParameter({ Name: from, WithDecryption: true });
  await ssm.putParameter({
    Name: to,
    Type: 'SecureString',
    Value: Parameter!.Value!,
    Description: `Master password of the RDS instance ${id} (managed by Touchdown)`,
    Tags: tagList(passwordTags(ctx)),
  });
  await ignoreNotFound(ssm.deleteParameter({ Name: from }), 'ParameterNotFound');
}

/** Starts the delete with a final snapshot; a second delete within the minute gets seconds in the name. */
async function deleteWithSnapshot(rds: RDS, id: string): Promise<string | undefined> {
  const now = new Date();
  const minute = `${id}-final-${stamp(now).slice(0, 12)}`;
  try {
    return (await startDelete(rds, id, { FinalDBSnapshotIdentifier: minute })) ? minute : undefined;
  } catch (err) {
    if (!/^DBSnapshotAlreadyExists/.test(errorCode(err))) throw err;
    const second = `${id}-final-${stamp(now)}`;
    return (await startDelete(rds, id, { FinalDBSnapshotIdentifier: second })) ? second : undefined;
  }
}

/** True when this call started the delete; false when the database is gone or already being deleted. */
async function startDelete(
  rds: RDS,
  id: string,
  snapshot: { FinalDBSnapshotIdentifier: string } | { SkipFinalSnapshot: true },
): Promise<boolean> {
  try {
    await rds.deleteDBInstance({ DBInstanceIdentifier: id, ...snapshot });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    // An interrupted run already started it: only the wait is left.
    if (
      /^InvalidDBInstanceState/.test(errorCode(err)) &&
      (await describe(rds, id))?.DBInstanceStatus === 'deleting'
    )
      return false;
    throw err;
  }
}

/** yyyymmddhhmmss in UTC. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function major(version: string): number {
  return Number(version.split('.')[0]);
}

/** A key ARN and a key id compare by the id. */
function kmsKeyForm(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return /^arn:[^:]+:kms:[^:]*:[^:]*:key\/(.+)$/.exec(value)?.[1] ?? value;
}

async function describe(rds: RDS, id: string): Promise<AwsInstance | undefined> {
  const answer = await ignoreNotFound(rds.describeDBInstances({ DBInstanceIdentifier: id }));
  return answer?.DBInstances?.[0];
}

/** Waits until the database serves; with `settled`, also until no modification is pending. Fails on a failed state. */
export async function untilReady(
  wait: Wait,
  rds: RDS,
  id: string,
  spec: { what: string; timeoutMs: number; hint: string; settled?: boolean },
): Promise<AwsInstance> {
  return wait({
    what: spec.what,
    timeoutMs: spec.timeoutMs,
    hint: spec.hint,
    check: async () => {
      const db = await describe(rds, id);
      if (!db) throw new Error(`the database ${id} disappeared while waiting for it`);
      const status = db.DBInstanceStatus ?? 'unknown';
      if (FAILED.has(status)) {
        throw new Error(
          `the database ${id} is "${status}", which RDS does not leave on its own: ` +
            'see its events in the RDS console (or aws rds describe-events), fix the cause, then run again',
        );
      }
      const pending = spec.settled ? pendingChanges(db) : [];
      if (READY.has(status) && pending.length === 0) return { done: true, value: db };
      return { done: false, state: pending.length > 0 ? `${status}, pending ${pending.join(', ')}` : status };
    },
  });
}

function pendingChanges(db: AwsInstance): string[] {
  return Object.entries(db.PendingModifiedValues ?? {})
    .filter(([, v]) => v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => k);
}

/** What AWS has, in the arguments' shape; versions and autoscaled storage read as declared where they agree. */
export function read(db: AwsInstance, declared: Partial<Args> | undefined): InstanceFound {
  const t = tagMap(db.TagList);
  const id = db.DBInstanceIdentifier!;
  const host = db.Endpoint?.Address ?? '';
  const port = db.Endpoint?.Port ?? db.DbInstancePort ?? 5432;
  const storage = db.AllocatedStorage ?? 0;
  const ceiling =
    db.MaxAllocatedStorage !== undefined && db.MaxAllocatedStorage > storage ? db.MaxAllocatedStorage : null;
  const group = db.DBParameterGroups?.[0]?.DBParameterGroupName;
  const args: Partial<Args> = {
    engine: db.Engine as 'postgres',
    engineVersion: versionAsDeclared(db.EngineVersion ?? '', declared?.engineVersion),
    instanceClass: db.DBInstanceClass,
    // Autoscaling grows storage past the declared size: that is not a change to undo.
    allocatedStorage:
      ceiling !== null && declared?.allocatedStorage !== undefined && storage > declared.allocatedStorage
        ? declared.allocatedStorage
        : storage,
    maxAllocatedStorage: ceiling,
    storageType: db.StorageType as Args['storageType'],
    storageEncrypted: db.StorageEncrypted ?? false,
    multiAz: db.MultiAZ ?? false,
    backupRetentionDays: db.BackupRetentionPeriod,
    deletionProtection: db.DeletionProtection ?? false,
    publiclyAccessible: db.PubliclyAccessible ?? false,
    dbName: db.DBName,
    masterUsername: db.MasterUsername,
    subnetGroupName: db.DBSubnetGroup?.DBSubnetGroupName,
    parameterGroupName: group && !group.startsWith('default.') ? group : null,
    vpcSecurityGroupIds: (db.VpcSecurityGroups ?? [])
      .filter((g) => g.Status !== 'removing')
      .map((g) => g.VpcSecurityGroupId!),
    finalSnapshot: t[FINAL_SNAPSHOT_TAG] !== 'false',
    tags: userTags(t),
  };
  if (db.KmsKeyId) args.kmsKeyId = db.KmsKeyId;
  if (t[PASSWORD_TAG]) args.passwordParameter = t[PASSWORD_TAG];
  return {
    key: t[RESOURCE_TAG] ?? id,
    id,
    args,
    outputs: {
      id,
      arn: db.DBInstanceArn!,
      endpoint: host,
      port,
      hostPort: `${host}:${port}`,
      resourceId: db.DbiResourceId ?? '',
      passwordParameter: t[PASSWORD_TAG] ?? '',
    },
  };
}

/** '16.4' reads as '16' when '16' is declared: a major version lets AWS choose the minor one. */
function versionAsDeclared(actual: string, declared: string | undefined): string {
  return declared !== undefined && (actual === declared || actual.startsWith(`${declared}.`))
    ? declared
    : actual;
}

// ---- operations beside the resource ----
