// The one tag helper: ownership tags on every taggable resource, in each API's own shape.

export const STACK_TAG = 'touchdown:stack';
export const RESOURCE_TAG = 'touchdown:resource';
/** The stack's region, on everything: global resources (IAM, CloudFront, Route 53) belong to one region's stack. */
export const REGION_TAG = 'touchdown:region';

export type TagMap = Record<string, string>;

export function ownershipTags(stack: string, address: string, user: TagMap = {}, region?: string): TagMap {
  const tags = { ...user, [STACK_TAG]: stack, [RESOURCE_TAG]: address };
  return region ? { ...tags, [REGION_TAG]: region } : tags;
}

/** [{ Key, Value }] as EC2, IAM, S3, SSM, Secrets Manager and most others take them. */
export function tagList(tags: TagMap): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** KMS spells them TagKey and TagValue. */
export function kmsTagList(tags: TagMap): { TagKey: string; TagValue: string }[] {
  return Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

/** EC2's TagSpecifications, so that the tags arrive with the create call itself. */
export function tagSpecifications(resourceType: string, tags: TagMap) {
  return [{ ResourceType: resourceType as never, Tags: tagList(tags) }];
}

export function tagMap(list: readonly { Key?: string; Value?: string }[] | undefined): TagMap {
  const out: TagMap = {};
  for (const t of list ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** The user's own tags, without Touchdown's and AWS's reserved ones (and without EC2's Name, which we set). */
export function userTags(tags: TagMap, { keepName = false } = {}): TagMap {
  return Object.fromEntries(
    Object.entries(tags).filter(
      ([k]) => !k.startsWith('touchdown:') && !k.startsWith('aws:') && (keepName || k !== 'Name'),
    ),
  );
}

/** EC2 filter that selects everything this stack owns. */
export function stackFilter(stack: string) {
  return { Name: `tag:${STACK_TAG}`, Values: [stack] };
}

/** Tag keys to add and remove to go from one set of tags to another. */
export function tagDelta(current: TagMap, desired: TagMap): { set: TagMap; remove: string[] } {
  const set: TagMap = {};
  for (const [k, v] of Object.entries(desired)) if (current[k] !== v) set[k] = v;
  const remove = Object.keys(current).filter((k) => !(k in desired) && !k.startsWith('aws:'));
  return { set, remove };
}
