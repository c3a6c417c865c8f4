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

/**
 * Which of these listings (`ec2:vpc`, or a whole service, `rds`) hold any of the stack's resources: one
 * GetResources call a page, asked for the listings alone. It matches filters as AWS does: a service filter
 * matches all its types. https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html
 */
export async function listedOf(
  clients: AwsClients,
  stack: string,
  listings: readonly string[],
): Promise<Set<string>> {
  const present = new Set<string>();
  const resources = await stackResources({ stack, aws: clients } as FindContext, [...listings], { clients });
  for (const { arn } of resources) {
    // arn:partition:service:region:account:type/id (or type:id; a bucket is its name alone)
    const [, , service = '', , , ...rest] = arn.split(':');
    const type = rest.join(':').split(/[:/]/)[0];
    for (const l of listings) if (l === service || l === `${service}:${type}`) present.add(l);
  }
  return present;
}
