// What every EC2 resource file shares: names, tag updates, and deletes that wait for dependents to go.
import type { EC2 } from '@aws-sdk/client-ec2';
import type { OpContext } from '../../core/resource.js';
import { errorCode, isNotFound } from '../errors.js';
import { type TagMap, tagDelta, tagList, tagSpecifications } from '../tags.js';

/** The Name tag shown in the console: the path the user gave, `radpress/lb` as `radpress-lb`. */
export function nameTag(path: string): string {
  return path.replaceAll('/', '-');
}

/** TagSpecifications for an EC2 create call: ownership tags, the Name tag and the user's own, in one request. */
export function ec2Tags(ctx: OpContext, resourceType: string, user: TagMap) {
  return tagSpecifications(resourceType, ctx.tags({ ...user, Name: nameTag(ctx.path) }));
}

/** Brings an EC2 resource's own tags to the desired set, leaving ownership tags alone. */
export async function updateEc2Tags(ec2: EC2, id: string, current: TagMap, desired: TagMap): Promise<void> {
  const { set, remove } = tagDelta(current, desired);
  if (Object.keys(set).length > 0) await ec2.createTags({ Resources: [id], Tags: tagList(set) });
  if (remove.length > 0) await ec2.deleteTags({ Resources: [id], Tags: remove.map((Key) => ({ Key })) });
}

/**
 * Deletes, retrying while AWS says something still depends on it (network interfaces of a
 * deleted NAT gateway or load balancer linger for minutes). Not found counts as deleted.
 */
export async function deleteWhenFree(
  ctx: OpContext,
  what: string,
  call: () => Promise<unknown>,
  timeoutMs = 15 * 60_000,
) {
  await ctx.wait({
    what: `${what} to be free of dependents`,
    timeoutMs,
    hint: 'something outside this stack may still use it (a network interface, an instance): remove that, then run the same command again',
    check: async () => {
      try {
        await call();
      } catch (err) {
        if (isNotFound(err)) return { done: true, value: undefined };
        if (/DependencyViolation|InUse|InvalidState/.test(errorCode(err)))
          return { done: false, state: errorCode(err) };
        throw err;
      }
      return { done: true, value: undefined };
    },
  });
}
