// ElastiCache subnet group: the subnets (of one VPC) a cache's nodes are placed in.
import type { CacheSubnetGroup as AwsSubnetGroup, ElastiCache } from '@aws-sdk/client-elasticache';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { createOnce, ownedHere } from '../create-once.js';
import { deleteWhenFree } from '../ec2/common.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages, byMarker } from '../pages.js';
import { RESOURCE_TAG, type TagMap, tagList, userTags } from '../tags.js';
import { readTags, stackElastiCache, updateElastiCacheTags } from './common.js';

const fields = {
  /** The group's name in AWS is derived from the path, as `<stack>-<path>` in lower case. */
  name: field(z.string().min(1).max(200)),
  /** Subnets of one VPC, best in two or more availability zones. Changed in place. */
  subnetIds: field(z.array(input(z.string().min(1))).min(1), { unordered: true }),
  /** @default 'Managed by Touchdown' */
  description: field(z.string().min(1).max(255).default('Managed by Touchdown')),
  tags: field(tags()),
};

export interface CacheSubnetGroupOutputs {
  /** What a cache's `subnetGroupName` takes. */
  name: string;
  arn: string;
  vpcId: string;
}

type Args = ArgsOf<typeof fields>;
type SubnetGroupFound = Found<Args, CacheSubnetGroupOutputs>;

export const CacheSubnetGroup = defineResourceType({
  kind: 'cache-subnet-group',
  noun: 'ElastiCache subnet group',
  listedAs: 'elasticache',
  fields,
  outputs: ['name', 'arn', 'vpcId'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  async find(ctx) {
    const owned = await stackElastiCache(ctx, 'subnetgroup');
    if (owned.size === 0) return [];
    const ec = await ctx.aws.elasticache();
    // Describe has no tag filter: one paged listing of the region's groups, then ours by name.
    const groups = await allPages(
      (Marker) => ec.describeCacheSubnetGroups({ Marker, MaxRecords: 100 }),
      (p) => p.CacheSubnetGroups,
      byMarker,
    );
    return groups
      .filter((g) => owned.has(g.CacheSubnetGroupName!))
      .map((g) => read(g, owned.get(g.CacheSubnetGroupName!)!));
  },

  async create(ctx, args) {
    const ec = await ctx.aws.elasticache();
    const name = subnetGroupName(ctx);
    // Subnets made a moment ago may not be visible to ElastiCache yet.
    await ctx.wait({
      what: `the subnets of ElastiCache subnet group "${ctx.path}" to be visible`,
      timeoutMs: 2 * 60_000,
      check: async () => {
        try {
          // A retry after a lost answer meets CacheSubnetGroupAlreadyExists: ours when its tags say so.
          await createOnce(
            () =>
              ec.createCacheSubnetGroup({
                CacheSubnetGroupName: name,
                CacheSubnetGroupDescription: args.description,
                SubnetIds: args.subnetIds,
                Tags: tagList(ctx.tags(args.tags)),
              }),
            async () => {
              const got = await ignoreNotFound(ec.describeCacheSubnetGroups({ CacheSubnetGroupName: name }));
              const group = got?.CacheSubnetGroups?.[0];
              return group && { value: {}, ours: ownedHere(ctx, await readTags(ec, group.ARN!)) };
            },
          );
          return { done: true, value: undefined };
        } catch (err) {
          if (errorCode(err) === 'InvalidSubnet') return { done: false, state: 'InvalidSubnet' };
          throw err;
        }
      },
    });
    return readOne(ec, name);
  },

  async update(ctx, found, args, changed) {
    const ec = await ctx.aws.elasticache();
    if (changed.includes('subnetIds') || changed.includes('description')) {
      await ec.modifyCacheSubnetGroup({
        CacheSubnetGroupName: found.id,
        CacheSubnetGroupDescription: args.description,
        SubnetIds: args.subnetIds,
      });
    }
    if (changed.includes('tags')) {
      await updateElastiCacheTags(ec, found.outputs.arn, found.args.tags ?? {}, args.tags);
    }
    return readOne(ec, found.id);
  },

  async delete(ctx, found) {
    const ec = await ctx.aws.elasticache();
    // A cache still being deleted keeps its subnet group "in use" for a while.
    await deleteWhenFree(ctx, `ElastiCache subnet group "${ctx.path}"`, () =>
      ec.deleteCacheSubnetGroup({ CacheSubnetGroupName: found.id }),
    );
  },
});

/** `<stack>-<path>`, lower case (AWS stores subnet group names in lower case). */
function subnetGroupName(ctx: OpContext): string {
  return physicalName(ctx.stack, ctx.path, { max: 255, lowerCase: true });
}

async function readOne(ec: ElastiCache, name: string): Promise<SubnetGroupFound> {
  const { CacheSubnetGroups } = await ec.describeCacheSubnetGroups({ CacheSubnetGroupName: name });
  const group = CacheSubnetGroups![0]!;
  return read(group, await readTags(ec, group.ARN!));
}

function read(group: AwsSubnetGroup, t: TagMap): SubnetGroupFound {
  const name = group.CacheSubnetGroupName!;
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      subnetIds: (group.Subnets ?? []).map((s) => s.SubnetIdentifier!),
      description: group.CacheSubnetGroupDescription,
      tags: userTags(t),
    },
    outputs: { name, arn: group.ARN!, vpcId: group.VpcId ?? '' },
  };
}
