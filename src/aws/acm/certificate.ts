// ACM certificate: HTTPS for a load balancer or CloudFront, validated by DNS. Given a Route 53 zone, the
// validation records are written for you and the create waits until ACM has issued the certificate.
import { randomBytes } from 'node:crypto';
import type { ACM, CertificateDetail, DomainValidation } from '@aws-sdk/client-acm';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { AwsClients } from '../clients.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { inThisRegion, lacksRegionTag, regionTagPending } from '../region-scope.js';
import {
  deleteRecordSets,
  domainName,
  inZone,
  upsertRecordSets,
  ZONE_TAG,
  zoneIdOf,
} from '../route53/record.js';
import { stackResources } from '../tagging.js';
import {
  REGION_TAG,
  RESOURCE_TAG,
  STACK_TAG,
  type TagMap,
  tagDelta,
  tagList,
  tagMap,
  userTags,
} from '../tags.js';

const fields = {
  /** Your label for the certificate, e.g. `web`. */
  name: field(z.string().min(1).max(200)),
  /** The name the certificate is for, e.g. `example.com` or `*.example.com`. Changing it means a new certificate. */
  domainName: field(domainName({ wildcard: true }), { replace: true }),
  /**
   * More names on the same certificate, e.g. `['www.example.com']`; order does not matter. Changing them
   * means a new certificate. @default none
   */
  subjectAlternativeNames: field(z.array(domainName({ wildcard: true })).default([]), {
    replace: true,
    unordered: true,
  }),
  /** How ACM checks you control the names: a CNAME record per name, which also lets it renew by itself. @default 'DNS' */
  validation: field(z.enum(['DNS']).default('DNS')),
  /**
   * A Route 53 zone (a HostedZone's `id`) to write the validation records to; they are removed when the
   * certificate is deleted. @default none: apply shows the records to add where your DNS is, and waits
   */
  zoneId: field(input(z.string().min(1)).optional(), { normalize: zoneIdOf }),
  /**
   * Where to create the certificate when not in the stack's region: CloudFront only uses certificates in
   * us-east-1. Changing it means a new certificate. @default the stack's region
   */
  region: field(
    z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'write a region like us-east-1')
      .optional(),
    { replace: true },
  ),
  tags: field(tags()),
};

export interface CertificateOutputs {
  arn: string;
  domainName: string;
  /** ISSUED once validated; PENDING_VALIDATION until then. */
  status: string;
}

type Args = ArgsOf<typeof fields>;
type CertFound = Found<Args, CertificateOutputs>;

/** Usually minutes, sometimes over an hour (ACM itself retries for 72 hours): 75 minutes, as Terraform's validation waits. */
const ISSUE_TIMEOUT_MS = 75 * 60_000;
/** Certificates in these states never become ISSUED: a new one is requested in their place. */
const DEAD = ['FAILED', 'VALIDATION_TIMED_OUT', 'REVOKED', 'EXPIRED'];
const PENDING = 'DNS (pending validation)';
const KEY_TYPES = [
  'RSA_1024',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'EC_prime256v1',
  'EC_secp384r1',
  'EC_secp521r1',
];

export const Certificate = defineResourceType({
  kind: 'certificate',
  noun: 'certificate',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 120 },
  fields,
  outputs: ['arn', 'domainName', 'status'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  check(args) {
    const sans = (args.subjectAlternativeNames ?? []) as string[];
    return sans.includes(args.domainName as string)
      ? [`subjectAlternativeNames: leave out ${args.domainName}: the domainName is always on the certificate`]
      : [];
  },

  /**
   * In the stack's region, us-east-1 (CloudFront's) and any region a declared certificate names: one
   * tagging-API call for all of the stack's certificates there, then one DescribeCertificate each. A
   * declared certificate the tagging API does not list yet (it lags behind creation) costs one
   * ListCertificates more in its region.
   */
  async find(ctx, wanted) {
    const regionOf = (w: { args: Partial<Args> }) => w.args.region ?? ctx.region;
    const regions = new Set([ctx.region, 'us-east-1', ...wanted.map(regionOf)]);
    const listed = (await Promise.all([...regions].map((r) => stackCertificates(ctx, r)))).flat();
    const missing = wanted.filter((w) => !listed.some((l) => l.tags[RESOURCE_TAG] === w.address));
    listed.push(...(await unindexed(ctx, missing, regionOf, listed)));
    const limit = pLimit(5);
    const found = await Promise.all(
      listed.map((l) =>
        limit(async () => {
          const acm = await clientsIn(ctx, l.region).acm();
          const d = await ignoreNotFound(acm.describeCertificate({ CertificateArn: l.arn }));
          return d?.Certificate ? toFound(d.Certificate, l.tags, l.region) : undefined;
        }),
      ),
    );
    const wantedRegion = new Map(wanted.map((w) => [w.address, regionOf(w)]));
    const declaredIn = new Set(wanted.map(regionOf));
    const ours: CertFound[] = [];
    for (const [i, f] of found.entries()) {
      if (!f) continue;
      const stackRegion = listed[i]!.tags[REGION_TAG];
      if (stackRegion !== undefined) {
        // Tagged with its stack's region: CloudFront's certificate of another region's stack lives in us-east-1.
        if (stackRegion === ctx.region) ours.push(f);
      } else if (f.args.region === ctx.region) {
        ours.push(f);
      } else if (
        // Made before region scoping, in another region: only what is declared there (CloudFront's in us-east-1),
        // and only where the stack's resources of that time are.
        declaredIn.has(f.args.region!) &&
        wantedRegion.get(f.key) === f.args.region &&
        (await inThisRegion(ctx, undefined))
      ) {
        ours.push({ ...f, pending: regionTagPending(ctx, listed[i]!.tags) });
      }
    }
    return ours.map((f) => {
      // In another region than declared, or never to be issued: not the declared one, so replaced.
      const region = f.args.region!;
      if (wantedRegion.has(f.key) && wantedRegion.get(f.key) !== region)
        return { ...f, key: `${f.key}@${region}` };
      if (DEAD.includes(f.outputs.status)) return { ...f, key: `${f.key} (${f.outputs.status})` };
      return f;
    });
  },

  async create(ctx, args) {
    const acm = await clientsIn(ctx, args.region).acm();
    const zoneId = args.zoneId === undefined ? undefined : (zoneIdOf(args.zoneId) as string);
    const { CertificateArn } = await acm.requestCertificate({
      DomainName: args.domainName,
      SubjectAlternativeNames:
        args.subjectAlternativeNames.length > 0 ? args.subjectAlternativeNames : undefined,
      ValidationMethod: 'DNS',
      // Random per request: the SDK's retries reuse it; a later create must get a new certificate.
      IdempotencyToken: randomBytes(16).toString('hex'),
      Tags: tagList(ctx.tags({ ...args.tags, ...(zoneId ? { [ZONE_TAG]: zoneId } : {}) })),
    });
    await validate(ctx, acm, CertificateArn!, zoneId);
    return readOne(ctx, acm, CertificateArn!, args.region);
  },

  async update(ctx, found, args, changed) {
    const acm = await clientsIn(ctx, found.args.region).acm();
    const zoneId = args.zoneId === undefined ? undefined : (zoneIdOf(args.zoneId) as string);
    if (changed.includes('tags') || changed.includes('zoneId')) {
      const withZone = (t: TagMap, z: string | undefined) => (z ? { ...t, [ZONE_TAG]: z } : t);
      const { set, remove } = tagDelta(
        withZone(found.args.tags ?? {}, found.args.zoneId),
        withZone(args.tags, zoneId),
      );
      if (Object.keys(set).length > 0)
        await acm.addTagsToCertificate({ CertificateArn: found.id, Tags: tagList(set) });
      if (remove.length > 0) {
        await acm.removeTagsFromCertificate({
          CertificateArn: found.id,
          Tags: remove.map((Key) => ({ Key })),
        });
      }
    }
    // CloudFront's certificate made before region scoping becomes this region's stack's.
    if (lacksRegionTag(found))
      await acm.addTagsToCertificate({
        CertificateArn: found.id,
        Tags: tagList({ [REGION_TAG]: ctx.region }),
      });
    if (changed.includes('zoneId') || changed.includes('validation')) {
      // Records go to the new zone (and a pending certificate is waited for again) before leaving the old one.
      const records = await validate(ctx, acm, found.id, zoneId);
      const oldZone = found.args.zoneId;
      if (oldZone && oldZone !== zoneId) await removeValidationRecords(ctx, found, oldZone, records);
    }
    return readOne(ctx, acm, found.id, found.args.region);
  },

  async delete(ctx, found) {
    const acm = await clientsIn(ctx, found.args.region).acm();
    const detail = await ignoreNotFound(acm.describeCertificate({ CertificateArn: found.id }));
    await ctx.wait({
      what: `certificate "${ctx.path}" to be released by the load balancers and distributions using it`,
      timeoutMs: 10 * 60_000,
      hint: 'something outside this stack still uses it (a listener, a CloudFront distribution): remove that first, then run the same command again',
      check: async () => {
        try {
          await ignoreNotFound(acm.deleteCertificate({ CertificateArn: found.id }));
          return { done: true, value: undefined };
        } catch (err) {
          if (errorCode(err) !== 'ResourceInUseException') throw err;
          return { done: false, state: 'in use' };
        }
      },
    });
    const records = validationRecords(detail?.Certificate);
    if (found.args.zoneId && records.length > 0)
      await removeValidationRecords(ctx, found, found.args.zoneId, records);
  },
});

// ---- clients in another region ----

const regional = new WeakMap<AwsClients, Map<string, AwsClients>>();

/** The stack's clients, or ones like them in another region (AwsClients serve one region each). */
function clientsIn(ctx: FindContext, region: string | undefined): AwsClients {
  if (region === undefined || region === ctx.aws.region) return ctx.aws;
  const byRegion = regional.get(ctx.aws) ?? new Map<string, AwsClients>();
  regional.set(ctx.aws, byRegion);
  const clients = byRegion.get(region) ?? new AwsClients({ ...ctx.aws.options, region });
  byRegion.set(region, clients);
  return clients;
}

// ---- finding ----

interface Listed {
  arn: string;
  region: string;
  tags: TagMap;
}

async function stackCertificates(ctx: FindContext, region: string): Promise<Listed[]> {
  const resources = await stackResources(ctx, ['acm:certificate'], { clients: clientsIn(ctx, region) });
  return resources.map((r) => ({ ...r, region }));
}

/** Declared certificates the tagging API has not indexed yet, found by domain and then by their own tags. */
async function unindexed(
  ctx: FindContext,
  missing: { address: string; args: Partial<Args> }[],
  regionOf: (w: { args: Partial<Args> }) => string,
  listed: Listed[],
): Promise<Listed[]> {
  const out: Listed[] = [];
  for (const region of new Set(missing.map(regionOf))) {
    const inRegion = missing.filter((w) => regionOf(w) === region);
    const acm = await clientsIn(ctx, region).acm();
    for (const c of await listCertificates(acm)) {
      if (listed.some((l) => l.arn === c.CertificateArn)) continue;
      if (!inRegion.some((w) => w.args.domainName === c.DomainName)) continue;
      const t = tagMap((await acm.listTagsForCertificate({ CertificateArn: c.CertificateArn })).Tags);
      if (t[STACK_TAG] === ctx.stack && inRegion.some((w) => w.address === t[RESOURCE_TAG])) {
        out.push({ arn: c.CertificateArn!, region, tags: t });
      }
    }
  }
  return out;
}

/** Every certificate in a region, of every key type (ListCertificates shows only RSA 2048 unless asked). */
async function listCertificates(acm: ACM) {
  return allPages(
    (NextToken) => acm.listCertificates({ Includes: { keyTypes: KEY_TYPES as never }, NextToken }),
    (p) => p.CertificateSummaryList,
  );
}

async function readOne(
  ctx: OpContext,
  acm: ACM,
  arn: string,
  region: string | undefined,
): Promise<CertFound> {
  // Tags from the certificate itself: the tagging API lags behind a write.
  const [d, t] = await Promise.all([
    acm.describeCertificate({ CertificateArn: arn }),
    acm.listTagsForCertificate({ CertificateArn: arn }),
  ]);
  return toFound(d.Certificate!, tagMap(t.Tags), region ?? ctx.region);
}

function toFound(c: CertificateDetail, t: TagMap, region: string): CertFound {
  const domain = c.DomainName!.toLowerCase();
  const status = c.Status ?? 'PENDING_VALIDATION';
  return {
    key: t[RESOURCE_TAG] ?? c.CertificateArn!,
    id: c.CertificateArn!,
    args: {
      domainName: domain,
      // AWS lists the domain name among the alternative names; the declaration does not.
      subjectAlternativeNames: (c.SubjectAlternativeNames ?? [])
        .map((n) => n.toLowerCase())
        .filter((n) => n !== domain),
      // A certificate still pending shows as a change, so that the next apply waits for it again.
      validation: (status === 'PENDING_VALIDATION' ? PENDING : 'DNS') as 'DNS',
      zoneId: t[ZONE_TAG],
      region,
      tags: userTags(t),
    },
    outputs: { arn: c.CertificateArn!, domainName: domain, status },
  };
}

// ---- validation ----

interface ValidationRecord {
  name: string;
  value: string;
}

/** The CNAME records ACM wants, one per distinct name (`example.com` and `*.example.com` share one). */
function validationRecords(c: CertificateDetail | undefined): ValidationRecord[] {
  const byName = new Map<string, string>();
  for (const o of c?.DomainValidationOptions ?? []) {
    if (o.ResourceRecord?.Name) byName.set(o.ResourceRecord.Name, o.ResourceRecord.Value ?? '');
  }
  return [...byName].map(([name, value]) => ({ name, value }));
}

const ready = (o: DomainValidation) => o.ValidationMethod !== 'DNS' || o.ResourceRecord !== undefined;

/** Writes the validation records (to the zone, or asks the user to), then waits until ACM issues the certificate. */
async function validate(ctx: OpContext, acm: ACM, arn: string, zoneId: string | undefined) {
  const detail = await ctx.wait({
    what: `ACM to name the validation records of certificate "${ctx.path}"`,
    timeoutMs: 5 * 60_000,
    check: async () => {
      const { Certificate: c } = await acm.describeCertificate({ CertificateArn: arn });
      const options = c?.DomainValidationOptions ?? [];
      return options.length > 0 && options.every(ready)
        ? { done: true, value: c! }
        : { done: false, state: 'records not named yet' };
    },
  });
  const records = validationRecords(detail);
  let hint: string;
  if (zoneId) {
    const route53 = await ctx.aws.route53();
    const zone = await route53.getHostedZone({ Id: zoneId });
    const zoneName = zone.HostedZone!.Name!;
    const inside = records.filter((r) => inZone(r.name, zoneName));
    const outside = records.filter((r) => !inZone(r.name, zoneName));
    if (inside.length > 0) {
      await upsertRecordSets(
        ctx,
        route53,
        zoneId,
        inside.map((r) => ({ Name: r.name, Type: 'CNAME', TTL: 300, ResourceRecords: [{ Value: r.value }] })),
        `the validation records of certificate "${ctx.path}"`,
      );
    }
    if (outside.length > 0)
      ctx.progress(`add these records where their names are served: ${listRecords(outside)}`);
    const ns = zone.DelegationSet?.NameServers ?? [];
    hint =
      `The validation records are in the Route 53 zone ${zoneId} (${zoneName.replace(/\.$/, '')}); ACM sees them ` +
      `only if that zone is the domain's authoritative one: check that the registrar lists its name servers ` +
      `(${ns.join(', ')}) and that no CAA record excludes amazon.com` +
      (outside.length > 0 ? `; also add ${listRecords(outside)}` : '') +
      '. Run the same command again to keep waiting';
  } else {
    ctx.progress(`add these records where the domain's DNS is served: ${listRecords(records)}`);
    hint = `Add ${listRecords(records)} where the domain's DNS is served; ACM keeps looking for 72 hours. Run the same command again to keep waiting`;
  }
  await ctx.wait({
    what: `certificate "${ctx.path}" to be issued`,
    timeoutMs: ISSUE_TIMEOUT_MS,
    hint,
    check: async () => {
      const { Certificate: c } = await acm.describeCertificate({ CertificateArn: arn });
      const status = c?.Status ?? 'PENDING_VALIDATION';
      if (status === 'ISSUED') return { done: true, value: undefined };
      if (DEAD.includes(status)) {
        throw new Error(`ACM will not issue it: ${status}${c?.FailureReason ? ` (${c.FailureReason})` : ''}`);
      }
      return { done: false, state: status };
    },
  });
  return records;
}

function listRecords(records: ValidationRecord[]): string {
  return records.map((r) => `CNAME ${r.name} → ${r.value}`).join(', ');
}

/**
 * Removes validation records from a zone unless another certificate still needs them: ACM gives every
 * certificate for a name in this account the same record, in every region.
 */
async function removeValidationRecords(
  ctx: OpContext,
  found: CertFound,
  zoneId: string,
  records: ValidationRecord[],
) {
  const names = new Set([found.args.domainName!, ...(found.args.subjectAlternativeNames ?? [])].map(base));
  const regions = new Set([ctx.region, 'us-east-1', found.args.region ?? ctx.region]);
  const stillUsed = new Set<string>();
  for (const region of regions) {
    const acm = await clientsIn(ctx, region).acm();
    const others = (await listCertificates(acm)).filter(
      (c) =>
        c.CertificateArn !== found.id &&
        (names.has(base(c.DomainName ?? '')) ||
          (c.SubjectAlternativeNameSummaries ?? []).some((n) => names.has(base(n))) ||
          c.HasAdditionalSubjectAlternativeNames),
    );
    for (const c of others) {
      const d = await ignoreNotFound(acm.describeCertificate({ CertificateArn: c.CertificateArn }));
      for (const r of validationRecords(d?.Certificate)) stillUsed.add(r.name);
    }
  }
  const route53 = await ctx.aws.route53();
  const keys = records.filter((r) => !stillUsed.has(r.name)).map((r) => ({ name: r.name, type: 'CNAME' }));
  if (keys.length > 0) {
    await deleteRecordSets(ctx, route53, zoneId, keys, `the validation records of certificate "${ctx.path}"`);
  }
}

/** The name a validation record is for: a wildcard's is its parent's. */
function base(name: string): string {
  return name.toLowerCase().replace(/^\*\./, '');
}
