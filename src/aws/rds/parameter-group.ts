// DB parameter group: PostgreSQL settings (work_mem, log_min_duration_statement...) a database starts with.
import type { DBParameterGroup as AwsParameterGroup, Parameter, RDS } from '@aws-sdk/client-rds';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { type NameRules, physicalName } from '../names.js';
import { allPages, byMarker } from '../pages.js';
import { RESOURCE_TAG, type TagMap, tagList, tagMap, userTags } from '../tags.js';
import { claimGroups, deleteWhileInUse, stackGroups, updateRdsTags } from './common.js';

/** Letters, digits and hyphens, a letter first, up to 255: AWS's rules for parameter group names. */
const NAME_RULES: NameRules = { max: 255, lowerCase: true, letterFirst: true };
/** ModifyDBParameterGroup and ResetDBParameterGroup take at most 20 parameters a call. */
const BATCH = 20;

const fields = {
  /** The group's label in this stack; its name in AWS is derived as `<stack>-<path>`, lower-case. */
  name: field(z.string().min(1).max(200)),
  /** The engine and major version it is for, e.g. 'postgres16'. Changing it means a new group. */
  family: field(z.string().regex(/^[a-z][a-z0-9.-]*$/, 'write it like postgres16'), { replace: true }),
  /** @default 'Managed by Touchdown'. AWS cannot change it: changing it means a new group. */
  description: field(z.string().min(1).max(255).default('Managed by Touchdown'), { replace: true }),
  /**
   * Settings by name, as strings: `{ work_mem: '16384', log_min_duration_statement: '500' }`. Dynamic
   * ones apply at once; static ones at the database's next reboot. Removed ones go back to the engine's
   * default. @default {}
   */
  parameters: field(z.record(z.string().min(1), z.string()).default({})),
  tags: field(tags()),
};

export interface DbParameterGroupOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type ParameterGroupFound = Found<Args, DbParameterGroupOutputs>;

export const DbParameterGroup = defineResourceType({
  kind: 'db-parameter-group',
  noun: 'DB parameter group',
  listedAs: 'rds',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  async find(ctx) {
    const rds = await ctx.aws.rds();
    // No tags and no filters on DescribeDBParameterGroups: every group (100 a page) against one tagging call.
    const [groups, owned] = await Promise.all([
      allPages(
        (Marker) => rds.describeDBParameterGroups({ Marker, MaxRecords: 100 }),
        (p) => p.DBParameterGroups,
        byMarker,
      ),
      stackGroups(ctx, 'rds:pg'),
    ]);
    const mine = await claimGroups(ctx, rds, owned, groups, {
      arn: (g) => g.DBParameterGroupArn!,
      name: (g) => g.DBParameterGroupName!,
    });
    // Parameters have no batched read: one DescribeDBParameters (user-set ones only) per group.
    const limit = pLimit(5);
    return Promise.all(
      mine.map(({ group, tags }) => limit(async () => read(group, tags, await userParameters(rds, group)))),
    );
  },

  async create(ctx, args) {
    const rds = await ctx.aws.rds();
    const name = physicalName(ctx.stack, ctx.path, NAME_RULES);
    await rds.createDBParameterGroup({
      DBParameterGroupName: name,
      DBParameterGroupFamily: args.family,
      Description: args.description,
      Tags: tagList(ctx.tags(args.tags)),
    });
    await setParameters(ctx, rds, name, args.parameters, {});
    return fresh(rds, name);
  },

  async update(ctx, found, args, changed) {
    const rds = await ctx.aws.rds();
    if (changed.includes('parameters')) {
      await setParameters(ctx, rds, found.id, args.parameters, found.args.parameters ?? {});
    }
    if (changed.includes('tags'))
      await updateRdsTags(rds, found.outputs.arn, found.args.tags ?? {}, args.tags);
    return fresh(rds, found.id);
  },

  async delete(ctx, found) {
    const rds = await ctx.aws.rds();
    await deleteWhileInUse(ctx, `DB parameter group "${ctx.path}"`, 'InvalidDBParameterGroupState', () =>
      rds.deleteDBParameterGroup({ DBParameterGroupName: found.id }),
    );
  },
});

/** Writes changed parameters and resets removed ones, 20 a call, each with the apply method its type allows. */
async function setParameters(
  ctx: OpContext,
  rds: RDS,
  name: string,
  want: Record<string, string>,
  have: Record<string, string>,
): Promise<void> {
  const changed = Object.keys(want).filter((k) => have[k] !== want[k]);
  const removed = Object.keys(have).filter((k) => !(k in want));
  if (changed.length === 0 && removed.length === 0) return;
  const types = await applyTypes(rds, name);
  // Static parameters cannot apply at once: they wait for the next reboot.
  const method = (p: string) => (types.get(p) === 'static' ? 'pending-reboot' : 'immediate');
  const staticOnes = [...changed, ...removed].filter((p) => types.get(p) === 'static');
  for (const batch of batches(changed)) {
    await rds.modifyDBParameterGroup({
      DBParameterGroupName: name,
      Parameters: batch.map((p) => ({ ParameterName: p, ParameterValue: want[p], ApplyMethod: method(p) })),
    });
  }
  for (const batch of batches(removed)) {
    await rds.resetDBParameterGroup({
      DBParameterGroupName: name,
      Parameters: batch.map((p) => ({ ParameterName: p, ApplyMethod: method(p) })),
    });
  }
  if (staticOnes.length > 0) {
    ctx.progress(`${staticOnes.join(', ')} take effect when the databases using this group next reboot`);
  }
}

function batches<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** Whether each of the family's parameters is static or dynamic, as the group lists them (engine defaults included). */
async function applyTypes(rds: RDS, name: string): Promise<Map<string, string>> {
  const all = await allPages(
    (Marker) => rds.describeDBParameters({ DBParameterGroupName: name, Marker, MaxRecords: 100 }),
    (p) => p.Parameters,
    byMarker,
  );
  return new Map(all.map((p) => [p.ParameterName!, p.ApplyType ?? 'dynamic']));
}

async function userParameters(rds: RDS, group: AwsParameterGroup): Promise<Parameter[]> {
  return allPages(
    (Marker) =>
      rds.describeDBParameters({
        DBParameterGroupName: group.DBParameterGroupName!,
        Source: 'user',
        Marker,
        MaxRecords: 100,
      }),
    (p) => p.Parameters,
    byMarker,
  );
}

async function fresh(rds: RDS, name: string): Promise<ParameterGroupFound> {
  const { DBParameterGroups } = await rds.describeDBParameterGroups({ DBParameterGroupName: name });
  const group = DBParameterGroups?.[0];
  if (!group) throw new Error(`the DB parameter group ${name} disappeared while it was being written`);
  const [{ TagList }, parameters] = await Promise.all([
    rds.listTagsForResource({ ResourceName: group.DBParameterGroupArn! }),
    userParameters(rds, group),
  ]);
  return read(group, tagMap(TagList), parameters);
}

function read(group: AwsParameterGroup, t: TagMap, parameters: Parameter[]): ParameterGroupFound {
  const name = group.DBParameterGroupName!;
  const values: Record<string, string> = {};
  for (const p of parameters)
    if (p.ParameterName && p.ParameterValue !== undefined) values[p.ParameterName] = p.ParameterValue;
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      family: group.DBParameterGroupFamily,
      description: group.Description,
      parameters: values,
      tags: userTags(t),
    },
    outputs: { name, arn: group.DBParameterGroupArn! },
  };
}
