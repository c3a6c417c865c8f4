// Route 53 hosted zone: the DNS zone of a domain. Users usually have one already: an existing public zone
// that no stack owns is adopted (tagged, read, used) but never deleted.
import { createHash, randomBytes } from 'node:crypto';
import type { GetHostedZoneResponse, Route53 } from '@aws-sdk/client-route-53';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { createOnce } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { inStackRegion, lacksRegionTag, regionTagPending } from '../region-scope.js';
import { REGION_TAG, RESOURCE_TAG, STACK_TAG, type TagMap, tagDelta, tagList, userTags } from '../tags.js';
import {
  accountZones,
  canonicalName,
  changeRecords,
  domainName,
  readRecordSets,
  waitInSync,
  type ZoneSummary,
  zoneIdOf,
  zoneTags,
} from './record.js';

/** Marks a zone Touchdown adopted rather than created: destroy only removes Touchdown's tags from it. */
export const ADOPTED_TAG = 'touchdown:adopted';

const fields = {
  /** Your label for the zone, e.g. `public`. */
  name: field(z.string().min(1).max(200)),
  /** The domain the zone answers for, e.g. `example.com`. Changing it means a new zone. */
  domain: field(domainName(), { replace: true }),
  /**
   * Makes the zone private to this VPC (it answers only inside it). Changing it means a new zone.
   * @default none: a public zone
   */
  vpcId: field(input(z.string().min(1)).optional(), { replace: true }),
  /** Shown in the console. @default none */
  comment: field(z.string().max(256).optional(), { normalize: (v) => v ?? '' }),
  /**
   * When an existing public zone for the domain belongs to no stack, use it instead of creating a second
   * one (whose name servers the registrar would not know). An adopted zone keeps its comment and tags,
   * gets Touchdown's ownership tags and `touchdown:adopted=true`, and destroy only removes those tags.
   * Read at creation only. @default true
   */
  adopt: field(z.boolean().default(true), { writeOnly: true }),
  tags: field(tags()),
};

export interface HostedZoneOutputs {
  /** The zone id without `/hostedzone/`, e.g. Z0123456789ABCDEFGHIJ. */
  id: string;
  /** The name servers to give the domain's registrar (none for a private zone). */
  nameServers: string[];
  domain: string;
  /** True when the zone existed before and Touchdown adopted it: it is never deleted. */
  adopted: boolean;
}

type Args = ArgsOf<typeof fields>;
type ZoneFound = Found<Args, HostedZoneOutputs>;

export const HostedZone = defineResourceType({
  kind: 'hosted-zone',
  noun: 'hosted zone',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 60 },
  fields,
  outputs: ['id', 'nameServers', 'domain', 'adopted'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  /**
   * Every zone in the account is listed with its tags (1 + ⌈zones/10⌉ calls, shared with DNS records'
   * finder), then one GetHostedZone per zone of this stack for its name servers and VPC (no batched form).
   */
  async find(ctx, wanted) {
    const route53 = await ctx.aws.route53();
    const zones = await accountZones(ctx);
    const prefix = referencePrefix(ctx.stack);
    const byReference = new Map(
      wanted.flatMap((w) => [
        [referenceOf(ctx.stack, ctx.region, w.address), w.address],
        [referenceOf(ctx.stack, undefined, w.address), w.address],
      ]),
    );
    const ours: { zone: ZoneSummary; key: string }[] = [];
    for (const zone of zones) {
      if (await inStackRegion(ctx, zone.tags)) {
        ours.push({ zone, key: zone.tags[RESOURCE_TAG] ?? `untagged-${zone.id}` });
      } else if (!zone.tags[STACK_TAG] && zone.callerReference.startsWith(prefix)) {
        // Created by this stack but a run stopped before tagging it: its caller reference says whose it is. It
        // names the region too (a reference of an earlier release does not): the same stack deploying in another
        // region at the same moment has zones untagged for an instant, which are not this region's.
        const parts = zone.callerReference.split(':');
        const region = ADDRESS_HASH.test(parts[2] ?? '') ? undefined : parts[2];
        if (region !== undefined && region !== ctx.region) continue;
        const reference = parts.slice(0, region === undefined ? 3 : 4).join(':');
        ours.push({ zone, key: byReference.get(reference) ?? `untagged-${zone.id}` });
      }
    }
    const limit = pLimit(5);
    const found = await Promise.all(
      ours.map(({ zone, key }) =>
        limit(async () => {
          const detail = await ignoreNotFound(route53.getHostedZone({ Id: zone.id }), 'NoSuchHostedZone');
          if (!detail) return undefined;
          const pending = zone.tags[STACK_TAG] ? regionTagPending(ctx, zone.tags) : [];
          return { ...toFound(key, zone.tags, detail), ...(pending.length ? { pending } : {}) };
        }),
      ),
    );
    return found.filter((f): f is ZoneFound => f !== undefined);
  },

  async create(ctx, args) {
    const route53 = await ctx.aws.route53();
    if (args.adopt && args.vpcId === undefined) {
      const adopted = await adopt(ctx, route53, args.domain);
      if (adopted) return adopted;
    }
    // Route 53 never accepts a caller reference twice, even after the zone is deleted: a unique suffix,
    // after a prefix saying which stack and resource made it (so an untagged zone is still recognised).
    const reference = `${referenceOf(ctx.stack, ctx.region, ctx.address)}:${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
    // After a lost answer (or HostedZoneAlreadyExists on a retry), the zone with our reference is the one we made.
    const { id, change } = await createOnce(
      async () => {
        const created = await route53.createHostedZone({
          Name: args.domain,
          CallerReference: reference,
          HostedZoneConfig: { Comment: args.comment, PrivateZone: args.vpcId !== undefined },
          VPC: args.vpcId !== undefined ? { VPCId: args.vpcId, VPCRegion: ctx.region as never } : undefined,
        });
        return { id: zoneIdOf(created.HostedZone!.Id) as string, change: created.ChangeInfo?.Id };
      },
      async () => {
        const mine = (await listAllZones(route53)).find((z) => z.CallerReference === reference);
        return mine && { value: { id: zoneIdOf(mine.Id) as string, change: undefined }, ours: true };
      },
    );
    // CreateHostedZone takes no tags: they follow at once (the caller reference covers the gap).
    await route53.changeTagsForResource({
      ResourceType: 'hostedzone',
      ResourceId: id,
      AddTags: tagList(ctx.tags(args.tags)),
    });
    if (change) await waitInSync(ctx, route53, change, `hosted zone "${ctx.path}"`);
    return read(ctx, route53, id);
  },

  async update(ctx, found, args, changed) {
    const route53 = await ctx.aws.route53();
    if (changed.includes('comment')) {
      await route53.updateHostedZoneComment({ Id: found.id, Comment: args.comment ?? '' });
    }
    if (changed.includes('tags') || lacksRegionTag(found)) {
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      // One made before region scoping becomes this region's stack's.
      if (lacksRegionTag(found)) set[REGION_TAG] = ctx.region;
      await route53.changeTagsForResource({
        ResourceType: 'hostedzone',
        ResourceId: found.id,
        AddTags: Object.keys(set).length > 0 ? tagList(set) : undefined,
        RemoveTagKeys: remove.length > 0 ? remove : undefined,
      });
    }
    return read(ctx, route53, found.id);
  },

  async delete(ctx, found) {
    const route53 = await ctx.aws.route53();
    if (found.outputs.adopted) {
      ctx.progress("leaving the adopted zone in place; removing only Touchdown's tags");
      await ignoreNotFound(
        route53.changeTagsForResource({
          ResourceType: 'hostedzone',
          ResourceId: found.id,
          RemoveTagKeys: [STACK_TAG, RESOURCE_TAG, REGION_TAG, ADOPTED_TAG],
        }),
        'NoSuchHostedZone',
      );
      return;
    }
    await ignoreNotFound(route53.deleteHostedZone({ Id: found.id }), 'NoSuchHostedZone');
  },

  // The stack's own records and certificate validations are still there until the plan deletes them.
  holdsDataOnceDependentsGone: true,
  /** Records nobody in this stack manages (the stack's own are deleted first) would go with the zone. */
  async holdsData(ctx, found) {
    if (found.outputs.adopted) return undefined;
    const route53 = await ctx.aws.route53();
    const others = await foreignRecords(route53, found);
    if (others.length === 0) return undefined;
    const names = others.slice(0, 3).map((s) => `${canonicalName(s.Name ?? '')} ${s.Type}`);
    return `${others.length} DNS record${others.length === 1 ? '' : 's'} (${names.join(', ')}${others.length > 3 ? ', …' : ''})`;
  },

  async empty(ctx, found) {
    const route53 = await ctx.aws.route53();
    const others = await foreignRecords(route53, found);
    // Route 53 takes up to 1,000 records a batch; a hundred sets keeps well inside it.
    for (let i = 0; i < others.length; i += 100) {
      const changes = others
        .slice(i, i + 100)
        .map((s) => ({ Action: 'DELETE' as const, ResourceRecordSet: s }));
      await changeRecords(ctx, route53, found.id, changes, `the records of hosted zone "${ctx.path}"`);
    }
  },
});

/** Stack and resource in a caller reference, hashed to stay within its 128 characters. */
/** touchdown:<stack hash>:<region>:<address hash>; without a region, as references were before it. */
function referenceOf(stack: string, region: string | undefined, address: string): string {
  const hash = createHash('sha256').update(address).digest('hex').slice(0, 16);
  return `${referencePrefix(stack)}${region === undefined ? '' : `${region}:`}${hash}`;
}

const ADDRESS_HASH = /^[0-9a-f]{16}$/;

function referencePrefix(stack: string): string {
  return `touchdown:${createHash('sha256').update(stack).digest('hex').slice(0, 12)}:`;
}

async function listAllZones(route53: Route53) {
  return allPages(
    (Marker) => route53.listHostedZones({ Marker, MaxItems: 100 }),
    (p) => p.HostedZones,
    (p) => (p.IsTruncated ? p.NextMarker : undefined),
  );
}

/** The one public zone for the domain that no stack owns, tagged as adopted; undefined when there is none. */
async function adopt(ctx: OpContext, route53: Route53, domain: string): Promise<ZoneFound | undefined> {
  const { HostedZones } = await route53.listHostedZonesByName({ DNSName: domain, MaxItems: 100 });
  const candidates = (HostedZones ?? []).filter(
    (z) => canonicalName(z.Name ?? '') === domain && !z.Config?.PrivateZone,
  );
  if (candidates.length === 0) return undefined;
  const tagsById = await zoneTags(
    route53,
    candidates.map((z) => zoneIdOf(z.Id) as string),
  );
  const ids = candidates.map((z) => zoneIdOf(z.Id) as string);
  const free = ids.filter((id) => !tagsById.get(id)?.[STACK_TAG]);
  if (free.length === 0) {
    const owner = tagsById.get(ids[0]!)?.[STACK_TAG];
    const region = tagsById.get(ids[0]!)?.[REGION_TAG];
    if (owner === ctx.stack && region !== ctx.region) {
      // The same stack in another region: each region's stack owns its own zone, so a destroy here never takes it.
      ctx.progress(
        `the zone for ${domain} belongs to this stack in ${region ?? 'another region'}: making this region's own`,
      );
      return undefined;
    }
    throw new Error(
      `the public hosted zone ${ids[0]} for ${domain} belongs to the stack "${owner}": ` +
        'declare its records in that stack, or set adopt: false to create a second zone',
    );
  }
  if (free.length > 1) {
    throw new Error(
      `${free.length} public hosted zones are named ${domain} (${free.join(', ')}), so Touchdown cannot tell ` +
        'which one the registrar uses: delete the unused ones, or set adopt: false to create a new zone',
    );
  }
  const id = free[0]!;
  ctx.progress(
    `adopting the existing public hosted zone ${id} for ${domain}; destroy will leave it in place`,
  );
  await route53.changeTagsForResource({
    ResourceType: 'hostedzone',
    ResourceId: id,
    AddTags: tagList(ctx.tags({ [ADOPTED_TAG]: 'true' })),
  });
  return read(ctx, route53, id);
}

async function read(ctx: OpContext, route53: Route53, id: string): Promise<ZoneFound> {
  const [detail, t] = await Promise.all([route53.getHostedZone({ Id: id }), zoneTags(route53, [id])]);
  const tagsNow = t.get(id) ?? {};
  return toFound(tagsNow[RESOURCE_TAG] ?? ctx.address, tagsNow, detail);
}

function toFound(key: string, t: TagMap, detail: GetHostedZoneResponse): ZoneFound {
  const zone = detail.HostedZone!;
  const id = zoneIdOf(zone.Id) as string;
  const domain = canonicalName(zone.Name ?? '');
  const adopted = t[ADOPTED_TAG] === 'true';
  const isPrivate = zone.Config?.PrivateZone ?? false;
  const args: Partial<Args> = {
    domain,
    vpcId: isPrivate ? detail.VPCs?.[0]?.VPCId : undefined,
  };
  // An adopted zone's comment and tags are its owner's: never compared, never changed.
  if (!adopted) {
    args.comment = zone.Config?.Comment;
    args.tags = userTags(t);
  }
  return {
    key,
    id,
    args,
    outputs: { id, nameServers: detail.DelegationSet?.NameServers ?? [], domain, adopted },
  };
}

/** The zone's records other than its own NS and SOA (which go with it). */
async function foreignRecords(route53: Route53, found: ZoneFound) {
  const sets = await ignoreNotFound(readRecordSets(route53, found.id), 'NoSuchHostedZone');
  return (sets ?? []).filter(
    (s) => !(canonicalName(s.Name ?? '') === found.outputs.domain && (s.Type === 'NS' || s.Type === 'SOA')),
  );
}
