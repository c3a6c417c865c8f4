// ElastiCache subnet group: the subnets (of one VPC) a cache's nodes are placed in.
// Also home to what the ElastiCache files share: the stack's resources from the tagging API, paging, tags.
import type { CacheSubnetGroup as AwsSubnetGroup, ElastiCache } from '@aws-sdk/client-elasticache';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { deleteWhenFree } from '../ec2/common.js';
import { errorCode } from '../errors.js';
import { physicalName } from '../names.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagDelta, tagList, tagMap, userTags } from '../tags.js';

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
  fields,
  outputs: ['name', 'arn', 'vpcId'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  async find(ctx) {
    const owned = await stackElastiCache(ctx, 'subnetgroup');
    if (owned.size === 0) return [];
    const ec = await ctx.aws.elasticache();
    // Describe has no tag filter: one paged listing of the region's groups, then ours by name.
    const groups = await allMarkerPages(
      (Marker) => ec.describeCacheSubnetGroups({ Marker, MaxRecords: 100 }),
      (p) => p.CacheSubnetGroups,
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
          await ec.createCacheSubnetGroup({
            CacheSubnetGroupName: name,
            CacheSubnetGroupDescription: args.description,
            SubnetIds: args.subnetIds,
            Tags: tagList(ctx.tags(args.tags)),
          });
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

// ---- shared by the ElastiCache resource files ----

/** The last two parts of an ElastiCache ARN: `…:replicationgroup:<id>`. */
export type ElastiCacheKind = 'subnetgroup' | 'replicationgroup' | 'cluster';

/** The stack's ElastiCache resources of one kind, by name, with their tags: one paged tagging call. */
export async function stackElastiCache(
  ctx: FindContext,
  kind: ElastiCacheKind,
): Promise<Map<string, TagMap>> {
  const tagging = await ctx.aws.tagging();
  const owned = new Map<string, TagMap>();
  let token: string | undefined;
  do {
    // Filtered by service, the kind read from the ARN: the same call serves every ElastiCache type.
    const page = await tagging.getResources({
      ResourceTypeFilters: ['elasticache'],
      TagFilters: [{ Key: STACK_TAG, Values: [ctx.stack] }],
      PaginationToken: token,
    });
    for (const r of page.ResourceTagMappingList ?? []) {
      const parts = r.ResourceARN?.split(':') ?? [];
      if (parts[5] === kind && parts[6]) owned.set(parts[6], tagMap(r.Tags));
    }
    token = page.PaginationToken || undefined;
  } while (token);
  return owned;
}

/** Reads every page of an ElastiCache Describe call (paged with Marker). */
export async function allMarkerPages<T, R extends { Marker?: string }>(
  call: (marker: string | undefined) => Promise<R>,
  items: (page: R) => T[] | undefined,
): Promise<T[]> {
  const out: T[] = [];
  let marker: string | undefined;
  do {
    const page = await call(marker);
    out.push(...(items(page) ?? []));
    marker = page.Marker || undefined;
  } while (marker);
  return out;
}

export async function readTags(ec: ElastiCache, arn: string): Promise<TagMap> {
  return tagMap((await ec.listTagsForResource({ ResourceName: arn })).TagList);
}

/** Brings an ElastiCache resource's own tags to the desired set, leaving ownership tags alone. */
export async function updateElastiCacheTags(
  ec: ElastiCache,
  arn: string,
  current: TagMap,
  desired: TagMap,
): Promise<void> {
  const { set, remove } = tagDelta(current, desired);
  if (Object.keys(set).length > 0) await ec.addTagsToResource({ ResourceName: arn, Tags: tagList(set) });
  if (remove.length > 0) await ec.removeTagsFromResource({ ResourceName: arn, TagKeys: remove });
}

/** An object without its undefined members: arguments AWS did not report are left out of Found.args. */
export function known<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
