// What the ELBv2 resource files share: the stack's load balancers and target groups (found by tag),
// tags read 20 ARNs a call, tag updates, and the listeners of a set of load balancers.
import type {
  Action,
  Listener as AwsListener,
  ElasticLoadBalancingV2,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import pLimit from 'p-limit';
import type { FindContext, OpContext } from '../../core/resource.js';
import { type Existing, ownedHere } from '../create-once.js';
import { ignoreNotFound, isNotFound } from '../errors.js';
import { allPages, byNextMarker } from '../pages.js';
import { stackResources } from '../tagging.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagDelta, tagList, tagMap } from '../tags.js';

export type ElbV2 = ElasticLoadBalancingV2;

/** DescribeTags, DescribeLoadBalancers and DescribeTargetGroups take up to 20 ARNs a call. */
const ARNS_PER_CALL = 20;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * ARNs of the stack's load balancers or target groups, from the tagging API: ELBv2's Describe calls
 * cannot filter by tag. One call per 100 resources.
 */
export async function stackArns(ctx: FindContext, type: 'loadbalancer' | 'targetgroup'): Promise<string[]> {
  return (await stackResources(ctx, [`elasticloadbalancing:${type}`])).map((r) => r.arn);
}

/**
 * Describes ARNs 20 a call. The tagging API lags behind deletes and one gone ARN fails its whole
 * batch, so such a batch is asked again one ARN a call.
 */
export async function describeByArn<T>(
  arns: readonly string[],
  describe: (batch: string[]) => Promise<T[] | undefined>,
): Promise<T[]> {
  const pages = await Promise.all(
    chunks([...new Set(arns)], ARNS_PER_CALL).map(async (batch) => {
      try {
        return (await describe(batch)) ?? [];
      } catch (err) {
        if (!isNotFound(err)) throw err;
        if (batch.length === 1) return [];
        const one = await Promise.all(batch.map((arn) => ignoreNotFound(describe([arn]))));
        return one.flatMap((r) => r ?? []);
      }
    }),
  );
  return pages.flat();
}

/** Tags by ARN, 20 ARNs a call. DescribeTags reads them fresh; the tagging API is an index that lags. */
export async function describeTags(elbv2: ElbV2, arns: readonly string[]): Promise<Map<string, TagMap>> {
  const described = await describeByArn(
    arns,
    async (ResourceArns) => (await elbv2.describeTags({ ResourceArns })).TagDescriptions,
  );
  return new Map(described.map((d) => [d.ResourceArn!, tagMap(d.Tags)]));
}

/** True when the tags say this stack made it as a resource of this kind (ELBv2 kinds share one tag space). */
export function ownedAs(tags: TagMap | undefined, stack: string, kind: string): tags is TagMap {
  return tags?.[STACK_TAG] === stack && (tags[RESOURCE_TAG] ?? '').startsWith(`${kind}.`);
}

/** An ARN a create's lost answer made, as createOnce adopts it: ours when its tags name this stack and address. */
export async function ownedArn(
  ctx: Pick<OpContext, 'tags'>,
  elbv2: ElbV2,
  arn: string | undefined,
): Promise<Existing<string> | undefined> {
  if (!arn) return undefined;
  return { value: arn, ours: ownedHere(ctx, (await describeTags(elbv2, [arn])).get(arn)) };
}

/** Brings a resource's own tags to the desired set; ownership tags are in neither and stay. */
export async function updateTags(elbv2: ElbV2, arn: string, current: TagMap, desired: TagMap): Promise<void> {
  const { set, remove } = tagDelta(current, desired);
  if (Object.keys(set).length > 0) await elbv2.addTags({ ResourceArns: [arn], Tags: tagList(set) });
  if (remove.length > 0) await elbv2.removeTags({ ResourceArns: [arn], TagKeys: remove });
}

/** Every listener of these load balancers: one DescribeListeners call each, the only way the API lists them. */
export async function listenersOf(elbv2: ElbV2, loadBalancerArns: readonly string[]): Promise<AwsListener[]> {
  const limit = pLimit(5);
  const lists = await Promise.all(
    [...new Set(loadBalancerArns)].map((LoadBalancerArn) =>
      limit(() =>
        ignoreNotFound(
          allPages(
            (Marker) => elbv2.describeListeners({ LoadBalancerArn, Marker }),
            (p) => p.Listeners,
            byNextMarker,
          ),
        ),
      ),
    ),
  );
  return lists.flatMap((l) => l ?? []);
}

/** The declared values already known while finding (a reference to another resource is not yet). */
export function knownStrings(values: readonly unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string');
}

/** The target group a forward action sends to (AWS fills both spellings; either may be alone). */
export function forwardTarget(action: Action | undefined): string | undefined {
  if (action?.Type !== 'forward') return undefined;
  return action.TargetGroupArn ?? action.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
}
