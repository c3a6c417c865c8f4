// S3 bucket: object storage, found by its globally unique name, configured one sub-resource per API call.

import type {
  LifecycleRule as AwsLifecycleRule,
  BucketLocationConstraint,
  CORSRule,
  S3,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, normalizePolicy, policyDocument, tags } from '../../core/args.js';
import { Interrupted } from '../../core/errors.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { errorCode, httpStatus, ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { stackResources } from '../tagging.js';
import { RESOURCE_TAG, STACK_TAG, tagList, tagMap, userTags } from '../tags.js';

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];
const IP_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/;

/** What breaks AWS's bucket naming rules, each in a few words; empty when the name is valid. */
export function bucketNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 3 || name.length > 63) problems.push(`is ${name.length} characters long`);
  if (/[A-Z]/.test(name)) problems.push('has upper-case letters');
  const others = [...new Set(name.replace(/[a-zA-Z0-9.-]/g, ''))];
  if (others.length > 0) problems.push(`has ${others.map((c) => JSON.stringify(c)).join(', ')}`);
  if (/^[.-]/.test(name)) problems.push(`starts with "${name[0]}"`);
  if (/[.-]$/.test(name)) problems.push(`ends with "${name.at(-1)}"`);
  if (name.includes('..')) problems.push('has two dots in a row');
  if (IP_ADDRESS.test(name)) problems.push('looks like an IP address');
  for (const p of RESERVED_PREFIXES)
    if (name.startsWith(p)) problems.push(`starts with "${p}", which AWS reserves`);
  for (const s of RESERVED_SUFFIXES)
    if (name.endsWith(s)) problems.push(`ends with "${s}", which AWS reserves`);
  return problems;
}

function listInWords(items: string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** A valid name close to an invalid one, when there is one. */
function suggestName(name: string): string | undefined {
  let s = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.');
  if (IP_ADDRESS.test(s)) s = s.replaceAll('.', '-');
  for (const p of RESERVED_PREFIXES) if (s.startsWith(p)) s = s.slice(p.length);
  for (const x of RESERVED_SUFFIXES) if (s.endsWith(x)) s = s.slice(0, -x.length);
  s = s
    .slice(0, 63)
    .replace(/^[.-]+/, '')
    .replace(/[.-]+$/, '');
  return s !== name && bucketNameProblems(s).length === 0 ? s : undefined;
}

const bucketName = z.string().superRefine((name, ctx) => {
  const problems = bucketNameProblems(name);
  if (problems.length === 0) return;
  const suggestion = suggestName(name);
  ctx.addIssue({
    code: 'custom',
    message:
      `"${name}" is not a valid bucket name: it ${listInWords(problems)}. ` +
      'Use 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit' +
      (suggestion ? `, e.g. "${suggestion}"` : ''),
  });
});

const corsRule = z.strictObject({
  allowedMethods: z.array(z.enum(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])).min(1),
  /** `https://example.com`, or `*`; a reference works with interpolate`https://${cdn.domainName}`. */
  allowedOrigins: z.array(input(z.string().min(1))).min(1),
  allowedHeaders: z.array(z.string()).optional(),
  exposeHeaders: z.array(z.string()).optional(),
  maxAgeSeconds: z.number().int().nonnegative().optional(),
});

const days = z.number().int().positive();
const lifecycleRule = z
  .strictObject({
    id: z.string().min(1).max(255),
    /** @default true */
    enabled: z.boolean().default(true),
    /** Only objects whose keys start with this; @default every object. */
    prefix: z.string().optional(),
    expirationDays: days.optional(),
    noncurrentVersionExpirationDays: days.optional(),
    abortIncompleteMultipartUploadDays: days.optional(),
    transitions: z
      .array(
        z.strictObject({
          days: z.number().int().nonnegative(),
          storageClass: z.enum([
            'STANDARD_IA',
            'ONEZONE_IA',
            'INTELLIGENT_TIERING',
            'GLACIER_IR',
            'GLACIER',
            'DEEP_ARCHIVE',
          ]),
        }),
      )
      .optional(),
  })
  .refine(
    (r) =>
      r.expirationDays !== undefined ||
      r.noncurrentVersionExpirationDays !== undefined ||
      r.abortIncompleteMultipartUploadDays !== undefined ||
      (r.transitions?.length ?? 0) > 0,
    {
      message:
        'a lifecycle rule needs an action: set expirationDays, noncurrentVersionExpirationDays, abortIncompleteMultipartUploadDays or transitions',
    },
  );

const fields = {
  /** The bucket's name, unique across all AWS accounts. Changing it means a new bucket. */
  name: field(bucketName, { replace: true }),
  /** Keeps every version of every object. Once enabled AWS can only suspend it, which reads as false. @default false */
  versioning: field(z.boolean().default(false)),
  /** Default encryption of new objects: S3-managed keys, or KMS. @default 'AES256' */
  encryption: field(z.enum(['AES256', 'aws:kms']).default('AES256')),
  /** The KMS key (id, ARN or alias) for 'aws:kms' encryption. @default null: the AWS managed key aws/s3 */
  kmsKeyId: field(input(z.string().min(1)).nullable().default(null)),
  /** All four S3 Block Public Access settings at once. @default true */
  blockPublicAccess: field(z.boolean().default(true)),
  /** Cross-origin rules, in the order S3 tries them. @default [] */
  cors: field(z.array(corsRule).default([]), { normalize: (v) => compactRules(v) }),
  /**
   * The bucket policy; references to other resources may appear anywhere inside (write this
   * bucket's own ARN as text: `arn:aws:s3:::<name>/*`). `null` means no policy: one found on the
   * bucket is deleted. Left out, the policy is not managed here (a BucketPolicy resource, which may
   * reference resources that reference this bucket, manages it instead).
   */
  policy: field(policyDocument().nullable().optional(), { normalize: normalizePolicy }),
  /** Expiry and storage-class transitions. @default [] */
  lifecycleRules: field(z.array(lifecycleRule).default([]), { normalize: (v) => compactRules(v) }),
  tags: field(tags()),
};

export interface BucketOutputs {
  name: string;
  arn: string;
  /** `<name>.s3.<region>.amazonaws.com`: what CloudFront origins should use. */
  regionalDomainName: string;
  domainName: string;
}

type Args = ArgsOf<typeof fields>;
type Setting =
  | 'blockPublicAccess'
  | 'encryption'
  | 'versioning'
  | 'cors'
  | 'lifecycleRules'
  | 'policy'
  | 'tags';

export const Bucket = defineResourceType({
  kind: 'bucket',
  noun: 'S3 bucket',
  listedAs: 's3',
  fields,
  outputs: ['name', 'arn', 'regionalDomainName', 'domainName'],
  defaultOutput: 'name',
  identity: { by: 'name', name: (args) => args.name },

  check(args) {
    const problems: string[] = [];
    if (args.kmsKeyId != null && args.encryption !== 'aws:kms') {
      problems.push(
        'kmsKeyId: a KMS key is only used with encryption "aws:kms"; set that, or remove kmsKeyId',
      );
    }
    const ids = (args.lifecycleRules ?? []).map((r) => r.id);
    for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) {
      problems.push(`lifecycleRules: two rules have the id "${id}"; give each rule its own id`);
    }
    return problems;
  },

  async find(ctx, wanted) {
    const s3 = await ctx.aws.s3();
    const owned = new Set(await stackBucketNames(ctx));
    // A run killed between CreateBucket and PutBucketTagging leaves an untagged bucket: look for declared names too.
    const declared = new Set(wanted.map((w) => w.key).filter((k): k is string => k !== undefined));
    const unlisted = [...declared].filter((name) => !owned.has(name));
    const adopted = await Promise.all(unlisted.map((name) => adoptable(ctx, s3, name)));
    const names = [...owned, ...adopted.filter((n): n is string => n !== undefined)];
    const limit = pLimit(10);
    const found = await Promise.all(names.map((name) => limit(() => read(ctx, s3, name))));
    return found.filter((f): f is Found<Args, BucketOutputs> => f !== undefined);
  },

  async create(ctx, args) {
    const s3 = await ctx.aws.s3();
    await s3.createBucket({
      Bucket: args.name,
      ObjectOwnership: 'BucketOwnerEnforced',
      ...(ctx.region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: ctx.region as BucketLocationConstraint } }),
    });
    // Tags in CreateBucket need the newer s3:TagResource permission; until tagged, only find's HeadBucket sees it.
    await ctx.wait({
      what: `S3 bucket "${args.name}" to accept tags`,
      timeoutMs: 2 * 60_000,
      check: async () => {
        try {
          await putTags(ctx, s3, args);
          return { done: true, value: undefined };
        } catch (err) {
          if (errorCode(err) === 'NoSuchBucket') return { done: false, state: 'not visible yet' };
          throw err;
        }
      },
    });
    const settings: Setting[] = ['blockPublicAccess', 'encryption'];
    if (args.versioning) settings.push('versioning');
    if (args.cors.length > 0) settings.push('cors');
    if (args.lifecycleRules.length > 0) settings.push('lifecycleRules');
    if (args.policy) settings.push('policy');
    await configure(ctx, s3, args, settings);
    return mustRead(ctx, s3, args.name);
  },

  async update(ctx, found, args, changed) {
    const s3 = await ctx.aws.s3();
    const settings = changed.map((c) => (c === 'kmsKeyId' ? 'encryption' : c)) as Setting[];
    await configure(ctx, s3, args, settings);
    return mustRead(ctx, s3, found.id);
  },

  async delete(ctx, found) {
    const s3 = await ctx.aws.s3();
    await ignoreNotFound(s3.deleteBucket({ Bucket: found.id }));
  },

  async holdsData(ctx, found) {
    const s3 = await ctx.aws.s3();
    const page = await ignoreNotFound(s3.listObjectVersions({ Bucket: found.id, MaxKeys: 1000 }));
    if (!page) return undefined;
    const versions = page.Versions ?? [];
    const current = versions.filter((v) => v.IsLatest).length;
    const parts = [
      count(current, 'object'),
      count(versions.length - current, 'older version'),
      count(page.DeleteMarkers?.length ?? 0, 'delete marker'),
    ].filter((p) => p !== undefined);
    if (parts.length === 0) return undefined;
    return `${page.IsTruncated ? 'at least ' : ''}${parts.join(', ')}`;
  },

  async empty(ctx, found) {
    const s3 = await ctx.aws.s3();
    let deleted = 0;
    for (;;) {
      if (ctx.signal.aborted) throw new Interrupted();
      // Always the first page: what was deleted is gone from the listing.
      const page = await s3.listObjectVersions({ Bucket: found.id, MaxKeys: 1000 });
      const batch = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
        Key: v.Key!,
        VersionId: v.VersionId,
      }));
      if (batch.length === 0) return;
      const { Errors } = await s3.deleteObjects({
        Bucket: found.id,
        Delete: { Objects: batch, Quiet: true },
      });
      const [first] = Errors ?? [];
      if (first) {
        throw new Error(
          `${Errors!.length} object versions could not be deleted, the first "${first.Key}": ${first.Code}: ${first.Message}`,
        );
      }
      deleted += batch.length;
      ctx.progress(`emptying: ${deleted} object versions deleted`);
    }
  },
});

function count(n: number, noun: string): string | undefined {
  return n === 0 ? undefined : `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The stack's buckets by their ownership tag: one paged call for all of them. */
export async function stackBucketNames(ctx: FindContext): Promise<string[]> {
  const names: string[] = [];
  for (const r of await stackResources(ctx, ['s3'])) {
    const name = r.arn.split(':').at(-1);
    if (name) names.push(name);
  }
  // Bucket names are global but a bucket lives in one region: a stack of the same name in another region owns
  // the others, and a plan here must never delete them. One ListBuckets, filtered to this region, says which.
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html (BucketRegion)
  if (names.length === 0) return names;
  const s3 = await ctx.aws.s3();
  const here = await allPages(
    (ContinuationToken) => s3.listBuckets({ BucketRegion: ctx.region, MaxBuckets: 1000, ContinuationToken }),
    (page) => page.Buckets,
    (page) => page.ContinuationToken,
  );
  const inRegion = new Set(here.map((b) => b.Name));
  return names.filter((name) => inRegion.has(name));
}

/** A declared bucket the tagging API did not list: ours to adopt when in our account and no other stack's. */
async function adoptable(ctx: FindContext, s3: S3, name: string): Promise<string | undefined> {
  try {
    await s3.headBucket({ Bucket: name, ExpectedBucketOwner: await ctx.account() });
  } catch (err) {
    // 404: no such bucket; 403: another account's; 301: in another region (CreateBucket will say so).
    if ([301, 403, 404].includes(httpStatus(err) ?? 0)) return undefined;
    throw err;
  }
  const tagging = await ignoreNotFound(s3.getBucketTagging({ Bucket: name }), 'NoSuchTagSet');
  const owner = tagMap(tagging?.TagSet)[STACK_TAG];
  if (owner !== undefined && owner !== ctx.stack) {
    throw new Error(
      `the bucket "${name}" belongs to the stack "${owner}" (its ${STACK_TAG} tag): ` +
        `give this bucket another name, or remove it from "${owner}" first`,
    );
  }
  return name;
}

/** Answers with nothing when AWS says this configuration is not set. */
async function unset<T>(call: Promise<T>, code: string): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (errorCode(err) === code) return undefined;
    throw err;
  }
}

async function mustRead(ctx: FindContext, s3: S3, name: string): Promise<Found<Args, BucketOutputs>> {
  const found = await read(ctx, s3, name);
  if (!found) throw new Error(`the bucket "${name}" disappeared while being configured`);
  return found;
}

/** One bucket's configuration: S3 has one Get call per setting, run side by side. */
async function read(ctx: FindContext, s3: S3, name: string): Promise<Found<Args, BucketOutputs> | undefined> {
  const Bucket = name;
  const answers = await Promise.all([
    s3.getBucketVersioning({ Bucket }),
    unset(s3.getBucketEncryption({ Bucket }), 'ServerSideEncryptionConfigurationNotFoundError'),
    unset(s3.getPublicAccessBlock({ Bucket }), 'NoSuchPublicAccessBlockConfiguration'),
    unset(s3.getBucketCors({ Bucket }), 'NoSuchCORSConfiguration'),
    unset(s3.getBucketPolicy({ Bucket }), 'NoSuchBucketPolicy'),
    unset(s3.getBucketLifecycleConfiguration({ Bucket }), 'NoSuchLifecycleConfiguration'),
    unset(s3.getBucketTagging({ Bucket }), 'NoSuchTagSet'),
  ]).catch((err: unknown) => {
    // The tagging API lists deleted buckets for a while.
    if (errorCode(err) === 'NoSuchBucket') return undefined;
    throw err;
  });
  if (!answers) return undefined;
  const [versioning, encryption, publicAccess, cors, policy, lifecycle, tagging] = answers;
  const sse = encryption?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
  const block = publicAccess?.PublicAccessBlockConfiguration;
  const flags = [
    block?.BlockPublicAcls,
    block?.IgnorePublicAcls,
    block?.BlockPublicPolicy,
    block?.RestrictPublicBuckets,
  ];
  const t = tagMap(tagging?.TagSet);
  const owned = t[STACK_TAG] === ctx.stack && t[RESOURCE_TAG] !== undefined;
  return {
    key: name,
    id: name,
    args: {
      name,
      versioning: versioning.Status === 'Enabled',
      encryption: sse?.SSEAlgorithm as Args['encryption'] | undefined,
      kmsKeyId: sse?.KMSMasterKeyID ?? null,
      // Some but not all four: equal to neither true nor false, so a plan sets all four again.
      blockPublicAccess: flags.every(Boolean) ? true : flags.some(Boolean) ? undefined : false,
      cors: (cors?.CORSRules ?? []).map(readCorsRule),
      policy: policy?.Policy ? (JSON.parse(policy.Policy) as Args['policy']) : null,
      lifecycleRules: (lifecycle?.Rules ?? []).map(readLifecycleRule),
      // Without our ownership tags (adopted, or retagged by hand) the tags differ from any wish, so they are set again.
      tags: owned ? userTags(t) : undefined,
    },
    outputs: {
      name,
      arn: `arn:aws:s3:::${name}`,
      regionalDomainName: `${name}.s3.${ctx.region}.amazonaws.com`,
      domainName: `${name}.s3.amazonaws.com`,
    },
  };
}

function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

function readCorsRule(r: CORSRule): Args['cors'][number] {
  return {
    allowedMethods: (r.AllowedMethods ?? []) as Args['cors'][number]['allowedMethods'],
    allowedOrigins: r.AllowedOrigins ?? [],
    allowedHeaders: nonEmpty(r.AllowedHeaders),
    exposeHeaders: nonEmpty(r.ExposeHeaders),
    maxAgeSeconds: r.MaxAgeSeconds ?? undefined,
  };
}

function readLifecycleRule(r: AwsLifecycleRule): Args['lifecycleRules'][number] {
  return {
    id: r.ID ?? '',
    enabled: r.Status === 'Enabled',
    prefix: (r.Filter?.Prefix ?? r.Prefix) || undefined,
    expirationDays: r.Expiration?.Days,
    noncurrentVersionExpirationDays: r.NoncurrentVersionExpiration?.NoncurrentDays,
    abortIncompleteMultipartUploadDays: r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
    transitions: nonEmpty(r.Transitions)?.map((x) => ({
      days: x.Days ?? 0,
      storageClass: x.StorageClass as NonNullable<
        Args['lifecycleRules'][number]['transitions']
      >[number]['storageClass'],
    })),
  };
}

/** An empty prefix or list means the same as none, whichever way it was written or read. */
function compactRules(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((rule) =>
    Object.fromEntries(
      Object.entries(rule as Record<string, unknown>).filter(
        ([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0),
      ),
    ),
  );
}

/** Brings the named settings to what the user declared; public access first, so a public policy is accepted. */
async function configure(ctx: OpContext, s3: S3, args: Args, settings: readonly Setting[]): Promise<void> {
  const Bucket = args.name;
  const wants = (s: Setting) => settings.includes(s);
  if (wants('blockPublicAccess')) {
    const on = args.blockPublicAccess;
    await s3.putPublicAccessBlock({
      Bucket,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: on,
        IgnorePublicAcls: on,
        BlockPublicPolicy: on,
        RestrictPublicBuckets: on,
      },
    });
  }
  if (wants('encryption')) {
    const kms = args.encryption === 'aws:kms';
    await s3.putBucketEncryption({
      Bucket,
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: args.encryption,
              KMSMasterKeyID: args.kmsKeyId ?? undefined,
            },
            // A bucket key cuts KMS requests (and their cost) by orders of magnitude.
            ...(kms ? { BucketKeyEnabled: true } : {}),
          },
        ],
      },
    });
  }
  // Versioning before lifecycle: noncurrent-version rules act on versions.
  if (wants('versioning')) {
    await s3.putBucketVersioning({
      Bucket,
      VersioningConfiguration: { Status: args.versioning ? 'Enabled' : 'Suspended' },
    });
  }
  if (wants('cors')) {
    if (args.cors.length === 0) await ignoreNotFound(s3.deleteBucketCors({ Bucket }));
    else await s3.putBucketCors({ Bucket, CORSConfiguration: { CORSRules: args.cors.map(writeCorsRule) } });
  }
  if (wants('lifecycleRules')) {
    if (args.lifecycleRules.length === 0) await ignoreNotFound(s3.deleteBucketLifecycle({ Bucket }));
    else {
      await s3.putBucketLifecycleConfiguration({
        Bucket,
        LifecycleConfiguration: { Rules: args.lifecycleRules.map(writeLifecycleRule) },
      });
    }
  }
  if (wants('policy') && args.policy !== undefined) {
    if (args.policy === null) await ignoreNotFound(s3.deleteBucketPolicy({ Bucket }));
    else await s3.putBucketPolicy({ Bucket, Policy: JSON.stringify(args.policy) });
  }
  if (wants('tags')) await putTags(ctx, s3, args);
}

/** PutBucketTagging replaces the whole set: ownership tags go with the user's every time. */
async function putTags(ctx: OpContext, s3: S3, args: Args): Promise<void> {
  await s3.putBucketTagging({ Bucket: args.name, Tagging: { TagSet: tagList(ctx.tags(args.tags)) } });
}

function writeCorsRule(r: Args['cors'][number]): CORSRule {
  return {
    AllowedMethods: r.allowedMethods,
    AllowedOrigins: r.allowedOrigins,
    AllowedHeaders: nonEmpty(r.allowedHeaders),
    ExposeHeaders: nonEmpty(r.exposeHeaders),
    MaxAgeSeconds: r.maxAgeSeconds,
  };
}

function writeLifecycleRule(r: Args['lifecycleRules'][number]): AwsLifecycleRule {
  const transitions = nonEmpty(r.transitions);
  return {
    ID: r.id,
    Status: r.enabled ? 'Enabled' : 'Disabled',
    Filter: { Prefix: r.prefix ?? '' },
    ...(r.expirationDays !== undefined ? { Expiration: { Days: r.expirationDays } } : {}),
    ...(r.noncurrentVersionExpirationDays !== undefined
      ? { NoncurrentVersionExpiration: { NoncurrentDays: r.noncurrentVersionExpirationDays } }
      : {}),
    ...(r.abortIncompleteMultipartUploadDays !== undefined
      ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: r.abortIncompleteMultipartUploadDays } }
      : {}),
    ...(transitions
      ? { Transitions: transitions.map((x) => ({ Days: x.days, StorageClass: x.storageClass })) }
      : {}),
  };
}
