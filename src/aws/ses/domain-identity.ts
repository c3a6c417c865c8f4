// SES email domain: lets the app send mail from addresses at a domain (Django's EMAIL_* settings), signed
// with Easy DKIM. Given a Route 53 zone, the DKIM and MAIL FROM records are written for you.
import { createHmac } from 'node:crypto';
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import type { SES } from '@aws-sdk/client-ses';
import type { SESv2 } from '@aws-sdk/client-sesv2';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import {
  deleteRecordSets,
  domainName,
  type RecordSetKey,
  txtRecordValue,
  upsertRecordSets,
  ZONE_TAG,
  zoneIdOf,
} from '../route53/record.js';
import { stackResources } from '../tagging.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagDelta, tagList, tagMap, userTags } from '../tags.js';

const fields = {
  /** Your label for it, e.g. `mail`. */
  name: field(z.string().min(1).max(200)),
  /** The domain mail is sent from, e.g. `example.com` for `noreply@example.com`. Changing it means a new identity. */
  domain: field(domainName(), { replace: true }),
  /**
   * A Route 53 zone (a HostedZone's `id`) to write the three DKIM records (and the MAIL FROM records) to; SES
   * verifies the domain once it sees them. They are removed with the identity.
   * @default none: add the records yourself (the `dkimTokens` output gives them)
   */
  zoneId: field(input(z.string().min(1)).optional(), { normalize: zoneIdOf }),
  /**
   * Bounces go to `<mailFromSubdomain>.<domain>` instead of amazonses.com, so SPF aligns with your domain
   * for DMARC, e.g. `mail`. It must not receive mail otherwise. @default none: SES's own MAIL FROM domain
   */
  mailFromSubdomain: field(
    z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'write one DNS label, like mail')
      .optional(),
  ),
  tags: field(tags()),
};

export interface EmailDomainOutputs {
  domain: string;
  arn: string;
  /** Easy DKIM's three tokens: each is a CNAME `<token>._domainkey.<domain>` → `<token>.dkim.amazonses.com`. */
  dkimTokens: string[];
  /** Django's EMAIL_HOST; use EMAIL_PORT 587 with EMAIL_USE_TLS (STARTTLS), and sesSmtpPassword for the password. */
  smtpEndpoint: string;
  region: string;
}

type Args = ArgsOf<typeof fields>;
type DomainFound = Found<Args, EmailDomainOutputs>;

/**
 * Created with SES v2's CreateEmailIdentity (tags in the call, Easy DKIM on). Read with SES v1's
 * Get*Attributes, which take up to 100 identities a call (v2 reads one identity a call); both APIs act on
 * the same identities.
 */
export const EmailDomain = defineResourceType({
  kind: 'email-domain',
  noun: 'SES email domain',
  listedAs: 'ses',
  fields,
  outputs: ['domain', 'arn', 'dkimTokens', 'smtpEndpoint', 'region'],
  defaultOutput: 'domain',
  identity: { by: 'address' },

  /**
   * One tagging-API call for all of the stack's identities, then three SES calls per hundred of them. A
   * declared domain the tagging API does not list yet (it lags behind creation) costs one GetEmailIdentity.
   */
  async find(ctx, wanted) {
    const sesv2 = await ctx.aws.sesv2();
    const listed: Listed[] = [];
    for (const { arn, tags: t } of await stackResources(ctx, ['ses'])) {
      // Configuration sets and other SES resources of the stack are other types' business.
      if (!t[RESOURCE_TAG]?.startsWith('email-domain.')) continue;
      listed.push({ domain: arn.slice(arn.indexOf('/') + 1), arn, tags: t });
    }
    for (const w of wanted) {
      if (typeof w.args.domain !== 'string' || listed.some((l) => l.tags[RESOURCE_TAG] === w.address))
        continue;
      const own = await ownIdentity(ctx, sesv2, w.args.domain);
      if (own && own.tags[RESOURCE_TAG] === w.address) listed.push(own);
    }
    return read(ctx, listed);
  },

  async create(ctx, args) {
    const [sesv2, ses] = await Promise.all([ctx.aws.sesv2(), ctx.aws.ses()]);
    const zoneId = args.zoneId === undefined ? undefined : (zoneIdOf(args.zoneId) as string);
    await sesv2.createEmailIdentity({
      EmailIdentity: args.domain,
      Tags: tagList(ctx.tags({ ...args.tags, ...(zoneId ? { [ZONE_TAG]: zoneId } : {}) })),
    });
    if (args.mailFromSubdomain) await setMailFrom(ses, args.domain, args.mailFromSubdomain);
    const found = await readOne(ctx, args.domain);
    if (zoneId)
      await writeRecords(ctx, zoneId, found.outputs.dkimTokens, args.domain, args.mailFromSubdomain);
    return found;
  },

  async update(ctx, found, args, changed) {
    const [sesv2, ses] = await Promise.all([ctx.aws.sesv2(), ctx.aws.ses()]);
    const zoneId = args.zoneId === undefined ? undefined : (zoneIdOf(args.zoneId) as string);
    if (changed.includes('tags') || changed.includes('zoneId')) {
      const withZone = (t: TagMap, z: string | undefined) => (z ? { ...t, [ZONE_TAG]: z } : t);
      const { set, remove } = tagDelta(
        withZone(found.args.tags ?? {}, found.args.zoneId),
        withZone(args.tags, zoneId),
      );
      const arn = found.outputs.arn;
      if (Object.keys(set).length > 0) await sesv2.tagResource({ ResourceArn: arn, Tags: tagList(set) });
      if (remove.length > 0) await sesv2.untagResource({ ResourceArn: arn, TagKeys: remove });
    }
    if (changed.includes('mailFromSubdomain')) await setMailFrom(ses, args.domain, args.mailFromSubdomain);
    const tokens = found.outputs.dkimTokens;
    const recordsChanged = changed.includes('zoneId') || changed.includes('mailFromSubdomain');
    if (zoneId && recordsChanged)
      await writeRecords(ctx, zoneId, tokens, args.domain, args.mailFromSubdomain);
    // Records the new settings no longer need leave the zone they were in.
    const oldZone = found.args.zoneId;
    if (oldZone && recordsChanged) {
      const before = recordKeys(tokens, args.domain, found.args.mailFromSubdomain);
      const now = oldZone === zoneId ? recordKeys(tokens, args.domain, args.mailFromSubdomain) : [];
      const gone = before.filter((k) => !now.some((n) => n.name === k.name && n.type === k.type));
      if (gone.length > 0) await deleteRecordSets(ctx, await ctx.aws.route53(), oldZone, gone, what(ctx));
    }
    return readOne(ctx, args.domain);
  },

  async delete(ctx, found) {
    const sesv2 = await ctx.aws.sesv2();
    await ignoreNotFound(sesv2.deleteEmailIdentity({ EmailIdentity: found.id }));
    const zoneId = found.args.zoneId;
    if (zoneId) {
      const keys = recordKeys(found.outputs.dkimTokens, found.id, found.args.mailFromSubdomain);
      await deleteRecordSets(ctx, await ctx.aws.route53(), zoneId, keys, what(ctx));
    }
  },
});

/**
 * The SMTP password for an IAM user's secret access key in a region, by AWS's documented derivation
 * (a SigV4 signing-key chain over "SendRawEmail", prefixed by version byte 4, in base64). The user name
 * is the access key id; the user needs ses:SendRawEmail.
 */
export function sesSmtpPassword(secretAccessKey: string, region: string): string {
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`, 'utf8');
  for (const part of ['11111111', region, 'ses', 'aws4_request', 'SendRawEmail']) {
    key = createHmac('sha256', key).update(part, 'utf8').digest();
  }
  return Buffer.concat([Buffer.from([0x04]), key]).toString('base64');
}

// ---- reading ----

interface Listed {
  domain: string;
  arn: string;
  tags: TagMap;
}

/** A domain identity with this stack's tags, asked for by name; undefined when absent or someone else's. */
async function ownIdentity(ctx: FindContext, sesv2: SESv2, domain: string): Promise<Listed | undefined> {
  const identity = await ignoreNotFound(sesv2.getEmailIdentity({ EmailIdentity: domain }));
  const t = tagMap(identity?.Tags);
  if (!identity || t[STACK_TAG] !== ctx.stack) return undefined;
  return { domain, arn: await identityArn(ctx, domain), tags: t };
}

async function identityArn(ctx: FindContext, domain: string): Promise<string> {
  const partition = ctx.region.startsWith('cn-')
    ? 'aws-cn'
    : ctx.region.startsWith('us-gov-')
      ? 'aws-us-gov'
      : 'aws';
  return `arn:${partition}:ses:${ctx.region}:${await ctx.account()}:identity/${domain}`;
}

/** DKIM tokens, MAIL FROM and existence of many identities: SES v1 answers for up to 100 a call. */
async function read(ctx: FindContext, listed: Listed[]): Promise<DomainFound[]> {
  const ses: SES = await ctx.aws.ses();
  const out: DomainFound[] = [];
  for (let i = 0; i < listed.length; i += 100) {
    const batch = listed.slice(i, i + 100);
    const Identities = batch.map((l) => l.domain);
    const [verification, dkim, mailFrom] = await Promise.all([
      ses.getIdentityVerificationAttributes({ Identities }),
      ses.getIdentityDkimAttributes({ Identities }),
      ses.getIdentityMailFromDomainAttributes({ Identities }),
    ]);
    for (const l of batch) {
      // Not reported: deleted (the tagging API keeps listing deleted resources for a while).
      if (!verification.VerificationAttributes?.[l.domain]) continue;
      const from = mailFrom.MailFromDomainAttributes?.[l.domain]?.MailFromDomain;
      const suffix = `.${l.domain}`;
      out.push({
        key: l.tags[RESOURCE_TAG]!,
        id: l.domain,
        args: {
          domain: l.domain,
          zoneId: l.tags[ZONE_TAG],
          mailFromSubdomain: from?.endsWith(suffix) ? from.slice(0, -suffix.length) : from,
          tags: userTags(l.tags),
        },
        outputs: {
          domain: l.domain,
          arn: l.arn,
          dkimTokens: dkim.DkimAttributes?.[l.domain]?.DkimTokens ?? [],
          smtpEndpoint: `email-smtp.${ctx.region}.amazonaws.com`,
          region: ctx.region,
        },
      });
    }
  }
  return out;
}

/** The identity right after a write; waits for SES to name its DKIM tokens. Tags from SES, not the lagging tagging API. */
async function readOne(ctx: OpContext, domain: string): Promise<DomainFound> {
  const sesv2 = await ctx.aws.sesv2();
  return ctx.wait({
    what: `SES to give the DKIM tokens of "${ctx.path}"`,
    timeoutMs: 2 * 60_000,
    check: async () => {
      const identity = await sesv2.getEmailIdentity({ EmailIdentity: domain });
      const listed = { domain, arn: await identityArn(ctx, domain), tags: tagMap(identity.Tags) };
      const [found] = await read(ctx, [{ ...listed, tags: { ...listed.tags, [RESOURCE_TAG]: ctx.address } }]);
      return found && found.outputs.dkimTokens.length > 0
        ? { done: true, value: found }
        : { done: false, state: 'no DKIM tokens yet' };
    },
  });
}

// ---- writing ----

async function setMailFrom(ses: SES, domain: string, subdomain: string | undefined) {
  await ses.setIdentityMailFromDomain({
    Identity: domain,
    MailFromDomain: subdomain ? `${subdomain}.${domain}` : undefined,
    // Until the MX record is seen, mail goes out with SES's MAIL FROM rather than bouncing.
    BehaviorOnMXFailure: 'UseDefaultValue',
  });
}

function what(ctx: OpContext): string {
  return `the DNS records of SES email domain "${ctx.path}"`;
}

function recordKeys(tokens: string[], domain: string, mailFrom: string | undefined): RecordSetKey[] {
  const keys = tokens.map((t) => ({ name: `${t}._domainkey.${domain}`, type: 'CNAME' }));
  if (mailFrom)
    keys.push({ name: `${mailFrom}.${domain}`, type: 'MX' }, { name: `${mailFrom}.${domain}`, type: 'TXT' });
  return keys;
}

async function writeRecords(
  ctx: OpContext,
  zoneId: string,
  tokens: string[],
  domain: string,
  mailFrom: string | undefined,
) {
  const sets: ResourceRecordSet[] = tokens.map((t) => ({
    Name: `${t}._domainkey.${domain}`,
    Type: 'CNAME',
    TTL: 1800,
    ResourceRecords: [{ Value: `${t}.dkim.amazonses.com` }],
  }));
  if (mailFrom) {
    const name = `${mailFrom}.${domain}`;
    const feedback = `10 feedback-smtp.${ctx.region}.amazonses.com`;
    sets.push(
      { Name: name, Type: 'MX', TTL: 300, ResourceRecords: [{ Value: feedback }] },
      {
        Name: name,
        Type: 'TXT',
        TTL: 300,
        ResourceRecords: [{ Value: txtRecordValue('v=spf1 include:amazonses.com ~all') }],
      },
    );
  }
  await upsertRecordSets(ctx, await ctx.aws.route53(), zoneId, sets, what(ctx));
}
