// DNS record: one Route 53 record set (a name and a type), with an ownership TXT record beside it, since
// Route 53 records take no tags. Also the Route 53 helpers hosted zones, certificates and SES domains share.
import type { Change, ResourceRecordSet, Route53 } from '@aws-sdk/client-route-53';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { errorCode, ignoreNotFound, isNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { inStackRegion, inThisRegion } from '../region-scope.js';
import { type TagMap, tagMap } from '../tags.js';

/** Tag on certificates and SES domains: the zone their DNS records were written to, so delete can remove them. */
export const ZONE_TAG = 'touchdown:zone';

// ---- names ----

/** One form for a domain name, as users and Route 53 write it: lower case, no trailing dot, `\052` read as `*`. */
export function canonicalName(name: string): string {
  return name
    .trim()
    .replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
    .toLowerCase()
    .replace(/\.$/, '');
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A fully qualified domain name; a trailing dot is optional. `*` is allowed as the first label when wildcard is set. */
export function domainName(options: { wildcard?: boolean } = {}) {
  return z
    .string()
    .min(1)
    .transform(canonicalName)
    .superRefine((name, ctx) => {
      const labels = name.split('.');
      const bad = labels.find((l, i) => !(LABEL.test(l) || (options.wildcard && i === 0 && l === '*')));
      if (name.length > 253 || bad !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message:
            `"${name}" is not a domain name: write it like www.example.com` +
            (options.wildcard ? ' (or *.example.com for a wildcard)' : ''),
        });
      }
    });
}

/** Hosted zone ids as users pass them (`Z123` or `/hostedzone/Z123`) in one form. */
export function zoneIdOf(id: unknown): unknown {
  return typeof id === 'string' ? id.replace(/^\/hostedzone\//, '') : id;
}

/** True when a name is the zone's own name or inside it. */
export function inZone(name: string, zoneName: string): boolean {
  const n = canonicalName(name);
  const z = canonicalName(zoneName);
  return n === z || n.endsWith(`.${z}`);
}

// ---- TXT values: DNS splits text into quoted strings of at most 255 characters ----

/** The quoted form Route 53 wants for a TXT value; a value already in quotes is sent as written. */
export function txtRecordValue(text: string): string {
  if (text.startsWith('"')) return text;
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 255) chunks.push(text.slice(i, i + 255));
  return chunks.map((c) => `"${c.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(' ');
}

/** The text of a quoted TXT value (`"a" "b"` is `ab`); anything else unchanged. */
export function txtText(value: string): string {
  if (!value.startsWith('"')) return value;
  const parts = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
  return parts.join('');
}

// ---- reading and writing record sets ----

export interface RecordSetKey {
  name: string;
  type: string;
}

/** Every record set in a zone, page by page (300 a page). */
export async function readRecordSets(route53: Route53, zoneId: string): Promise<ResourceRecordSet[]> {
  const out: ResourceRecordSet[] = [];
  let next: { StartRecordName?: string; StartRecordType?: never; StartRecordIdentifier?: string } = {};
  for (;;) {
    const page = await route53.listResourceRecordSets({ HostedZoneId: zoneId, ...next });
    out.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated || !page.NextRecordName) return out;
    next = {
      StartRecordName: page.NextRecordName,
      StartRecordType: page.NextRecordType as never,
      StartRecordIdentifier: page.NextRecordIdentifier,
    };
  }
}

/** The record sets that exist now for some names and types: one call each, starting at that name. */
export async function currentRecordSets(
  route53: Route53,
  zoneId: string,
  keys: readonly RecordSetKey[],
): Promise<ResourceRecordSet[]> {
  const limit = pLimit(5);
  const found = await Promise.all(
    keys.map((k) =>
      limit(async () => {
        const page = await route53.listResourceRecordSets({
          HostedZoneId: zoneId,
          StartRecordName: k.name,
          StartRecordType: k.type as never,
          MaxItems: 1,
        });
        const set = page.ResourceRecordSets?.[0];
        const same = set && canonicalName(set.Name ?? '') === canonicalName(k.name) && set.Type === k.type;
        return same && !set.SetIdentifier ? set : undefined;
      }),
    ),
  );
  return found.filter((s): s is ResourceRecordSet => s !== undefined);
}

/** Sends one atomic batch of changes and waits until every Route 53 name server answers with it. */
export async function changeRecords(
  ctx: OpContext,
  route53: Route53,
  zoneId: string,
  changes: Change[],
  what: string,
): Promise<void> {
  if (changes.length === 0) return;
  const { ChangeInfo } = await route53.changeResourceRecordSets({
    HostedZoneId: zoneId,
    ChangeBatch: { Comment: `touchdown ${ctx.stack} ${ctx.address}`.slice(0, 256), Changes: changes },
  });
  await waitInSync(ctx, route53, ChangeInfo!.Id!, what);
}

/** Waits for a Route 53 change (a record batch, a new zone) to reach all of Route 53's name servers. */
export async function waitInSync(ctx: OpContext, route53: Route53, changeId: string, what: string) {
  await ctx.wait({
    what: `${what} to reach every Route 53 name server`,
    timeoutMs: 5 * 60_000,
    hint: 'Route 53 usually applies a change everywhere within 60 seconds: run the same command again to keep waiting',
    check: async () => {
      const { ChangeInfo } = await route53.getChange({ Id: changeId });
      return ChangeInfo?.Status === 'INSYNC'
        ? { done: true, value: undefined }
        : { done: false, state: ChangeInfo?.Status ?? 'PENDING' };
    },
  });
}

/** Writes record sets (replacing what is there under the same name and type). */
export async function upsertRecordSets(
  ctx: OpContext,
  route53: Route53,
  zoneId: string,
  sets: ResourceRecordSet[],
  what: string,
): Promise<void> {
  const changes = sets.map((s): Change => ({ Action: 'UPSERT', ResourceRecordSet: s }));
  await changeRecords(ctx, route53, zoneId, changes, what);
}

/**
 * Deletes record sets by name and type with the values they hold now (Route 53 wants them exactly);
 * ones already gone are skipped, and a zone already gone means there is nothing to do.
 */
export async function deleteRecordSets(
  ctx: OpContext,
  route53: Route53,
  zoneId: string,
  keys: readonly RecordSetKey[],
  what: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await ignoreNotFound(currentRecordSets(route53, zoneId, keys), 'NoSuchHostedZone');
    if (!current || current.length === 0) return;
    const changes = current.map((s): Change => ({ Action: 'DELETE', ResourceRecordSet: s }));
    try {
      await changeRecords(ctx, route53, zoneId, changes, what);
      return;
    } catch (err) {
      if (isNotFound(err, 'NoSuchHostedZone')) return;
      // Changed or deleted by someone else between our read and our delete: read again.
      const raced =
        errorCode(err) === 'InvalidChangeBatch' && /not found|do not match/i.test((err as Error).message);
      if (!raced || attempt >= 3) throw err;
    }
  }
}

// ---- zones, shared by the finders of zones and records ----

export interface ZoneSummary {
  id: string;
  domain: string;
  private: boolean;
  callerReference: string;
  comment: string | undefined;
  tags: TagMap;
}

const listings = new WeakMap<object, Promise<ZoneSummary[]>>();

/**
 * Every hosted zone in the account with its tags: one ListHostedZones a hundred zones and one
 * ListTagsForResources a ten. Shared by every finder of one plan (they receive the same context).
 */
export function accountZones(ctx: FindContext): Promise<ZoneSummary[]> {
  let listing = listings.get(ctx);
  if (!listing) {
    listing = listZones(ctx);
    listings.set(ctx, listing);
    listing.catch(() => listings.delete(ctx));
  }
  return listing;
}

async function listZones(ctx: FindContext): Promise<ZoneSummary[]> {
  const route53 = await ctx.aws.route53();
  const listed = await allPages(
    (Marker) => route53.listHostedZones({ Marker, MaxItems: 100 }),
    (p) => p.HostedZones,
    (p) => (p.IsTruncated ? p.NextMarker : undefined),
  );
  const zones: ZoneSummary[] = listed.map((z) => ({
    id: zoneIdOf(z.Id) as string,
    domain: canonicalName(z.Name ?? ''),
    private: z.Config?.PrivateZone ?? false,
    callerReference: z.CallerReference ?? '',
    comment: z.Config?.Comment,
    tags: {},
  }));
  const tags = await zoneTags(
    route53,
    zones.map((z) => z.id),
  );
  for (const z of zones) z.tags = tags.get(z.id) ?? {};
  return zones;
}

/** Tags of many zones, ten a call; a zone deleted meanwhile is skipped. */
export async function zoneTags(route53: Route53, ids: readonly string[]): Promise<Map<string, TagMap>> {
  const out = new Map<string, TagMap>();
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 10) batches.push(ids.slice(i, i + 10));
  const limit = pLimit(5);
  await Promise.all(
    batches.map((ResourceIds) =>
      limit(async () => {
        try {
          const r = await route53.listTagsForResources({ ResourceType: 'hostedzone', ResourceIds });
          for (const set of r.ResourceTagSets ?? []) out.set(set.ResourceId!, tagMap(set.Tags));
        } catch (err) {
          if (!isNotFound(err)) throw err;
          if (ResourceIds.length === 1) return;
          // A zone of the batch was deleted meanwhile: ask for each half on its own.
          const half = Math.ceil(ResourceIds.length / 2);
          for (const part of [ResourceIds.slice(0, half), ResourceIds.slice(half)]) {
            for (const [id, t] of await zoneTags(route53, part)) out.set(id, t);
          }
        }
      }),
    ),
  );
  return out;
}

// ---- the DNS record resource type ----

const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'CAA', 'NS'] as const;

const aliasTarget = z.strictObject({
  /** The target's DNS name: a load balancer's `dnsName`, a CloudFront distribution's `domainName`. */
  dnsName: input(z.string().min(1)),
  /**
   * The target's own hosted zone id (not the zone of this record): a load balancer's
   * `canonicalHostedZoneId`; every CloudFront distribution's is Z2FDTNDATAQYW2.
   */
  hostedZoneId: input(z.string().min(1)),
  /** Answer only while the target is healthy. @default false */
  evaluateTargetHealth: z.boolean().default(false),
});

const fields = {
  /** Your label for the record, e.g. `www` or `www-ipv6`: it names the record in plans (not in DNS). */
  name: field(z.string().min(1).max(200)),
  /** The hosted zone the record lives in: a HostedZone's `id`. */
  zoneId: field(input(z.string().min(1)), { replace: true, normalize: zoneIdOf }),
  /** The record's full domain name, e.g. `www.example.com` or `*.example.com`; a trailing dot is optional. */
  recordName: field(domainName({ wildcard: true }), { replace: true }),
  type: field(z.enum(RECORD_TYPES), { replace: true }),
  /** Seconds resolvers may keep the answer. @default 300. Alias records have none. */
  ttl: field(z.number().int().min(0).max(2_147_483_647).default(300)),
  /**
   * The answers, e.g. `['203.0.113.10']`, `['10 mail.example.com']`, `['0 issue "amazon.com"']`. TXT values
   * are written as plain text (Touchdown adds DNS's quotes and splits long text). Give values or alias.
   */
  values: field(
    z
      .array(input(z.string().min(1)))
      .min(1)
      .optional(),
    {
      unordered: true,
      normalize: (v) => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? txtText(x) : x)) : v),
    },
  ),
  /** Answer with a load balancer's or CloudFront distribution's current addresses (an A or AAAA alias). */
  alias: field(aliasTarget.optional(), {
    normalize: (v) =>
      v && typeof v === 'object' && typeof (v as { dnsName?: unknown }).dnsName === 'string'
        ? { ...v, dnsName: canonicalName((v as { dnsName: string }).dnsName) }
        : v,
  }),
};

export interface DnsRecordOutputs {
  /** The full domain name, without a trailing dot. */
  recordName: string;
  /** The record type (named so because `type` is taken by the resource itself). */
  recordType: string;
  zoneId: string;
}

type Args = ArgsOf<typeof fields>;
type RecordFound = Found<Args, DnsRecordOutputs>;

const MARKER_PREFIX = '_touchdown-';

/**
 * Route 53 records take no tags, so each record Touchdown writes gets an ownership TXT record in the same
 * atomic batch, as external-dns's TXT registry does: `_touchdown-<type>.<name>` saying which stack owns it.
 * A record without one is never deleted by Touchdown; declaring one takes it over.
 */
export const DnsRecord = defineResourceType({
  kind: 'dns-record',
  noun: 'DNS record',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 60, update: 60 },
  fields,
  outputs: ['recordName', 'recordType', 'zoneId'],
  defaultOutput: 'recordName',
  identity: { by: 'name', name: (args) => recordKey(args.zoneId, args.recordName, args.type) },

  check(args) {
    const problems: string[] = [];
    if ((args.values === undefined) === (args.alias === undefined)) {
      problems.push("values: give either values or alias (an alias answers with its target's addresses)");
    }
    if (args.type === 'CNAME' && (args.values?.length ?? 0) > 1) {
      problems.push('values: a CNAME record has exactly one value');
    }
    return problems;
  },

  /**
   * The records in every zone a declared record names and every zone this stack owns or adopted: one paged
   * ListResourceRecordSets per zone (300 records a page) for all of the stack's records in it.
   */
  async find(ctx, wanted) {
    const route53 = await ctx.aws.route53();
    const zones = new Set<string>();
    for (const w of wanted)
      if (typeof w.args.zoneId === 'string') zones.add(zoneIdOf(w.args.zoneId) as string);
    for (const z of await accountZones(ctx)) if (await inStackRegion(ctx, z.tags)) zones.add(z.id);
    // A declared record's zone id is often not known yet (a reference): match on name and type then.
    const declared = (zoneId: string, recordName: string, type: string) =>
      wanted.some(
        (w) =>
          typeof w.args.recordName === 'string' &&
          canonicalName(w.args.recordName) === recordName &&
          w.args.type === type &&
          (typeof w.args.zoneId !== 'string' || zoneIdOf(w.args.zoneId) === zoneId),
      );
    const limit = pLimit(5);
    const perZone = await Promise.all(
      [...zones].map((zoneId) =>
        limit(async () => {
          const sets = await ignoreNotFound(readRecordSets(route53, zoneId), 'NoSuchHostedZone');
          return { zoneId, sets: sets ?? [] };
        }),
      ),
    );
    // Records made before region scoping name no region: only then is it asked where the stack was deployed.
    const unscoped = perZone.some((z) =>
      z.sets.some((s) => {
        const o = markerOwner(s);
        return o?.stack === ctx.stack && o.region === undefined;
      }),
    );
    const before = unscoped && (await inThisRegion(ctx, undefined));
    const owner = { stack: ctx.stack, region: ctx.region, before };
    return perZone.flatMap((z) => stackRecords(owner, z.zoneId, z.sets, declared));
  },

  async create(ctx, args) {
    const route53 = await ctx.aws.route53();
    const zoneId = zoneIdOf(args.zoneId) as string;
    const [existing] = await currentRecordSets(route53, zoneId, [{ name: args.recordName, type: args.type }]);
    if (existing) ctx.progress(`taking over the existing ${args.type} record ${args.recordName}`);
    return write(ctx, route53, zoneId, args);
  },

  async update(ctx, _found, args) {
    const route53 = await ctx.aws.route53();
    return write(ctx, route53, zoneIdOf(args.zoneId) as string, args);
  },

  async delete(ctx, found) {
    const route53 = await ctx.aws.route53();
    const { recordName, recordType: type, zoneId } = found.outputs;
    await deleteRecordSets(
      ctx,
      route53,
      zoneId,
      [
        { name: recordName, type },
        { name: markerName(recordName, type), type: 'TXT' },
      ],
      `DNS record "${ctx.path}"`,
    );
  },
});

function recordKey(zoneId: unknown, recordName: unknown, type: unknown): string | undefined {
  if (typeof zoneId !== 'string' || typeof recordName !== 'string' || typeof type !== 'string')
    return undefined;
  return `${zoneIdOf(zoneId)}/${canonicalName(recordName)}/${type}`;
}

function markerName(recordName: string, type: string): string {
  return `${MARKER_PREFIX}${type.toLowerCase()}.${recordName}`;
}

function markerText(stack: string, region: string, address: string): string {
  return `heritage=touchdown,touchdown/stack=${stack},touchdown/resource=${address},touchdown/region=${region}`;
}

/** The stack named in an ownership record, with the record it stands for; undefined for any other record. */
function markerOwner(
  set: ResourceRecordSet,
): { stack: string; region?: string; recordName: string; type: string } | undefined {
  if (set.Type !== 'TXT') return undefined;
  const m = new RegExp(`^${MARKER_PREFIX}([a-z]+)\\.(.+)$`).exec(canonicalName(set.Name ?? ''));
  if (!m) return undefined;
  const text = (set.ResourceRecords ?? []).map((r) => txtText(r.Value ?? '')).join(',');
  const stack = /(?:^|,)heritage=touchdown,.*touchdown\/stack=([^,]+)/.exec(text)?.[1];
  // Records made before region scoping name no region.
  const region = /(?:^|,)touchdown\/region=([^,]+)/.exec(text)?.[1];
  return stack ? { stack, region, recordName: m[2]!, type: m[1]!.toUpperCase() } : undefined;
}

/** Whose records to take: the stack's in this region, and those made before region scoping when `before`. */
interface Owner {
  stack: string;
  region: string;
  before: boolean;
}

function stackRecords(
  us: Owner,
  zoneId: string,
  sets: readonly ResourceRecordSet[],
  declared: (zoneId: string, recordName: string, type: string) => boolean,
): RecordFound[] {
  const byKey = new Map<string, ResourceRecordSet>();
  for (const s of sets) {
    if (!s.SetIdentifier) byKey.set(recordKey(zoneId, s.Name, s.Type)!, s);
  }
  const out: RecordFound[] = [];
  for (const s of sets) {
    const owner = markerOwner(s);
    if (!owner) continue;
    const key = recordKey(zoneId, owner.recordName, owner.type)!;
    const region = owner.region ?? (us.before ? us.region : undefined);
    if (owner.stack !== us.stack || region !== us.region) {
      if (declared(zoneId, owner.recordName, owner.type)) {
        const whose =
          owner.stack !== us.stack ? '' : ` in ${owner.region ?? 'the region it was deployed to'}`;
        throw new Error(
          `the ${owner.type} record ${owner.recordName} in zone ${zoneId} belongs to the stack "${owner.stack}"${whose} ` +
            `(its ${markerName(owner.recordName, owner.type)} TXT record): remove it from that stack first, or pick another name`,
        );
      }
      continue;
    }
    const record = byKey.get(key);
    // One made before region scoping gets its region in its ownership record on the next apply.
    const pending = owner.region ? [] : [{ name: 'touchdown/region', after: us.region }];
    if (record) out.push({ ...toFound(zoneId, record), ...(pending.length ? { pending } : {}) });
    // The record is gone but its ownership record stayed: found only to be cleaned up when undeclared.
    else if (!declared(zoneId, owner.recordName, owner.type))
      out.push(markerOnly(zoneId, owner.recordName, owner.type));
  }
  return out;
}

function toFound(zoneId: string, set: ResourceRecordSet): RecordFound {
  const recordName = canonicalName(set.Name ?? '');
  const type = set.Type as Args['type'];
  const args: Partial<Args> = { zoneId, recordName, type, values: undefined, alias: undefined };
  if (set.AliasTarget) {
    args.alias = {
      dnsName: canonicalName(set.AliasTarget.DNSName ?? ''),
      hostedZoneId: set.AliasTarget.HostedZoneId ?? '',
      evaluateTargetHealth: set.AliasTarget.EvaluateTargetHealth ?? false,
    };
  } else {
    args.ttl = set.TTL;
    args.values = (set.ResourceRecords ?? []).map((r) =>
      type === 'TXT' ? txtText(r.Value ?? '') : (r.Value ?? ''),
    );
  }
  return {
    key: recordKey(zoneId, recordName, type)!,
    id: `${zoneId}/${recordName}/${type}`,
    args,
    outputs: { recordName, recordType: type, zoneId },
  };
}

function markerOnly(zoneId: string, recordName: string, type: string): RecordFound {
  const key = recordKey(zoneId, recordName, type)!;
  return {
    key,
    id: key,
    args: { zoneId, recordName, type: type as Args['type'] },
    outputs: { recordName, recordType: type, zoneId },
  };
}

/** The record set as Route 53 takes it. */
export function recordSet(
  args: Pick<Args, 'recordName' | 'type' | 'ttl' | 'values' | 'alias'>,
): ResourceRecordSet {
  const set: ResourceRecordSet = { Name: args.recordName, Type: args.type };
  if (args.alias) {
    set.AliasTarget = {
      DNSName: args.alias.dnsName,
      HostedZoneId: args.alias.hostedZoneId,
      EvaluateTargetHealth: args.alias.evaluateTargetHealth,
    };
  } else {
    set.TTL = args.ttl;
    set.ResourceRecords = (args.values ?? []).map((v) => ({
      Value: args.type === 'TXT' ? txtRecordValue(v) : v,
    }));
  }
  return set;
}

async function write(ctx: OpContext, route53: Route53, zoneId: string, args: Args): Promise<RecordFound> {
  const marker: ResourceRecordSet = {
    Name: markerName(args.recordName, args.type),
    Type: 'TXT',
    TTL: 300,
    ResourceRecords: [{ Value: txtRecordValue(markerText(ctx.stack, ctx.region, ctx.address)) }],
  };
  await upsertRecordSets(ctx, route53, zoneId, [recordSet(args), marker], `DNS record "${ctx.path}"`);
  const [set] = await currentRecordSets(route53, zoneId, [{ name: args.recordName, type: args.type }]);
  if (!set)
    throw new Error(`Route 53 accepted the ${args.type} record ${args.recordName} but does not list it`);
  return toFound(zoneId, set);
}
