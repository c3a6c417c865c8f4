// ElastiCache Memcached cluster: a pool of cache nodes behind one configuration endpoint (seed 001's
// "Elasticache for Memcached"). Not a data store: Memcached keeps nothing on disk.
import type { CacheCluster, ElastiCache, ModifyCacheClusterCommandInput } from '@aws-sdk/client-elasticache';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
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

const fields = {
  /** Its id in AWS is derived from the path, as `<stack>-<path>` in lower case, at most 50 characters. */
  name: field(z.string().min(1).max(200)),
  /** @default 'cache.t4g.micro'; changed in place (vertical scaling, Memcached 1.5 and later). */
  nodeType: field(z.string().startsWith('cache.').default('cache.t4g.micro')),
  /** Cache nodes, 1 to 40; the client spreads keys over them. Changed in place. @default 1 */
  nodes: field(z.number().int().min(1).max(40).default(1)),
  /** A CacheSubnetGroup's name. Changing it means a new cluster. @default the default VPC's subnets */
  subnetGroupName: field(input(z.string().min(1)).optional(), { replace: true }),
  /** Security groups of its nodes; changed in place. @default the VPC's default security group (not compared) */
  securityGroupIds: field(
    z
      .array(input(z.string().min(1)))
      .min(1)
      .optional(),
    { unordered: true },
  ),
  /** The full version, e.g. '1.6.22'; upgraded in place. @default the newest AWS offers */
  engineVersion: field(z.string().min(1).optional()),
  tags: field(tags()),
};

export interface MemcachedClusterOutputs {
  id: string;
  arn: string;
  /** `<host>:<port>` of the configuration endpoint, for Django's PyMemcacheCache LOCATION (empty until AWS assigns one). */
  configurationEndpoint: string;
  port: number;
}

type Args = ArgsOf<typeof fields>;
type ClusterFound = Found<Args, MemcachedClusterOutputs>;

const MEMCACHED_PORT = 11211;
// Published creation times are 5 to 10 minutes; resizing moves data node by node.
const CREATE_TIMEOUT_MS = 30 * 60_000;
const MODIFY_TIMEOUT_MS = 60 * 60_000;
const DELETE_TIMEOUT_MS = 30 * 60_000;

export const MemcachedCluster = defineResourceType({
  kind: 'memcached',
  noun: 'Memcached cluster',
  listedAs: 'elasticache',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 360, update: 300, delete: 300 },
  fields,
  outputs: ['id', 'arn', 'configurationEndpoint', 'port'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  async find(ctx) {
    const owned = await stackElastiCache(ctx, 'cluster');
    if (owned.size === 0) return [];
    const ec = await ctx.aws.elasticache();
    const clusters = await allPages(
      (Marker) => ec.describeCacheClusters({ Marker, MaxRecords: 100 }),
      (p) => p.CacheClusters,
      byMarker,
    );
    // Replication groups' member clusters carry their group's tags: only standalone Memcached clusters are ours.
    return clusters
      .filter(
        (c) =>
          owned.has(c.CacheClusterId!) &&
          c.Engine === 'memcached' &&
          !c.ReplicationGroupId &&
          c.CacheClusterStatus !== 'deleting',
      )
      .map((c) => read(c, owned.get(c.CacheClusterId!)!));
  },

  async create(ctx, args) {
    const ec = await ctx.aws.elasticache();
    const id = clusterId(ctx);
    const request = {
      CacheClusterId: id,
      Engine: 'memcached',
      EngineVersion: args.engineVersion,
      CacheNodeType: args.nodeType,
      NumCacheNodes: args.nodes,
      // Nodes spread over the subnet group's zones, so one zone's outage empties only part of the cache.
      AZMode: args.nodes > 1 ? ('cross-az' as const) : undefined,
      CacheSubnetGroupName: args.subnetGroupName,
      SecurityGroupIds: args.securityGroupIds,
      Tags: tagList(ctx.tags(args.tags)),
    };
    await createOverDeleting(ctx, inAws(ec, id), () => ec.createCacheCluster(request), {
      existsCode: 'CacheClusterAlreadyExists',
      timeoutMs: DELETE_TIMEOUT_MS,
      hint: `ElastiCache is still deleting a cluster named "${id}"; run the same command again in a few minutes`,
    });
    await settled(ctx, ec, id, 'to become available', CREATE_TIMEOUT_MS);
    return readOne(ec, id);
  },

  async update(ctx, found, args, changed) {
    const ec = await ctx.aws.elasticache();
    const id = found.id;
    // ElastiCache refuses changes while the cluster is busy (creating, an earlier change).
    const current = await settled(ctx, ec, id, 'to be ready for changes', MODIFY_TIMEOUT_MS);
    const modify = async (change: Omit<ModifyCacheClusterCommandInput, 'CacheClusterId'>) => {
      await ec.modifyCacheCluster({ CacheClusterId: id, ApplyImmediately: true, ...change });
      await settled(ctx, ec, id, 'to apply the change', MODIFY_TIMEOUT_MS);
    };
    // Node count and node type are separate operations in ElastiCache: one at a time.
    const have = current.NumCacheNodes ?? 1;
    if (args.nodes > have) await modify({ NumCacheNodes: args.nodes });
    if (args.nodes < have) {
      // The highest-numbered nodes go, as the console does.
      const ids = (current.CacheNodes ?? []).map((n) => n.CacheNodeId!).sort();
      await modify({ NumCacheNodes: args.nodes, CacheNodeIdsToRemove: ids.slice(args.nodes) });
    }
    const change: Omit<ModifyCacheClusterCommandInput, 'CacheClusterId'> = {};
    if (changed.includes('nodeType')) change.CacheNodeType = args.nodeType;
    if (changed.includes('engineVersion')) change.EngineVersion = args.engineVersion;
    if (changed.includes('securityGroupIds')) change.SecurityGroupIds = args.securityGroupIds;
    if (Object.keys(change).length > 0) await modify(change);
    if (changed.includes('tags')) {
      await updateElastiCacheTags(ec, found.outputs.arn, found.args.tags ?? {}, args.tags);
    }
    return readOne(ec, id);
  },

  async delete(ctx, found) {
    const ec = await ctx.aws.elasticache();
    const id = found.id;
    await deleteCache(ctx, inAws(ec, id), () => ec.deleteCacheCluster({ CacheClusterId: id }), {
      busyCode: 'InvalidCacheClusterState',
      acceptTimeoutMs: MODIFY_TIMEOUT_MS,
      timeoutMs: DELETE_TIMEOUT_MS,
      hint: 'ElastiCache usually deletes a cluster within 10 minutes; run the same command again to keep waiting',
    });
  },
});

/** `<stack>-<path>`: 1 to 50 lower-case letters, digits and hyphens, starting with a letter. */
function clusterId(ctx: OpContext): string {
  return physicalName(ctx.stack, ctx.path, { max: 50, lowerCase: true, letterFirst: true });
}

async function describe(ec: ElastiCache, id: string): Promise<CacheCluster | undefined> {
  const answer = await ignoreNotFound(
    ec.describeCacheClusters({ CacheClusterId: id, ShowCacheNodeInfo: true }),
  );
  return answer?.CacheClusters?.[0];
}

function inAws(ec: ElastiCache, id: string): CacheInAws<CacheCluster> {
  return {
    noun: 'Memcached cluster',
    id,
    describe: () => describe(ec, id),
    status: (c) => c.CacheClusterStatus,
    tags: (c) => readTags(ec, c.ARN!),
  };
}

/** Waits until the cluster is available with no change pending; fails when AWS cannot build it. */
function settled(
  ctx: OpContext,
  ec: ElastiCache,
  id: string,
  goal: string,
  timeoutMs: number,
): Promise<CacheCluster> {
  return untilAvailable(ctx, inAws(ec, id), {
    goal,
    timeoutMs,
    hint: 'ElastiCache often takes 10 minutes or more to create or resize a cluster; run the same command again to keep waiting',
    failure: (status) =>
      status === 'incompatible-network' || status === 'create-failed'
        ? `ElastiCache could not build it (${status}): check its subnet group and security groups, then delete it and run again`
        : undefined,
  });
}

async function readOne(ec: ElastiCache, id: string): Promise<ClusterFound> {
  const cluster = (await describe(ec, id))!;
  return read(cluster, await readTags(ec, cluster.ARN!));
}

function read(cluster: CacheCluster, t: TagMap): ClusterFound {
  const id = cluster.CacheClusterId!;
  const endpoint = cluster.ConfigurationEndpoint;
  const port = endpoint?.Port ?? MEMCACHED_PORT;
  return {
    key: t[RESOURCE_TAG] ?? id,
    id,
    args: known({
      nodeType: cluster.CacheNodeType,
      nodes: cluster.NumCacheNodes,
      subnetGroupName: cluster.CacheSubnetGroupName,
      securityGroupIds: cluster.SecurityGroups?.map((s) => s.SecurityGroupId!),
      engineVersion: cluster.EngineVersion,
      tags: userTags(t),
    }),
    outputs: {
      id,
      arn: cluster.ARN!,
      configurationEndpoint: endpoint?.Address ? `${endpoint.Address}:${port}` : '',
      port,
    },
  };
}
