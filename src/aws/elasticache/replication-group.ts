// ElastiCache replication group: a Valkey or Redis primary with up to five read replicas, for Django's
// cache and sessions (REDIS_URL). Not a data store: it holds a cache and sessions, whose loss logs users
// out and nothing more; with snapshotRetentionDays > 0 its delete still leaves a final snapshot.
import type {
  CacheCluster,
  ElastiCache,
  ModifyReplicationGroupCommandInput,
  ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound, isNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages, byMarker } from '../pages.js';
import { RESOURCE_TAG, type TagMap, tagList, userTags } from '../tags.js';
import {
  type CacheInAws,
  createOverDeleting,
  deleteCache,
  known,
  readTags,
  stackElastiCache,
  untilAvailable,
  updateElastiCacheTags,
} from './common.js';

/** Engine versions compare by major.minor: AWS reports the patch level it runs (7.2.4). */
const majorMinor = (v: unknown) => (typeof v === 'string' ? v.split('.').slice(0, 2).join('.') : v);

const fields = {
  /** Its id in AWS is derived from the path, as `<stack>-<path>` in lower case, at most 40 characters. */
  name: field(z.string().min(1).max(200)),
  /** @default 'valkey' (the open-source Redis fork, cheaper on ElastiCache). Changing it means a new group. */
  engine: field(z.enum(['valkey', 'redis']).default('valkey'), { replace: true }),
  /** Major.minor, e.g. '8.0' (Valkey) or '7.1' (Redis); upgraded in place. @default the newest AWS offers */
  engineVersion: field(
    z
      .string()
      .regex(/^\d+\.\d+$/, "write the engine version as major.minor, e.g. '8.0'")
      .optional(),
    { normalize: majorMinor },
  ),
  /** @default 'cache.t4g.micro'; changed in place (online scaling). */
  nodeType: field(z.string().startsWith('cache.').default('cache.t4g.micro')),
  /** Read replicas beside the primary, 0 to 5. @default 0 */
  replicas: field(z.number().int().min(0).max(5).default(0)),
  /** Promote a replica when the primary fails (also turns on Multi-AZ); needs replicas. @default true when there are replicas */
  automaticFailover: field(z.boolean().optional()),
  /** A CacheSubnetGroup's name. Changing it means a new group. @default the default VPC's subnets */
  subnetGroupName: field(input(z.string().min(1)).optional(), { replace: true }),
  /** Security groups of its nodes; changed in place. @default the VPC's default security group (not compared) */
  securityGroupIds: field(
    z
      .array(input(z.string().min(1)))
      .min(1)
      .optional(),
    { unordered: true },
  ),
  /** Encrypts data on disk (snapshots, swap). @default true. Changing it means a new group. */
  atRestEncryption: field(z.boolean().default(true), { replace: true }),
  /** TLS between clients and nodes: the url output then starts with rediss://. @default true */
  transitEncryption: field(z.boolean().default(true)),
  /** Days of daily snapshots kept, 0 to 35; 0 takes none. @default 0 */
  snapshotRetentionDays: field(z.number().int().min(0).max(35).default(0)),
  /** @default 'Managed by Touchdown' */
  description: field(z.string().min(1).max(255).default('Managed by Touchdown')),
  tags: field(tags()),
};

export interface CacheReplicationGroupOutputs {
  id: string;
  arn: string;
  /** Host name of the primary, which takes writes. */
  primaryEndpoint: string;
  /** Host name spreading reads over the replicas (the primary when there are none). */
  readerEndpoint: string;
  port: number;
  /** `rediss://<primary>:<port>` (redis:// without transit encryption), for REDIS_URL. */
  url: string;
}

type Args = ArgsOf<typeof fields>;
type GroupFound = Found<Args, CacheReplicationGroupOutputs>;

// Published creation times are 5 to 15 minutes; node type changes can take longer.
const CREATE_TIMEOUT_MS = 30 * 60_000;
const MODIFY_TIMEOUT_MS = 60 * 60_000;
const DELETE_TIMEOUT_MS = 30 * 60_000;

export const CacheReplicationGroup = defineResourceType({
  kind: 'replication-group',
  noun: 'ElastiCache replication group',
  listedAs: 'elasticache',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 480, update: 300, delete: 300 },
  fields,
  outputs: ['id', 'arn', 'primaryEndpoint', 'readerEndpoint', 'port', 'url'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  check(args) {
    if (args.automaticFailover === true && (args.replicas ?? 0) < 1) {
      return ['automaticFailover: failover promotes a replica, so it needs replicas: 1 or more'];
    }
    return [];
  },

  async find(ctx) {
    const owned = await stackElastiCache(ctx, 'replicationgroup');
    if (owned.size === 0) return [];
    const ec = await ctx.aws.elasticache();
    // Two paged listings for every group of the stack: the groups, and their member clusters, which
    // alone report engine version, subnet group and security groups.
    const [groups, clusters] = await Promise.all([
      allPages(
        (Marker) => ec.describeReplicationGroups({ Marker, MaxRecords: 100 }),
        (p) => p.ReplicationGroups,
        byMarker,
      ),
      allPages(
        (Marker) => ec.describeCacheClusters({ Marker, MaxRecords: 100 }),
        (p) => p.CacheClusters,
        byMarker,
      ),
    ]);
    // A group being deleted is gone as far as plans go; create waits for it to finish.
    return groups
      .filter((g) => owned.has(g.ReplicationGroupId!) && g.Status !== 'deleting')
      .map((g) => read(g, owned.get(g.ReplicationGroupId!)!, clusters));
  },

  async create(ctx, args) {
    const ec = await ctx.aws.elasticache();
    const id = groupId(ctx);
    const failover = args.automaticFailover ?? args.replicas > 0;
    const request = {
      ReplicationGroupId: id,
      ReplicationGroupDescription: args.description,
      Engine: args.engine,
      EngineVersion: args.engineVersion,
      CacheNodeType: args.nodeType,
      // One node group (cluster mode disabled): the primary and its replicas.
      NumCacheClusters: args.replicas + 1,
      AutomaticFailoverEnabled: failover,
      MultiAZEnabled: failover,
      CacheSubnetGroupName: args.subnetGroupName,
      SecurityGroupIds: args.securityGroupIds,
      AtRestEncryptionEnabled: args.atRestEncryption,
      TransitEncryptionEnabled: args.transitEncryption,
      SnapshotRetentionLimit: args.snapshotRetentionDays,
      Tags: tagList(ctx.tags(args.tags)),
    };
    await createOverDeleting(ctx, inAws(ec, id), () => ec.createReplicationGroup(request), {
      existsCode: 'ReplicationGroupAlreadyExists',
      timeoutMs: DELETE_TIMEOUT_MS,
      hint: `ElastiCache is still deleting a group named "${id}"; run the same command again in a few minutes`,
    });
    await settled(ctx, ec, id, 'to become available', CREATE_TIMEOUT_MS);
    return readOne(ec, id);
  },

  async update(ctx, found, args, changed) {
    const ec = await ctx.aws.elasticache();
    const id = found.id;
    // ElastiCache refuses changes while the group is busy (creating, snapshotting, an earlier change).
    let group = await settled(ctx, ec, id, 'to be ready for changes', MODIFY_TIMEOUT_MS);
    const modify = async (change: Omit<ModifyReplicationGroupCommandInput, 'ReplicationGroupId'>) => {
      await ec.modifyReplicationGroup({ ReplicationGroupId: id, ApplyImmediately: true, ...change });
      group = await settled(ctx, ec, id, 'to apply the change', MODIFY_TIMEOUT_MS);
    };
    const failover = args.automaticFailover ?? args.replicas > 0;
    const failoverNow = isOn(group.AutomaticFailover);
    // Failover goes off before the last replica goes, and comes on after the first one exists.
    if (!failover && failoverNow) await modify({ AutomaticFailoverEnabled: false, MultiAZEnabled: false });
    const replicasNow = replicaCount(group);
    if (args.replicas !== replicasNow) {
      const request = { ReplicationGroupId: id, NewReplicaCount: args.replicas, ApplyImmediately: true };
      if (args.replicas > replicasNow) await ec.increaseReplicaCount(request);
      else await ec.decreaseReplicaCount(request);
      group = await settled(ctx, ec, id, `to have ${args.replicas} replicas`, MODIFY_TIMEOUT_MS);
    }
    const change: Omit<ModifyReplicationGroupCommandInput, 'ReplicationGroupId'> = {};
    if (changed.includes('nodeType')) change.CacheNodeType = args.nodeType;
    if (changed.includes('engineVersion')) change.EngineVersion = args.engineVersion;
    if (changed.includes('securityGroupIds')) change.SecurityGroupIds = args.securityGroupIds;
    if (changed.includes('snapshotRetentionDays')) change.SnapshotRetentionLimit = args.snapshotRetentionDays;
    if (changed.includes('description')) change.ReplicationGroupDescription = args.description;
    if (failover && !failoverNow)
      Object.assign(change, { AutomaticFailoverEnabled: true, MultiAZEnabled: true });
    if (Object.keys(change).length > 0) await modify(change);
    if (changed.includes('transitEncryption')) {
      // Clients keep working only through the 'preferred' mode, which accepts TLS and plain connections.
      if (args.transitEncryption) {
        if (!group.TransitEncryptionEnabled)
          await modify({ TransitEncryptionEnabled: true, TransitEncryptionMode: 'preferred' });
        await modify({ TransitEncryptionMode: 'required' });
      } else if (group.TransitEncryptionEnabled) {
        if (group.TransitEncryptionMode !== 'preferred') await modify({ TransitEncryptionMode: 'preferred' });
        await modify({ TransitEncryptionEnabled: false });
      }
    }
    if (changed.includes('tags')) {
      await updateElastiCacheTags(ec, found.outputs.arn, found.args.tags ?? {}, args.tags);
    }
    return readOne(ec, id);
  },

  async delete(ctx, found) {
    const ec = await ctx.aws.elasticache();
    const id = found.id;
    const keep = (found.args.snapshotRetentionDays ?? 0) > 0;
    const request = {
      ReplicationGroupId: id,
      // Whoever kept daily snapshots wants the last state kept too.
      FinalSnapshotIdentifier: keep ? `${id}-final-${timestamp()}` : undefined,
    };
    await deleteCache(ctx, inAws(ec, id), () => ec.deleteReplicationGroup(request), {
      busyCode: 'InvalidReplicationGroupState',
      acceptTimeoutMs: MODIFY_TIMEOUT_MS,
      timeoutMs: DELETE_TIMEOUT_MS,
      hint: 'ElastiCache usually deletes a replication group within 10 minutes; run the same command again to keep waiting',
    });
  },
});

/** `<stack>-<path>`: 1 to 40 lower-case letters, digits and hyphens, starting with a letter. */
function groupId(ctx: OpContext): string {
  return physicalName(ctx.stack, ctx.path, { max: 40, lowerCase: true, letterFirst: true });
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:T]/g, '').slice(0, 12);
}

const isOn = (status: string | undefined) => status === 'enabled' || status === 'enabling';

function replicaCount(group: ReplicationGroup): number {
  return Math.max(0, (group.MemberClusters?.length ?? 1) - 1);
}

async function describe(ec: ElastiCache, id: string): Promise<ReplicationGroup | undefined> {
  return (await ignoreNotFound(ec.describeReplicationGroups({ ReplicationGroupId: id })))
    ?.ReplicationGroups?.[0];
}

function inAws(ec: ElastiCache, id: string): CacheInAws<ReplicationGroup> {
  return {
    noun: 'replication group',
    id,
    describe: () => describe(ec, id),
    status: (g) => g.Status,
    tags: (g) => readTags(ec, g.ARN!),
  };
}

/** Waits until the group is available with no change pending; fails when AWS gives up on creating it. */
function settled(
  ctx: OpContext,
  ec: ElastiCache,
  id: string,
  goal: string,
  timeoutMs: number,
): Promise<ReplicationGroup> {
  return untilAvailable(ctx, inAws(ec, id), {
    goal,
    timeoutMs,
    hint: 'ElastiCache often takes 10 to 20 minutes to create or resize a replication group; run the same command again to keep waiting',
    failure: (status) =>
      status === 'create-failed'
        ? `ElastiCache could not create it (create-failed): check the node type is offered in the subnet group's availability zones, then delete it and run again`
        : undefined,
  });
}

async function readOne(ec: ElastiCache, id: string): Promise<GroupFound> {
  const group = (await describe(ec, id))!;
  const [t, clusters] = await Promise.all([
    readTags(ec, group.ARN!),
    Promise.all(
      (group.MemberClusters ?? []).map(async (CacheClusterId) => {
        try {
          return (await ec.describeCacheClusters({ CacheClusterId })).CacheClusters ?? [];
        } catch (err) {
          if (isNotFound(err)) return [];
          throw err;
        }
      }),
    ),
  ]);
  return read(group, t, clusters.flat());
}

function read(group: ReplicationGroup, t: TagMap, clusters: CacheCluster[]): GroupFound {
  const id = group.ReplicationGroupId!;
  const nodeGroup = group.NodeGroups?.[0];
  const primaryId = nodeGroup?.NodeGroupMembers?.find((m) => m.CurrentRole === 'primary')?.CacheClusterId;
  const members = clusters.filter(
    (c) => c.ReplicationGroupId === id || group.MemberClusters?.includes(c.CacheClusterId!),
  );
  const primary = members.find((c) => c.CacheClusterId === primaryId) ?? members[0];
  const transit = Boolean(group.TransitEncryptionEnabled);
  const primaryEndpoint = nodeGroup?.PrimaryEndpoint?.Address ?? '';
  const port = nodeGroup?.PrimaryEndpoint?.Port ?? 6379;
  return {
    key: t[RESOURCE_TAG] ?? id,
    id,
    args: known({
      engine: (group.Engine ?? primary?.Engine) as Args['engine'] | undefined,
      engineVersion: primary?.EngineVersion,
      nodeType: group.CacheNodeType,
      replicas: replicaCount(group),
      automaticFailover: isOn(group.AutomaticFailover),
      subnetGroupName: primary?.CacheSubnetGroupName,
      securityGroupIds: primary?.SecurityGroups?.map((s) => s.SecurityGroupId!),
      atRestEncryption: Boolean(group.AtRestEncryptionEnabled),
      // Half-way through a change of TLS (mode 'preferred') counts as not yet there.
      transitEncryption: transit && group.TransitEncryptionMode !== 'preferred',
      snapshotRetentionDays: group.SnapshotRetentionLimit ?? 0,
      description: group.Description,
      tags: userTags(t),
    }),
    outputs: {
      id,
      arn: group.ARN!,
      primaryEndpoint,
      readerEndpoint: nodeGroup?.ReaderEndpoint?.Address ?? primaryEndpoint,
      port,
      url: `${transit ? 'rediss' : 'redis'}://${primaryEndpoint}:${port}`,
    },
  };
}
