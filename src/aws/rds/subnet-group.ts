// DB subnet group: the subnets (in two or more availability zones) an RDS database may live in.
import type { DBSubnetGroup as AwsSubnetGroup, RDS } from '@aws-sdk/client-rds';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { type NameRules, physicalName } from '../names.js';
import { allPages, byMarker } from '../pages.js';
import { RESOURCE_TAG, type TagMap, tagList, tagMap, userTags } from '../tags.js';
import { claimGroups, deleteWhileInUse, stackGroups, updateRdsTags } from './common.js';

/** AWS's rules for subnet group names (letters, digits, hyphens kept; up to 255), lower-cased as RDS stores them. */
const NAME_RULES: NameRules = { max: 255, lowerCase: true, letterFirst: true };

const fields = {
  /** The group's label in this stack; its name in AWS is derived as `<stack>-<path>`, lower-case. */
  name: field(z.string().min(1).max(200)),
  /** @default 'Managed by Touchdown': shown in the RDS console. */
  description: field(z.string().min(1).max(255).default('Managed by Touchdown')),
  /** The subnets, in at least two availability zones (AWS's rule, even for a single-AZ database). */
  subnetIds: field(z.array(input(z.string().min(1))).min(1), { unordered: true }),
  tags: field(tags()),
};

export interface DbSubnetGroupOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type SubnetGroupFound = Found<Args, DbSubnetGroupOutputs>;

export const DbSubnetGroup = defineResourceType({
  kind: 'db-subnet-group',
  noun: 'DB subnet group',
  listedAs: 'rds',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    const ids = args.subnetIds ?? [];
    if (ids.length < 2) {
      problems.push(
        'subnetIds: RDS needs subnets in at least two availability zones; give two or more subnets in different zones',
      );
    }
    const plain = ids.filter((id): id is string => typeof id === 'string');
    for (const id of new Set(plain.filter((id, i) => plain.indexOf(id) !== i))) {
      problems.push(`subnetIds: "${id}" is listed twice; list each subnet once`);
    }
    return problems;
  },

  async find(ctx) {
    const rds = await ctx.aws.rds();
    // DescribeDBSubnetGroups carries no tags and takes no filters: every group of the account (100 a page),
    // matched with the stack's ARNs from one tagging call.
    const [groups, owned] = await Promise.all([
      allPages(
        (Marker) => rds.describeDBSubnetGroups({ Marker, MaxRecords: 100 }),
        (p) => p.DBSubnetGroups,
        byMarker,
      ),
      stackGroups(ctx, 'rds:subgrp'),
    ]);
    const mine = await claimGroups(ctx, rds, owned, groups, {
      arn: (g) => g.DBSubnetGroupArn!,
      name: (g) => g.DBSubnetGroupName!,
    });
    return mine.map(({ group, tags }) => read(group, tags));
  },

  async create(ctx, args) {
    const rds = await ctx.aws.rds();
    const { DBSubnetGroup: created } = await rds.createDBSubnetGroup({
      DBSubnetGroupName: subnetGroupName(ctx),
      DBSubnetGroupDescription: args.description,
      SubnetIds: args.subnetIds,
      Tags: tagList(ctx.tags(args.tags)),
    });
    return fresh(rds, created!.DBSubnetGroupName!);
  },

  async update(ctx, found, args, changed) {
    const rds = await ctx.aws.rds();
    if (changed.includes('description') || changed.includes('subnetIds')) {
      // ModifyDBSubnetGroup always takes the whole subnet list.
      await rds.modifyDBSubnetGroup({
        DBSubnetGroupName: found.id,
        DBSubnetGroupDescription: args.description,
        SubnetIds: args.subnetIds,
      });
    }
    if (changed.includes('tags'))
      await updateRdsTags(rds, found.outputs.arn, found.args.tags ?? {}, args.tags);
    return fresh(rds, found.id);
  },

  async delete(ctx, found) {
    const rds = await ctx.aws.rds();
    await deleteWhileInUse(ctx, `DB subnet group "${ctx.path}"`, 'InvalidDBSubnetGroupState', () =>
      rds.deleteDBSubnetGroup({ DBSubnetGroupName: found.id }),
    );
  },
});

function subnetGroupName(ctx: OpContext): string {
  return physicalName(ctx.stack, ctx.path, NAME_RULES);
}

async function fresh(rds: RDS, name: string): Promise<SubnetGroupFound> {
  const { DBSubnetGroups } = await rds.describeDBSubnetGroups({ DBSubnetGroupName: name });
  const group = DBSubnetGroups?.[0];
  if (!group) throw new Error(`the DB subnet group ${name} disappeared while it was being written`);
  const { TagList } = await rds.listTagsForResource({ ResourceName: group.DBSubnetGroupArn! });
  return read(group, tagMap(TagList));
}

function read(group: AwsSubnetGroup, t: TagMap): SubnetGroupFound {
  const name = group.DBSubnetGroupName!;
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      description: group.DBSubnetGroupDescription,
      subnetIds: (group.Subnets ?? []).map((s) => s.SubnetIdentifier!),
      tags: userTags(t),
    },
    outputs: { name, arn: group.DBSubnetGroupArn! },
  };
}
