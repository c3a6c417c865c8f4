// What the ECS resource files share: names, tags (ECS spells them in lower case) and the stack's
// resources from the tagging API.
import type { ECS } from '@aws-sdk/client-ecs';
import type { FindContext } from '../../core/resource.js';
import { physicalName } from '../names.js';
import { stackResources } from '../tagging.js';
import { type TagMap, tagDelta, userTags } from '../tags.js';

/**
 * A name for what ECS makes us name (clusters, services, task definition families):
 * `<stack>-<path>`, letters, digits, hyphens and underscores, up to 255.
 */
export function ecsName(ctx: { stack: string; path: string }): string {
  return physicalName(ctx.stack, ctx.path, { max: 255, allowed: /[A-Za-z0-9_-]/ });
}

/** ECS spells tags `key` and `value`, in lower case. */
export function ecsTagList(tags: TagMap): { key: string; value: string }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

export function ecsTagMap(list: readonly { key?: string; value?: string }[] | undefined): TagMap {
  const out: TagMap = {};
  for (const t of list ?? []) if (t.key !== undefined) out[t.key] = t.value ?? '';
  return out;
}

/** The user's own tags; ECS has no Name tag of Touchdown's, so a user's Name stays. */
export function ecsUserTags(tags: TagMap): TagMap {
  return userTags(tags, { keepName: true });
}

/** Brings an ECS resource's own tags to the desired set; ownership tags are in neither and stay. */
export async function updateEcsTags(ecs: ECS, arn: string, current: TagMap, desired: TagMap): Promise<void> {
  const { set, remove } = tagDelta(current, desired);
  if (Object.keys(set).length > 0) await ecs.tagResource({ resourceArn: arn, tags: ecsTagList(set) });
  if (remove.length > 0) await ecs.untagResource({ resourceArn: arn, tagKeys: remove });
}

/**
 * The stack's ECS resources of one type with their tags, from the tagging API: one call a page for
 * all of them (ECS's List calls cannot filter by tag). The index lags behind deletes: callers
 * describe what it lists and keep only what is live.
 */
export async function stackEcsResources(
  ctx: FindContext,
  type: 'cluster' | 'service' | 'task-definition',
): Promise<{ arn: string; tags: TagMap }[]> {
  return stackResources(ctx, [`ecs:${type}`]);
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `arn:…:cluster/xkcd` → `xkcd`; `arn:…:task-definition/web:3` → `web:3`; names stay as they are. */
export function lastPart(value: unknown): unknown {
  return typeof value === 'string' ? value.split('/').at(-1) : value;
}
