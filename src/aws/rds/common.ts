// What the RDS resource files share: the stack's groups from the tagging API, tags, and deletes that
// wait for databases to let go.
import type { RDS } from '@aws-sdk/client-rds';
import type { FindContext, OpContext } from '../../core/resource.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { stackResources } from '../tagging.js';
import { STACK_TAG, type TagMap, tagDelta, tagList, tagMap } from '../tags.js';

/** The stack's RDS resources of one type with their tags, by ARN: one tagging call a page. */
export async function stackGroups(ctx: FindContext, resourceType: string): Promise<Map<string, TagMap>> {
  const resources = await stackResources(ctx, [resourceType]);
  return new Map(resources.map((r) => [r.arn, r.tags]));
}

/**
 * The groups that belong to the stack: those the tagging API lists, and those it does not list yet (it
 * lags behind creation) whose derived name starts with `<stack>-`, confirmed by their own tags.
 */
export async function claimGroups<G>(
  ctx: FindContext,
  rds: RDS,
  owned: Map<string, TagMap>,
  groups: G[],
  how: { arn(g: G): string; name(g: G): string },
): Promise<{ group: G; tags: TagMap }[]> {
  const unlisted = groups.filter((g) => !owned.has(how.arn(g)) && how.name(g).startsWith(`${ctx.stack}-`));
  const confirmed = await Promise.all(
    unlisted.map(async (g) => {
      const { TagList } = await rds.listTagsForResource({ ResourceName: how.arn(g) });
      return { group: g, tags: tagMap(TagList) };
    }),
  );
  return [
    ...groups.filter((g) => owned.has(how.arn(g))).map((g) => ({ group: g, tags: owned.get(how.arn(g))! })),
    ...confirmed.filter((c) => c.tags[STACK_TAG] === ctx.stack),
  ];
}

/** Brings an RDS resource's own tags to the desired set, leaving ownership tags alone. */
export async function updateRdsTags(rds: RDS, arn: string, current: TagMap, desired: TagMap): Promise<void> {
  const { set, remove } = tagDelta(current, desired);
  if (Object.keys(set).length > 0) await rds.addTagsToResource({ ResourceName: arn, Tags: tagList(set) });
  if (remove.length > 0) await rds.removeTagsFromResource({ ResourceName: arn, TagKeys: remove });
}

/** Deletes, retrying while a database still uses it (a deleted instance holds its groups for a while). */
export async function deleteWhileInUse(
  ctx: OpContext,
  what: string,
  inUseCode: string,
  call: () => Promise<unknown>,
): Promise<void> {
  await ctx.wait({
    what: `${what} to be free of databases`,
    timeoutMs: 15 * 60_000,
    hint: 'a database outside this stack may still use it: delete that database or move it to another group, then run the same command again',
    check: async () => {
      try {
        await ignoreNotFound(call());
        return { done: true, value: undefined };
      } catch (err) {
        if (errorCode(err).startsWith(inUseCode)) return { done: false, state: 'in use' };
        throw err;
      }
    },
  });
}
