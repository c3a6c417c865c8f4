// A bucket's policy as a resource of its own, so that it can reference what references the bucket
// (a CloudFront distribution reading a private bucket through its origin access control).
import { z } from 'zod';
import { type ArgsOf, field, input, normalizePolicy, policyDocument } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { stackBucketNames } from './bucket.js';

const fields = {
  /** A label for the policy; the bucket is named by `bucket`. */
  name: field(z.string().min(1).max(200)),
  /** The bucket's name. */
  bucket: field(input(z.string().min(3).max(63)), { replace: true }),
  /** The policy document; references may appear anywhere inside. */
  policy: field(policyDocument(), { normalize: normalizePolicy }),
};

type Args = ArgsOf<typeof fields>;

export interface BucketPolicyOutputs {
  bucket: string;
}

/** The policy's Id marks it as this stack's, so a policy no longer declared is found and removed. */
const ownerId = (stack: string, address: string) => `touchdown:${stack}:${address}`;

export const BucketPolicy = defineResourceType({
  kind: 'bucket-policy',
  noun: 'S3 bucket policy',
  listedAs: 's3',
  fields,
  outputs: ['bucket'],
  defaultOutput: 'bucket',
  identity: { by: 'address' },

  async find(ctx, wanted) {
    const s3 = await ctx.aws.s3();
    // The stack's buckets (one tagging call) and any bucket a declaration names outright.
    const names = new Set(await stackBucketNames(ctx));
    for (const w of wanted) if (typeof w.args.bucket === 'string') names.add(w.args.bucket);
    const found = await Promise.all(
      [...names].map(async (bucket): Promise<Found<Args, BucketPolicyOutputs> | undefined> => {
        const answer = await ignoreNotFound(s3.getBucketPolicy({ Bucket: bucket }), 'NoSuchBucketPolicy');
        if (!answer?.Policy) return undefined;
        const doc = JSON.parse(answer.Policy) as Record<string, unknown>;
        const id = typeof doc.Id === 'string' ? doc.Id : '';
        if (!id.startsWith(ownerId(ctx.stack, ''))) return undefined;
        const { Id: _, ...policy } = doc;
        return {
          key: id.slice(ownerId(ctx.stack, '').length),
          id: bucket,
          args: { bucket, policy },
          outputs: { bucket },
        };
      }),
    );
    return found.filter((f) => f !== undefined);
  },

  create: (ctx, args) => put(ctx, args),
  update: (ctx, _found, args) => put(ctx, args),

  async delete(ctx, found) {
    const s3 = await ctx.aws.s3();
    await ignoreNotFound(s3.deleteBucketPolicy({ Bucket: found.id }), 'NoSuchBucket');
  },
});

async function put(ctx: OpContext, args: Args): Promise<Found<Args, BucketPolicyOutputs>> {
  const s3 = await ctx.aws.s3();
  const Policy = JSON.stringify({ Id: ownerId(ctx.stack, ctx.address), ...args.policy });
  await ctx.wait({
    what: `the policy of bucket "${args.bucket}" to be accepted`,
    timeoutMs: 2 * 60_000,
    // A principal (a distribution, a role) made a moment ago may not be known to S3 yet.
    check: async () => {
      try {
        await s3.putBucketPolicy({ Bucket: args.bucket, Policy });
        return { done: true, value: undefined };
      } catch (err) {
        if (errorCode(err) === 'MalformedPolicy' && /principal/i.test(String(err))) {
          return { done: false, state: 'principal not known yet' };
        }
        throw err;
      }
    },
  });
  const found = { bucket: args.bucket, policy: args.policy };
  return { key: ctx.address, id: args.bucket, args: found, outputs: { bucket: args.bucket } };
}
