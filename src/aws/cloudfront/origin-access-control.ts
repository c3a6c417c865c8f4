// CloudFront origin access control: how a distribution signs its requests to a private S3 bucket.
import type { CloudFront, OriginAccessControlSummary } from '@aws-sdk/client-cloudfront';
import { z } from 'zod';
import { type ArgsOf, field } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { createOnce } from '../create-once.js';
import { errorCode, ignoreNotFound, isNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { inThisRegion } from '../region-scope.js';

const fields = {
  /**
   * Names it in this stack, unique among the stack's origin access controls: letters, digits, `_` and `-`.
   * In CloudFront, which is global, it is called `<stack>.<region>.<name>`, cut to 64 characters, so each region's
   * stack has its own. Changing it means a new one.
   */
  name: field(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\w-]+$/, 'use letters, digits, _ and - only'),
    { replace: true },
  ),
  /** Shown in the CloudFront console. @default '' */
  description: field(z.string().max(256).default('')),
};

export interface OriginAccessControlOutputs {
  /** What a distribution's S3 origin takes as its `originAccessControlId`. */
  id: string;
}

type Args = ArgsOf<typeof fields>;
type OacFound = Found<Args, OriginAccessControlOutputs>;

/** CloudFront's own limit on origin access control names. */
const MAX_NAME = 64;

/**
 * The name in CloudFront: `<stack>.<region>.<name>`. Stack names hold no dots, so one stack's prefix is never the
 * start of another's (`web.` and `web-prod.`), and find never takes another stack's for an orphan of its own.
 * One made before region scoping is `<stack>.<name>`: the stack's where it was deployed then, renamed on the next apply.
 */
export function oacName(stack: string, region: string, name: string): string {
  // The shared naming rules cut the name, with room left for the stack's name and region in front.
  const front = `${stack}.${region}.`;
  const cut = physicalName('x', name, { max: MAX_NAME - front.length + 2 }).slice('x-'.length);
  return `${front}${cut}`;
}

export const OriginAccessControl = defineResourceType({
  kind: 'origin-access-control',
  noun: 'CloudFront origin access control',
  fields,
  outputs: ['id'],
  defaultOutput: 'id',
  // Origin access controls take no tags: they are known by a name derived from the stack's.
  identity: { by: 'name', name: (args) => args.name },

  async find(ctx, wanted) {
    const cf = await ctx.aws.cloudFront();
    const keys = wanted.map((w) => w.key).filter((k): k is string => k !== undefined);
    const byName = new Map(keys.map((key) => [oacName(ctx.stack, ctx.region, key), key]));
    const prefix = `${ctx.stack}.`;
    const found: OacFound[] = [];
    for (const o of await listOriginAccessControls(cf)) {
      if (!o.Name?.startsWith(prefix)) continue;
      const rest = o.Name.slice(prefix.length).split('.');
      const [region, label] = rest.length > 1 ? rest : [undefined, rest[0]!];
      if (!(await inThisRegion(ctx, region))) continue;
      const key = byName.get(o.Name) ?? label!;
      const renamed = oacName(ctx.stack, ctx.region, key);
      const pending = region ? [] : [{ name: 'name in CloudFront', before: o.Name, after: renamed }];
      found.push({ ...toFound(o, key), ...(pending.length ? { pending } : {}) });
    }
    return found;
  },

  async create(ctx, args) {
    const cf = await ctx.aws.cloudFront();
    const wanted = config(oacName(ctx.stack, ctx.region, args.name), args.description);
    // Names are unique and it takes no tags: after a lost answer, the one of the stack's name with these
    // settings is ours (OriginAccessControlAlreadyExists on a retry).
    const made = await createOnce(
      async () => {
        const { OriginAccessControl: oac } = await cf.createOriginAccessControl({
          OriginAccessControlConfig: wanted,
        });
        return { Id: oac!.Id!, Description: oac!.OriginAccessControlConfig?.Description };
      },
      async () => {
        const there = (await listOriginAccessControls(cf)).find((o) => o.Name === wanted.Name);
        return (
          there && {
            value: { Id: there.Id!, Description: there.Description },
            ours: sameSettings(there, wanted),
          }
        );
      },
    );
    return {
      key: args.name,
      id: made.Id!,
      args: { name: args.name, description: made.Description ?? '' },
      outputs: { id: made.Id! },
    };
  },

  async update(ctx, found, args) {
    const cf = await ctx.aws.cloudFront();
    const current = await cf.getOriginAccessControl({ Id: found.id });
    const { OriginAccessControl: updated } = await cf.updateOriginAccessControl({
      Id: found.id,
      IfMatch: current.ETag,
      // One made before region scoping takes its region's name now: UpdateOriginAccessControl renames in place.
      OriginAccessControlConfig: config(oacName(ctx.stack, ctx.region, args.name), args.description),
    });
    return {
      ...found,
      args: { name: args.name, description: updated!.OriginAccessControlConfig?.Description ?? '' },
    };
  },

  async delete(ctx, found) {
    const cf = await ctx.aws.cloudFront();
    await deleteWhenUnused(ctx, cf, found);
  },
});

/** Always signed with SigV4: the bucket policy then needs no public access at all. */
function config(name: string, description: string) {
  return {
    Name: name,
    Description: description,
    SigningProtocol: 'sigv4' as const,
    SigningBehavior: 'always' as const,
    OriginAccessControlOriginType: 's3' as const,
  };
}

function sameSettings(o: OriginAccessControlSummary, want: ReturnType<typeof config>): boolean {
  return (
    (o.Description ?? '') === want.Description &&
    o.SigningProtocol === want.SigningProtocol &&
    o.SigningBehavior === want.SigningBehavior &&
    o.OriginAccessControlOriginType === want.OriginAccessControlOriginType
  );
}

function toFound(o: OriginAccessControlSummary, key: string): OacFound {
  return {
    key,
    id: o.Id!,
    args: { name: key, description: o.Description ?? '' },
    outputs: { id: o.Id! },
  };
}

/** Every origin access control in the account: the API lists them all, up to 100 a page. */
async function listOriginAccessControls(cf: CloudFront): Promise<OriginAccessControlSummary[]> {
  return allPages(
    async (Marker) => (await cf.listOriginAccessControls({ Marker, MaxItems: 100 })).OriginAccessControlList,
    (page) => page?.Items,
    (page) => (page?.IsTruncated ? page.NextMarker : undefined),
  );
}

/** Deletes with the current ETag, waiting while a distribution still uses it (its own update is still deploying). */
async function deleteWhenUnused(ctx: OpContext, cf: CloudFront, found: OacFound): Promise<void> {
  await ctx.wait({
    what: `CloudFront origin access control "${ctx.path}" to be unused`,
    timeoutMs: 10 * 60_000,
    hint: "a CloudFront distribution still uses it: remove it from that distribution's origins, then run the same command again",
    check: async () => {
      const current = await ignoreNotFound(cf.getOriginAccessControl({ Id: found.id }));
      if (!current) return { done: true, value: undefined };
      try {
        await cf.deleteOriginAccessControl({ Id: found.id, IfMatch: current.ETag });
      } catch (err) {
        if (errorCode(err) === 'OriginAccessControlInUse')
          return { done: false, state: 'in use by a distribution' };
        if (isNotFound(err)) return { done: true, value: undefined };
        throw err;
      }
      return { done: true, value: undefined };
    },
  });
}
