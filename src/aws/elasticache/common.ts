// What the ElastiCache resource files share: the stack's resources from the tagging API, tags, and
// reading what AWS reports.
import type { ElastiCache } from '@aws-sdk/client-elasticache';
import type { FindContext, OpContext } from '../../core/resource.js';
import { createOnce, ownedHere } from '../create-once.js';
import { errorCode, isNotFound } from '../errors.js';
import { stackResources } from '../tagging.js';
import { type TagMap, tagDelta, tagList, tagMap } from '../tags.js';

/** The last two parts of an ElastiCache ARN: `…:replicationgroup:<id>`. */
export type ElastiCacheKind = 'subnetgroup' | 'replicationgroup' | 'cluster';

/** The stack's ElastiCache resources of one kind, by name, with their tags: one paged tagging call. */
export async function stackElastiCache(
  ctx: FindContext,
  kind: ElastiCacheKind,
): Promise<Map<string, TagMap>> {
  const owned = new Map<string, TagMap>();
  // Filtered by service, the kind read from the ARN: the same call serves every ElastiCache type.
  for (const r of await stackResources(ctx, ['elasticache'])) {
    const parts = r.arn.split(':');
    if (parts[5] === kind && parts[6]) owned.set(parts[6], r.tags);
  }
  return owned;
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

/** A Memcached cluster or a replication group, as the waits below read it. */
export interface CacheInAws<T extends { PendingModifiedValues?: object }> {
  /** What messages call it: `Memcached cluster`, `replication group`. */
  noun: string;
  id: string;
  /** It as AWS describes it now; undefined when it is gone. */
  describe(): Promise<T | undefined>;
  status(resource: T): string | undefined;
  /** Its tags, which say whether this stack made it. */
  tags(resource: T): Promise<TagMap>;
}

/** True while a change is still under way though the status already reads "available". */
function changesPending(resource: { PendingModifiedValues?: object }): boolean {
  return Object.values(resource.PendingModifiedValues ?? {}).some(
    (v) => v !== undefined && !(Array.isArray(v) && v.length === 0),
  );
}

/**
 * Waits until it is available with no change pending. `failure` names a status AWS will not leave
 * (it could not build it), with what to do: the wait then fails at once.
 */
export function untilAvailable<T extends { PendingModifiedValues?: object }>(
  ctx: OpContext,
  cache: CacheInAws<T>,
  wait: {
    goal: string;
    timeoutMs: number;
    hint: string;
    failure(status: string | undefined): string | undefined;
  },
): Promise<T> {
  return ctx.wait({
    what: `${cache.noun} "${ctx.path}" ${wait.goal}`,
    timeoutMs: wait.timeoutMs,
    hint: wait.hint,
    check: async () => {
      const r = await cache.describe();
      if (!r) throw new Error(`the ${cache.noun} "${cache.id}" disappeared`);
      const status = cache.status(r);
      const failure = wait.failure(status);
      if (failure) throw new Error(failure);
      return status === 'available' && !changesPending(r)
        ? { done: true, value: r }
        : { done: false, state: status === 'available' ? 'applying changes' : (status ?? 'unknown') };
    },
  });
}

/**
 * Creates it. One of the same id deleted a moment ago (by a replacement, or by hand) blocks the id
 * until it is gone: AWS answers `existsCode`, and the create is asked again until then.
 */
export async function createOverDeleting<T extends { PendingModifiedValues?: object }>(
  ctx: OpContext,
  cache: CacheInAws<T>,
  create: () => Promise<unknown>,
  wait: { existsCode: string; timeoutMs: number; hint: string },
): Promise<void> {
  await ctx.wait({
    what: `the earlier ${cache.noun} "${cache.id}" to finish deleting`,
    timeoutMs: wait.timeoutMs,
    hint: wait.hint,
    check: async () => {
      try {
        // A retry after a lost answer meets its own create: ours by its tags, and waited for by the caller.
        await createOnce(create, async () => {
          const r = await cache.describe();
          if (!r || cache.status(r) === 'deleting') return undefined;
          return { value: undefined, ours: ownedHere(ctx, await cache.tags(r)) };
        });
        return { done: true, value: undefined };
      } catch (err) {
        if (errorCode(err) !== wait.existsCode) throw err;
        const existing = await cache.describe();
        if (!existing || cache.status(existing) !== 'deleting') throw err;
        return { done: false, state: 'deleting' };
      }
    },
  });
}

/**
 * Deletes it: asks again while AWS refuses because it is busy (`busyCode`), then waits until it is
 * gone, since its subnet group, security groups and id stay taken until then.
 */
export async function deleteCache<T extends { PendingModifiedValues?: object }>(
  ctx: OpContext,
  cache: CacheInAws<T>,
  remove: () => Promise<unknown>,
  wait: { busyCode: string; acceptTimeoutMs: number; timeoutMs: number; hint: string },
): Promise<void> {
  await ctx.wait({
    what: `${cache.noun} "${ctx.path}" to accept its deletion`,
    timeoutMs: wait.acceptTimeoutMs,
    check: async () => {
      try {
        await remove();
        return { done: true, value: undefined };
      } catch (err) {
        if (isNotFound(err)) return { done: true, value: undefined };
        if (errorCode(err) !== wait.busyCode) throw err;
        const r = await cache.describe();
        return { done: false, state: (r && cache.status(r)) ?? 'busy' };
      }
    },
  });
  await ctx.wait({
    what: `${cache.noun} "${ctx.path}" to be deleted`,
    timeoutMs: wait.timeoutMs,
    hint: wait.hint,
    check: async () => {
      const r = await cache.describe();
      return r ? { done: false, state: cache.status(r) ?? 'deleting' } : { done: true, value: undefined };
    },
  });
}
