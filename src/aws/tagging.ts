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
 * The stack's resources of the given types (`'kms:key'`, `'ecs:service'`, a whole service as `'sqs'`; none: all
 * of them), with their tags. The index lags behind writes: callers that must see a new resource or miss a deleted
 * one read the resource itself too. `clients` picks another region's tagging API (CloudFront lists its
 * distributions in us-east-1). Asks made in the same turn of the event loop (a plan's finders start together)
 * share one GetResources listing, one call a page for all of them, where each made its own: GetResources has a
 * per-second rate limit, and twenty calls at once from one plan would be throttled.
 * https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html
 */
export function stackResources(
  ctx: FindContext,
  resourceTypeFilters: string[],
  options: { clients?: AwsClients } = {},
): Promise<TaggedResource[]> {
  const clients = options.clients ?? ctx.aws;
  const batches = pending.get(clients) ?? new Map<string, Batch>();
  pending.set(clients, batches);
  let batch = batches.get(ctx.stack);
  if (!batch) {
    const started: Batch = { asks: [] };
    batch = started;
    batches.set(ctx.stack, started);
    setImmediate(() => {
      batches.delete(ctx.stack);
      void listBatch(clients, ctx.stack, started);
    });
  }
  return new Promise((resolve, reject) => batch.asks.push({ filters: resourceTypeFilters, resolve, reject }));
}

interface Batch {
  asks: { filters: string[]; resolve: (r: TaggedResource[]) => void; reject: (e: unknown) => void }[];
}

/** Asks not yet sent, by the clients (a region's) and the stack they list. */
const pending = new WeakMap<AwsClients, Map<string, Batch>>();

async function listBatch(clients: AwsClients, stack: string, { asks }: Batch): Promise<void> {
  // An ask for every type makes the listing unfiltered; otherwise it is filtered by every type asked for.
  const filters = asks.some((a) => a.filters.length === 0)
    ? []
    : [...new Set(asks.flatMap((a) => a.filters))];
  try {
    const tagging = await clients.tagging();
    const resources = await allPages(
      (PaginationToken) =>
        tagging.getResources({
          ...(filters.length > 0 ? { ResourceTypeFilters: filters } : {}),
          TagFilters: [{ Key: STACK_TAG, Values: [stack] }],
          PaginationToken,
        }),
      (page) =>
        (page.ResourceTagMappingList ?? []).flatMap((r) =>
          r.ResourceARN ? [{ arn: r.ResourceARN, tags: tagMap(r.Tags) }] : [],
        ),
      (page) => page.PaginationToken,
    );
    for (const ask of asks)
      ask.resolve(
        ask.filters.length === 0
          ? resources
          : resources.filter((r) => ask.filters.some((f) => matches(f, r.arn))),
      );
  } catch (error) {
    for (const ask of asks) ask.reject(error);
  }
}

/**
 * Whether a filter (`service` or `service:type`) takes this ARN, as the API reads it: "the same as that embedded
 * in a resource's ARN". https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html
 */
function matches(filter: string, arn: string): boolean {
  // arn:partition:service:region:account:type/id (or type:id; a bucket is its name alone)
  const [, , service = '', , , ...rest] = arn.split(':');
  const type = rest.join(':').split(/[:/]/)[0];
  return filter === service || filter === `${service}:${type}`;
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
  for (const { arn } of resources) for (const l of listings) if (matches(l, arn)) present.add(l);
  return present;
}
