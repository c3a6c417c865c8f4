// The stack's resources of some types from the Resource Groups Tagging API: for the services whose own
// List and Describe calls cannot filter by tag.
import type { FindContext } from '../core/resource.js';
import type { AwsClients } from './clients.js';
import { allPages } from './pages.js';
import { STACK_TAG, type TagMap, tagMap } from './tags.js';

/** One resource the tagging API lists as the stack's. */
export interface TaggedResource {
  arn: string;
  tags: TagMap;
}

/**
 * The stack's resources of the given types (`'kms:key'`, `'ecs:service'`, a whole service as `'sqs'`),
 * with their tags: one GetResources call per 100 of them. The index lags behind writes: callers that
 * must see a new resource or miss a deleted one read the resource itself too. `clients` picks another
 * region's tagging API (CloudFront lists its distributions in us-east-1).
 */
export async function stackResources(
  ctx: FindContext,
  resourceTypeFilters: string[],
  options: { clients?: AwsClients } = {},
): Promise<TaggedResource[]> {
  const tagging = await (options.clients ?? ctx.aws).tagging();
  return allPages(
    (PaginationToken) =>
      tagging.getResources({
        ResourceTypeFilters: resourceTypeFilters,
        TagFilters: [{ Key: STACK_TAG, Values: [ctx.stack] }],
        PaginationToken,
      }),
    (page) =>
      (page.ResourceTagMappingList ?? []).flatMap((r) =>
        r.ResourceARN ? [{ arn: r.ResourceARN, tags: tagMap(r.Tags) }] : [],
      ),
    (page) => page.PaginationToken,
  );
}
