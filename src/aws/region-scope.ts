// Global resources (IAM, CloudFront, Route 53, CloudFront's us-east-1 certificate) belong to one region's stack:
// a stack of the same name in another region owns its own, so a plan there never touches them.
import type { AttributeChange } from '../core/diff.js';
import type { FindContext, Found } from '../core/resource.js';
import { physicalName } from './names.js';
import { stackResources } from './tagging.js';
import { REGION_TAG, RESOURCE_TAG, STACK_TAG, type TagMap } from './tags.js';

/**
 * Whether a global resource with these tags is the stack's in this region. One made before region scoping
 * has no region tag: it is the stack's where the stack's regional resources also lack it (they were made then
 * too), so a stack deployed before keeps its globals and a new region's stack never takes them.
 */
export async function inStackRegion(ctx: FindContext, tags: TagMap): Promise<boolean> {
  return tags[STACK_TAG] === ctx.stack && inThisRegion(ctx, tags[REGION_TAG]);
}

/** Whether a global resource of the stack marked with this region (none: made before region scoping) is ours here. */
export async function inThisRegion(ctx: FindContext, region: string | undefined): Promise<boolean> {
  return region === undefined ? madeBeforeRegionScoping(ctx) : region === ctx.region;
}

/** The region tag a global resource made before region scoping gets on the next apply, as the plan shows it. */
export function regionTagPending(ctx: FindContext, tags: TagMap): AttributeChange[] {
  return tags[REGION_TAG] === undefined ? [{ name: REGION_TAG, after: ctx.region }] : [];
}

/** Whether the plan found this global resource without its region tag (update then adds it). */
export function lacksRegionTag(found: { pending?: Found['pending'] }): boolean {
  return (found.pending ?? []).length > 0;
}

/** A global resource's name in one region: `<name>-<region>`, cut to the service's limit with a short hash. */
export function regionalName(name: string, region: string, max: number): string {
  return physicalName(name, region, { max, allowed: /[\w+=,.@-]/ });
}

// One tagging-API read per plan (the FindContext lives as long as one engine), shared by every global type.
const seen = new WeakMap<FindContext, Promise<boolean>>();

function madeBeforeRegionScoping(ctx: FindContext): Promise<boolean> {
  let answer = seen.get(ctx);
  if (!answer) {
    answer = stackResources(ctx, []).then((resources) =>
      resources.some(({ arn, tags }) => {
        // arn:partition:service:region:…: global services list an empty region; ACM is left out, as CloudFront's
        // certificate of another region's stack lives in us-east-1.
        const [, , service, region] = arn.split(':');
        return region === ctx.region && service !== 'acm' && tags[REGION_TAG] === undefined;
      }),
    );
    seen.set(ctx, answer);
  }
  return answer;
}

/** The name a global resource was declared with: its address tag says it, as its name may carry the region. */
export function declaredName(kind: string, tags: TagMap, fallback: string): string {
  const address = tags[RESOURCE_TAG];
  return address?.startsWith(`${kind}.`) ? address.slice(kind.length + 1) : fallback;
}
