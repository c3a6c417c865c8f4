// CloudFront distribution: the CDN in front of the static and media buckets and the load balancer.
import { randomUUID } from 'node:crypto';
import type {
  Distribution as AwsDistribution,
  CacheBehavior,
  CloudFront,
  DefaultCacheBehavior,
  DistributionConfig,
  GetDistributionResult,
  Origin,
} from '@aws-sdk/client-cloudfront';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import type { AttributeChange } from '../../core/diff.js';
import { type Input, interpolate } from '../../core/ref.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { DEFAULT_WAIT_TIMING, formatDuration, type WaitTiming, waitFor } from '../../core/wait.js';
import { AwsClients } from '../clients.js';
import { ignoreNotFound } from '../errors.js';
import { inStackRegion, lacksRegionTag, regionTagPending } from '../region-scope.js';
import { stackResources } from '../tagging.js';
import { REGION_TAG, tagDelta, tagList, tagMap, userTags } from '../tags.js';

/** The Route53 hosted zone of every CloudFront domain: an alias record's `HostedZoneId`. */
export const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2';

/** AWS managed cache policies, by the name the console shows. */
const CACHE_POLICIES = {
  /** Caches by path only, compressed: static files, media. */
  CachingOptimized: '658327ea-f89d-4fab-a63d-7e88639e58f6',
  /** Passes every request to the origin: a Django app. */
  CachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
} as const;

/** AWS managed origin request policies: what CloudFront forwards to the origin beyond the cache key. */
const ORIGIN_REQUEST_POLICIES = {
  AllViewer: '216adef6-5c7f-47e4-b989-5492eafa07d3',
  AllViewerExceptHostHeader: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
  'AllViewerAndCloudFrontHeaders-2022-06': '33f36d7e-f396-46d9-90e0-52428a34d9dc',
  'CORS-S3Origin': '88a5eaf4-2fd4-4709-b370-b4c650ea3fcf',
  'CORS-CustomOrigin': '59781a5b-3903-41f3-afcb-af62929ccde1',
  UserAgentRefererHeaders: 'acba4595-bd28-49b8-b9fe-13317c0390fa',
} as const;

/** The three method sets CloudFront accepts; GET and HEAD responses are the ones cached. */
const METHODS = {
  GET_HEAD: ['GET', 'HEAD'],
  GET_HEAD_OPTIONS: ['GET', 'HEAD', 'OPTIONS'],
  ALL: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'POST', 'PATCH', 'DELETE'],
} as const;

type CachePolicy = keyof typeof CACHE_POLICIES;
type OriginRequestPolicy = keyof typeof ORIGIN_REQUEST_POLICIES;
type Methods = keyof typeof METHODS;

const names = <T extends object>(o: T) => Object.keys(o) as [keyof T & string, ...(keyof T & string)[]];

/** An ACM certificate ARN; CloudFront takes certificates from us-east-1 only, whatever the stack's region. */
const acmCertificateArn = z
  .string()
  .regex(/^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/, 'expected an ACM certificate ARN')
  .superRefine((arn, ctx) => {
    const region = arn.split(':')[3];
    if (region !== 'us-east-1') {
      ctx.addIssue({
        code: 'custom',
        message: `the certificate is in ${region}, but CloudFront only uses ACM certificates in us-east-1 (N. Virginia): request one there`,
      });
    }
  });

const originId = z.string().min(1).max(128);

const behaviorShape = {
  /** The `id` of the origin that answers these requests. */
  originId,
  /** What happens to plain-HTTP viewers. @default 'redirect-to-https' */
  viewerProtocolPolicy: z.enum(['redirect-to-https', 'https-only', 'allow-all']).default('redirect-to-https'),
  /** Which HTTP methods CloudFront passes on; a Django app behind the load balancer needs 'ALL'. @default 'GET_HEAD' */
  allowedMethods: z.enum(names(METHODS)).default('GET_HEAD'),
  /** An AWS managed cache policy: 'CachingOptimized' for files, 'CachingDisabled' for the app. @default 'CachingOptimized' */
  cachePolicy: z.enum(names(CACHE_POLICIES)).default('CachingOptimized'),
  /**
   * An AWS managed origin request policy: what the origin sees of the viewer's request. A Django app behind a
   * load balancer usually wants 'AllViewerExceptHostHeader' (cookies, query strings, headers). @default null: none
   */
  originRequestPolicy: z.enum(names(ORIGIN_REQUEST_POLICIES)).nullable().default(null),
  /** Gzip and Brotli compression of compressible responses. @default true */
  compress: z.boolean().default(true),
};

const defaultBehavior = z.strictObject(behaviorShape);
const behavior = z.strictObject({
  /** Which request paths this behaviour takes, e.g. '/static/*' or '/media/*'. */
  pathPattern: z.string().min(1).max(255),
  ...behaviorShape,
});

const s3Origin = z.strictObject({
  /** Names the origin for behaviours' `originId`; unique within the distribution. */
  id: originId,
  s3: z.strictObject({
    /** The bucket's `regionalDomainName`, `<bucket>.s3.<region>.amazonaws.com`. */
    bucketRegionalDomainName: input(z.string().min(1)),
    /** The origin access control CloudFront signs its requests with, so the bucket can stay private. */
    originAccessControlId: input(z.string().min(1)),
  }),
});

const httpOrigin = z.strictObject({
  /** Names the origin for behaviours' `originId`; unique within the distribution. */
  id: originId,
  http: z.strictObject({
    /** The origin's host name, e.g. a load balancer's DNS name. */
    domainName: input(z.string().min(1)),
    /** How CloudFront talks to the origin (ports 80 and 443). @default 'https-only' */
    protocolPolicy: z.enum(['https-only', 'http-only', 'match-viewer']).default('https-only'),
  }),
});

const lowerCase = (v: unknown) =>
  Array.isArray(v) ? v.map((s) => (typeof s === 'string' ? s.toLowerCase() : s)) : v;

const fields = {
  /** Names it in this stack (it is found by its tags). */
  name: field(z.string().min(1).max(200)),
  /** Shown in the CloudFront console's list of distributions. @default '' */
  comment: field(z.string().max(128).default('')),
  /** Custom domains served (`cdn.example.com`); they need `certificateArn`. @default [] */
  aliases: field(z.array(input(z.string().min(1).max(253))).default([]), {
    unordered: true,
    normalize: lowerCase,
  }),
  /**
   * An ACM certificate covering every alias. It must be in us-east-1 (N. Virginia), whatever the stack's
   * region: CloudFront takes certificates from nowhere else. @default null: CloudFront's own *.cloudfront.net
   */
  certificateArn: field(input(acmCertificateArn).nullable().default(null)),
  /** Where content comes from: private S3 buckets (through an origin access control) or HTTP servers. */
  origins: field(z.array(z.union([s3Origin, httpOrigin])).min(1), { unordered: true }),
  /** What answers requests no other behaviour takes. */
  defaultBehavior: field(defaultBehavior),
  /** Behaviours by path, tried in this order before the default, e.g. '/static/*' and '/media/*'. @default [] */
  behaviors: field(z.array(behavior).default([])),
  /** Which edge locations serve it: 'PriceClass_100' is North America and Europe, the cheapest. @default 'PriceClass_100' */
  priceClass: field(z.enum(['PriceClass_100', 'PriceClass_200', 'PriceClass_All']).default('PriceClass_100')),
  /** HTTP versions offered to viewers. @default 'http2and3' */
  httpVersion: field(z.enum(['http1.1', 'http2', 'http3', 'http2and3']).default('http2and3')),
  /** Answers on IPv6 too. @default true */
  ipv6: field(z.boolean().default(true)),
  /** The object served for `/`, e.g. 'index.html'. @default null: `/` goes to the origin as it is */
  defaultRootObject: field(z.string().min(1).max(255).nullable().default(null)),
  /** Serves requests; a disabled distribution keeps its configuration. @default true */
  enabled: field(z.boolean().default(true)),
  /** A WAF web ACL that filters requests: a WAFv2 ACL's ARN (scope CLOUDFRONT, made in us-east-1). @default null: none */
  webAclId: field(input(z.string().min(1)).nullable().default(null)),
  tags: field(tags()),
};

export interface DistributionOutputs {
  id: string;
  arn: string;
  /** `d111111abcdef8.cloudfront.net`: where aliases' DNS records point. */
  domainName: string;
  /** CloudFront's hosted zone (Z2FDTNDATAQYW2), for Route53 alias records. */
  hostedZoneId: string;
}

type Args = ArgsOf<typeof fields>;
type Behavior = Args['behaviors'][number];
type DistributionFound = Found<Args, DistributionOutputs>;

/** Which part of CloudFront's configuration each argument is. */
const CONFIG_KEYS = {
  comment: 'Comment',
  aliases: 'Aliases',
  certificateArn: 'ViewerCertificate',
  origins: 'Origins',
  defaultBehavior: 'DefaultCacheBehavior',
  behaviors: 'CacheBehaviors',
  priceClass: 'PriceClass',
  httpVersion: 'HttpVersion',
  ipv6: 'IsIPV6Enabled',
  defaultRootObject: 'DefaultRootObject',
  enabled: 'Enabled',
  webAclId: 'WebACLId',
} as const satisfies Partial<Record<keyof Args, keyof DistributionConfig>>;

// AWS publishes 5 to 15 minutes for a change to reach every edge location; allow twice that.
const DEPLOY_TIMEOUT_MS = 30 * 60_000;
const DEPLOY_HINT =
  'CloudFront is still copying the configuration to its edge locations, which can take more than 15 minutes: ' +
  'run the same command again to keep waiting (the distribution is found again by its tags)';

export const Distribution = defineResourceType({
  kind: 'distribution',
  noun: 'CloudFront distribution',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 240, update: 240 },
  fields,
  outputs: ['id', 'arn', 'domainName', 'hostedZoneId'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    const origins = args.origins ?? [];
    const ids = origins.map((o) => o.id);
    for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) {
      problems.push(`origins: two origins have the id "${id}"; give each origin its own id`);
    }
    const known = new Set(ids);
    const s3Ids = new Set(origins.filter((o) => 's3' in o).map((o) => o.id));
    const behaviors: [string, Omit<Behavior, 'pathPattern'> | undefined][] = [
      ['defaultBehavior', args.defaultBehavior],
      ...(args.behaviors ?? []).map((b, i) => [`behaviors[${i}]`, b] as [string, Behavior]),
    ];
    for (const [where, b] of behaviors) {
      if (!b) continue;
      if (!known.has(b.originId)) {
        problems.push(
          `${where}.originId: no origin has the id "${b.originId}"; use one of: ${ids.join(', ')}`,
        );
      }
      // S3 signs the request with the Host header; the viewer's Host breaks the signature.
      if (b.originRequestPolicy === 'AllViewer' && s3Ids.has(b.originId)) {
        problems.push(
          `${where}.originRequestPolicy: 'AllViewer' sends the viewer's Host header, which S3 rejects; use 'CORS-S3Origin' or none`,
        );
      }
    }
    const patterns = (args.behaviors ?? []).map((b) => b.pathPattern);
    for (const p of new Set(patterns.filter((p, i) => patterns.indexOf(p) !== i))) {
      problems.push(
        `behaviors: two behaviours have the path pattern "${p}"; CloudFront would only ever use the first`,
      );
    }
    if ((args.aliases ?? []).length > 0 && args.certificateArn == null) {
      problems.push(
        'aliases: CloudFront serves custom domains only with a certificate covering them; set certificateArn to an ACM certificate in us-east-1',
      );
    }
    return problems;
  },

  async find(ctx) {
    const cf = await ctx.aws.cloudFront();
    const tagged = [];
    for (const d of await stackDistributions(ctx)) if (await inStackRegion(ctx, d.tags)) tagged.push(d);
    const limit = pLimit(10);
    const found = await Promise.all(
      tagged.map(({ arn, tags }) =>
        limit(async () => {
          // The tagging API lists a deleted distribution for a while.
          const got = await ignoreNotFound(cf.getDistribution({ Id: arn.split('/').at(-1) }));
          return got ? toFound(got.Distribution!, tags, regionTagPending(ctx, tags)) : undefined;
        }),
      ),
    );
    return found.filter((f): f is DistributionFound => f !== undefined);
  },

  async create(ctx, args) {
    const cf = await ctx.aws.cloudFront();
    const { Distribution: made } = await cf.createDistributionWithTags({
      DistributionConfigWithTags: {
        // A fresh reference per create: the SDK's own retries of this request reuse it.
        DistributionConfig: { CallerReference: randomUUID(), ...configOf(args) } as DistributionConfig,
        Tags: { Items: tagList(ctx.tags(args.tags)) },
      },
    });
    return deployed(ctx, cf, made!.Id!, 'to deploy');
  },

  async update(ctx, found, args, changed) {
    const cf = await ctx.aws.cloudFront();
    const keys = changed.flatMap((c) =>
      c in CONFIG_KEYS ? [CONFIG_KEYS[c as keyof typeof CONFIG_KEYS]] : [],
    );
    if (keys.length > 0) {
      const { DistributionConfig: current, ETag } = await cf.getDistributionConfig({ Id: found.id });
      const wanted = configOf(args);
      // Only the parts that changed: what Touchdown does not manage (logging, error pages) stays as it is.
      const next = { ...current!, ...Object.fromEntries(keys.map((k) => [k, wanted[k]])) };
      await cf.updateDistribution({ Id: found.id, IfMatch: ETag, DistributionConfig: next });
    }
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      const Resource = found.outputs.arn;
      if (Object.keys(set).length > 0) await cf.tagResource({ Resource, Tags: { Items: tagList(set) } });
      if (remove.length > 0) await cf.untagResource({ Resource, TagKeys: { Items: remove } });
    }
    // One made before region scoping becomes this region's stack's.
    if (lacksRegionTag(found))
      await cf.tagResource({
        Resource: found.outputs.arn,
        Tags: { Items: tagList({ [REGION_TAG]: ctx.region }) },
      });
    return deployed(ctx, cf, found.id, 'to deploy the change');
  },

  async delete(ctx, found) {
    const cf = await ctx.aws.cloudFront();
    const current = await ignoreNotFound(cf.getDistributionConfig({ Id: found.id }));
    if (!current) return;
    // CloudFront deletes only a distribution that is disabled everywhere.
    if (current.DistributionConfig!.Enabled) {
      await cf.updateDistribution({
        Id: found.id,
        IfMatch: current.ETag,
        DistributionConfig: { ...current.DistributionConfig!, Enabled: false },
      });
    }
    const disabled = await untilDeployed(ctx, cf, found.id, 'to be disabled before it is deleted');
    if (!disabled) return;
    await ignoreNotFound(cf.deleteDistribution({ Id: found.id, IfMatch: disabled.ETag }));
    await ctx.wait({
      what: `CloudFront distribution "${ctx.path}" to be deleted`,
      timeoutMs: 10 * 60_000,
      check: async () => {
        const got = await ignoreNotFound(cf.getDistribution({ Id: found.id }));
        return got
          ? { done: false, state: got.Distribution?.Status ?? 'deleting' }
          : { done: true, value: undefined };
      },
    });
  },
});

/**
 * A bucket policy that lets this distribution, and nothing else, read the bucket's objects through its
 * origin access control; the bucket stays private (Block Public Access on). Give it to the bucket's `policy`.
 *
 * The distribution's S3 origin must then name the bucket by its domain written out
 * (`<bucket>.s3.<region>.amazonaws.com`), not by `bucket.regionalDomainName`: the bucket waits for the
 * distribution's ARN, so the distribution cannot also wait for the bucket.
 *
 * @param bucketArn the bucket's ARN as text, `arn:aws:s3:::<bucket>` (a bucket cannot refer to itself)
 * @param distributionArn the distribution's `arn`
 */
export function bucketPolicyForDistribution(bucketArn: Input<string>, distributionArn: Input<string>) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AllowCloudFrontRead',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: typeof bucketArn === 'string' ? `${bucketArn}/*` : interpolate`${bucketArn}/*`,
        Condition: { StringEquals: { 'AWS:SourceArn': distributionArn } },
      },
    ],
  };
}

export interface InvalidateOptions {
  signal?: AbortSignal;
  timing?: WaitTiming;
  progress?: (message: string) => void;
}

/**
 * Removes paths from CloudFront's edge caches (after `collectstatic`, for example) and waits until every
 * edge location has dropped them. Paths start with `/` and may end with `*`: `['/static/*']`.
 * Returns the invalidation's id.
 */
export async function invalidate(
  aws: AwsClients,
  distributionId: string,
  paths: readonly string[],
  options: InvalidateOptions = {},
): Promise<string> {
  const bad = paths.filter((p) => !p.startsWith('/'));
  if (paths.length === 0 || bad.length > 0) {
    throw new Error(
      `invalidation paths start with "/", like "/static/*"; got ${paths.length === 0 ? 'none' : bad.map((p) => `"${p}"`).join(', ')}`,
    );
  }
  const cf = await aws.cloudFront();
  const { Invalidation: made } = await cf.createInvalidation({
    DistributionId: distributionId,
    // Unique per call: the SDK's retries reuse it, so a retried request never invalidates twice.
    InvalidationBatch: {
      CallerReference: randomUUID(),
      Paths: { Quantity: paths.length, Items: [...paths] },
    },
  });
  const id = made!.Id!;
  await waitFor(
    {
      what: `CloudFront invalidation ${id} of ${paths.join(', ')} on distribution ${distributionId}`,
      // AWS publishes that most invalidations finish within minutes.
      timeoutMs: 30 * 60_000,
      hint: 'the paths are still being removed from edge caches; the invalidation continues without Touchdown, so the next deploy need not repeat it',
      check: async () => {
        const { Invalidation: now } = await cf.getInvalidation({ DistributionId: distributionId, Id: id });
        // Real AWS says InProgress, then Completed.
        const status = now?.Status ?? 'InProgress';
        return status === 'InProgress' ? { done: false, state: status } : { done: true, value: undefined };
      },
    },
    {
      timing: options.timing ?? DEFAULT_WAIT_TIMING,
      signal: options.signal ?? new AbortController().signal,
      progress: (state, ms) =>
        options.progress?.(`invalidating ${paths.join(', ')}: ${state} (${formatDuration(ms)})`),
    },
  );
  return id;
}

/** The stack's distributions with their tags: one paged call to the tagging API for all of them. */
async function stackDistributions(
  ctx: FindContext,
): Promise<{ arn: string; tags: Record<string, string> }[]> {
  // CloudFront is global: the tagging API lists distributions only in us-east-1.
  const clients =
    ctx.region === 'us-east-1' ? ctx.aws : new AwsClients({ ...ctx.aws.options, region: 'us-east-1' });
  return stackResources(ctx, ['cloudfront:distribution'], { clients });
}

/** Waits until the distribution is Deployed; undefined when it is gone. */
function untilDeployed(
  ctx: OpContext,
  cf: CloudFront,
  id: string,
  why: string,
): Promise<GetDistributionResult | undefined> {
  return ctx.wait({
    what: `CloudFront distribution "${ctx.path}" ${why}`,
    timeoutMs: DEPLOY_TIMEOUT_MS,
    hint: DEPLOY_HINT,
    check: async () => {
      const got = await ignoreNotFound(cf.getDistribution({ Id: id }));
      if (!got) return { done: true, value: undefined };
      const status = got.Distribution?.Status ?? 'InProgress';
      return status === 'Deployed' ? { done: true, value: got } : { done: false, state: status };
    },
  });
}

/** Waits for the deployment, then reads it as find would. */
async function deployed(ctx: OpContext, cf: CloudFront, id: string, why: string): Promise<DistributionFound> {
  const got = await untilDeployed(ctx, cf, id, why);
  if (!got) throw new Error(`the distribution ${id} disappeared while it was deploying`);
  const d = got.Distribution!;
  const { Tags } = await cf.listTagsForResource({ Resource: d.ARN });
  return toFound(d, tagMap(Tags?.Items));
}

// ---- between the arguments and CloudFront's configuration ----

/** A CloudFront list: a count, and items only when there are some. */
function list<T>(items: readonly T[]): { Quantity: number; Items?: T[] } {
  return items.length > 0 ? { Quantity: items.length, Items: [...items] } : { Quantity: 0 };
}

/** The parts of the configuration the arguments decide. */
function configOf(args: Args): Pick<DistributionConfig, (typeof CONFIG_KEYS)[keyof typeof CONFIG_KEYS]> {
  return {
    Comment: args.comment,
    Aliases: list(args.aliases),
    ViewerCertificate: args.certificateArn
      ? {
          CloudFrontDefaultCertificate: false,
          ACMCertificateArn: args.certificateArn,
          SSLSupportMethod: 'sni-only',
          MinimumProtocolVersion: 'TLSv1.2_2021',
        }
      : { CloudFrontDefaultCertificate: true },
    Origins: list(args.origins.map(writeOrigin)) as DistributionConfig['Origins'],
    DefaultCacheBehavior: writeBehavior(args.defaultBehavior),
    CacheBehaviors: list(args.behaviors.map((b) => ({ PathPattern: b.pathPattern, ...writeBehavior(b) }))),
    PriceClass: args.priceClass,
    HttpVersion: args.httpVersion,
    IsIPV6Enabled: args.ipv6,
    DefaultRootObject: args.defaultRootObject ?? '',
    Enabled: args.enabled,
    WebACLId: args.webAclId ?? '',
  };
}

function writeOrigin(o: Args['origins'][number]): Origin {
  if ('s3' in o) {
    return {
      Id: o.id,
      DomainName: o.s3.bucketRegionalDomainName,
      // An origin access control replaces the legacy origin access identity, left empty.
      S3OriginConfig: { OriginAccessIdentity: '' },
      OriginAccessControlId: o.s3.originAccessControlId,
    };
  }
  return {
    Id: o.id,
    DomainName: o.http.domainName,
    CustomOriginConfig: {
      HTTPPort: 80,
      HTTPSPort: 443,
      OriginProtocolPolicy: o.http.protocolPolicy,
      OriginSslProtocols: { Quantity: 1, Items: ['TLSv1.2'] },
    },
  };
}

function writeBehavior(b: Omit<Behavior, 'pathPattern'>): DefaultCacheBehavior {
  const methods = METHODS[b.allowedMethods];
  return {
    TargetOriginId: b.originId,
    ViewerProtocolPolicy: b.viewerProtocolPolicy,
    AllowedMethods: {
      Quantity: methods.length,
      Items: [...methods],
      CachedMethods: { Quantity: 2, Items: ['GET', 'HEAD'] },
    },
    Compress: b.compress,
    CachePolicyId: CACHE_POLICIES[b.cachePolicy],
    ...(b.originRequestPolicy
      ? { OriginRequestPolicyId: ORIGIN_REQUEST_POLICIES[b.originRequestPolicy] }
      : {}),
  };
}

/** The name of a managed policy by its id; an id of some other policy stays as it is and reads as a change. */
function policyName<T extends Record<string, string>>(policies: T, id: string): keyof T & string {
  return (Object.keys(policies).find((k) => policies[k] === id) ?? id) as keyof T & string;
}

function methodsOf(items: readonly string[] | undefined): Methods {
  const have = [...(items ?? [])].sort().join(',');
  const match = (Object.keys(METHODS) as Methods[]).find((k) => [...METHODS[k]].sort().join(',') === have);
  return match ?? (have as Methods);
}

function readBehavior(b: DefaultCacheBehavior | CacheBehavior): Omit<Behavior, 'pathPattern'> {
  return {
    originId: b.TargetOriginId ?? '',
    viewerProtocolPolicy: b.ViewerProtocolPolicy as Behavior['viewerProtocolPolicy'],
    allowedMethods: methodsOf(b.AllowedMethods?.Items),
    cachePolicy: policyName(CACHE_POLICIES, b.CachePolicyId ?? '') as CachePolicy,
    originRequestPolicy: b.OriginRequestPolicyId
      ? (policyName(ORIGIN_REQUEST_POLICIES, b.OriginRequestPolicyId) as OriginRequestPolicy)
      : null,
    compress: b.Compress ?? false,
  };
}

function readOrigin(o: Origin): Args['origins'][number] {
  if (o.CustomOriginConfig) {
    return {
      id: o.Id!,
      http: {
        domainName: o.DomainName!,
        protocolPolicy: o.CustomOriginConfig.OriginProtocolPolicy as 'https-only',
      },
    };
  }
  return {
    id: o.Id!,
    s3: { bucketRegionalDomainName: o.DomainName!, originAccessControlId: o.OriginAccessControlId ?? '' },
  };
}

function toFound(
  d: AwsDistribution,
  tags: Record<string, string>,
  pending?: AttributeChange[],
): DistributionFound {
  const c = d.DistributionConfig!;
  return {
    key: tags['touchdown:resource'] ?? d.Id!,
    id: d.Id!,
    ...(pending?.length ? { pending } : {}),
    args: {
      comment: c.Comment ?? '',
      aliases: c.Aliases?.Items ?? [],
      certificateArn: c.ViewerCertificate?.ACMCertificateArn || null,
      origins: (c.Origins?.Items ?? []).map(readOrigin),
      defaultBehavior: readBehavior(c.DefaultCacheBehavior!),
      behaviors: (c.CacheBehaviors?.Items ?? []).map((b) => ({
        pathPattern: b.PathPattern!,
        ...readBehavior(b),
      })),
      priceClass: c.PriceClass as Args['priceClass'],
      httpVersion: c.HttpVersion as Args['httpVersion'],
      ipv6: c.IsIPV6Enabled ?? false,
      defaultRootObject: c.DefaultRootObject || null,
      enabled: c.Enabled ?? false,
      webAclId: c.WebACLId || null,
      tags: userTags(tags),
    },
    outputs: {
      id: d.Id!,
      arn: d.ARN!,
      domainName: d.DomainName!,
      hostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID,
    },
  };
}
