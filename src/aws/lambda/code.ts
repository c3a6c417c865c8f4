// A Lambda function's code: a zip built beforehand (checked before any change: readable, a zip, within
// Lambda's unpacked limit) or an S3 object, how it reaches Lambda, and what tells one version from another.
// Packaging a Django project into the zip is src/django/lambda's; the function itself is function.ts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FunctionCode } from '@aws-sdk/client-lambda';
import type { S3 } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { input } from '../../core/args.js';
import { isPlainObject } from '../../core/ref.js';
import type { OpContext } from '../../core/resource.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import type { TagMap } from '../tags.js';

/** Where the code of an S3-sourced function came from, since Lambda does not say. */
export const CODE_SOURCE_TAG = 'touchdown:code-source';

export const MB = 1024 * 1024;
/** Lambda takes a zip up to 50 MB in the request itself; larger ones must come from S3. */
export const MAX_DIRECT_UPLOAD = 50 * MB;
const MAX_UNZIPPED = 250 * MB;

const zipCode = z
  .object({
    /** Path to a .zip built beforehand (relative to the working directory), e.g. `build/app.zip`. */
    zipFile: z.string().min(1),
  })
  .transform((code, ctx) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(code.zipFile);
    } catch (err) {
      ctx.issues.push({
        code: 'custom',
        message: `cannot read "${code.zipFile}" (${errorCode(err) || String(err)}): build the package first`,
        input: code.zipFile,
        path: ['zipFile'],
      });
      return z.NEVER;
    }
    const unzipped = unzippedSize(bytes);
    if (unzipped === undefined) {
      ctx.issues.push({
        code: 'custom',
        message: `"${code.zipFile}" is not a zip archive`,
        input: code.zipFile,
        path: ['zipFile'],
      });
    } else if (unzipped > MAX_UNZIPPED) {
      ctx.issues.push({
        code: 'custom',
        message:
          `"${code.zipFile}" unpacks to ${Math.ceil(unzipped / MB)} MB; Lambda allows 250 MB: ` +
          'leave out tests, dev dependencies and boto3 (the Python runtime has it)',
        input: code.zipFile,
        path: ['zipFile'],
      });
    }
    // The code's identity, as Lambda reports it (CodeSha256): an unchanged zip is no change.
    const sha256 = createHash('sha256').update(bytes).digest('base64');
    return { zipFile: code.zipFile, sha256, bytes: bytes.length };
  });

const s3Code = z.strictObject({
  s3Bucket: input(z.string().min(3).max(63)),
  /** Use a key that changes with the content (`app-<hash>.zip`): the key is what tells a change. */
  s3Key: z.string().min(1).max(1024),
  s3ObjectVersion: z.string().min(1).optional(),
});

/**
 * The code, `{ zipFile }` or `{ s3Bucket, s3Key, s3ObjectVersion? }`: a zip is read now, so its hash is the
 * argument compared (an unchanged zip is no change).
 */
export const lambdaCode = z.union([s3Code, zipCode]);
/** The code as the function's arguments hold it once references are resolved. */
export type LambdaCode =
  | { zipFile: string; sha256: string; bytes: number }
  | { s3Bucket: string; s3Key: string; s3ObjectVersion?: string | undefined };

/** The code as Lambda takes it: the zip itself up to 50 MB, through S3 beyond, or the S3 object given. */
export async function uploadCode(
  ctx: OpContext,
  name: string,
  args: { code: LambdaCode; uploadBucket?: string | undefined },
): Promise<FunctionCode> {
  const code = args.code;
  if (!('zipFile' in code)) {
    return { S3Bucket: code.s3Bucket, S3Key: code.s3Key, S3ObjectVersion: code.s3ObjectVersion };
  }
  const bytes = readFileSync(code.zipFile);
  if (bytes.length <= MAX_DIRECT_UPLOAD) return { ZipFile: bytes };
  if (args.uploadBucket === undefined) {
    throw new Error(`"${code.zipFile}" is over 50 MB: give an uploadBucket to send it through S3`);
  }
  const s3: S3 = await ctx.aws.s3();
  // Named by content: a retried apply finds it there and uploads nothing.
  const hex = createHash('sha256').update(bytes).digest('hex');
  const key = `touchdown/lambda/${name}/${hex}.zip`;
  const there = await ignoreNotFound(s3.headObject({ Bucket: args.uploadBucket, Key: key }));
  if (!there) {
    ctx.progress(`uploading ${Math.ceil(bytes.length / MB)} MB to s3://${args.uploadBucket}/${key}`);
    await s3.putObject({ Bucket: args.uploadBucket, Key: key, Body: bytes });
  }
  return { S3Bucket: args.uploadBucket, S3Key: key };
}

/** An S3 object's location, kept as a tag: Lambda reports the code's hash but not where it came from. */
export function codeSourceTag(args: { code: LambdaCode }): TagMap {
  const code = args.code;
  return 'zipFile' in code ? {} : { [CODE_SOURCE_TAG]: s3Source(code) };
}

function s3Source(code: { s3Bucket: string; s3Key: string; s3ObjectVersion?: string }): string {
  const location = `s3://${code.s3Bucket}/${code.s3Key}${code.s3ObjectVersion ? ` ${code.s3ObjectVersion}` : ''}`;
  // Lambda's tag values: up to 256 of letters, digits, spaces and _.:/=+-@.
  return /^[\w.:/=+\-@ ]{1,256}$/.test(location)
    ? location
    : `sha256:${createHash('sha256').update(location).digest('hex')}`;
}

export function sourceOf(found: { args: { code?: unknown } }): TagMap {
  const source = (found.args.code as { source?: string } | undefined)?.source;
  return source ? { [CODE_SOURCE_TAG]: source } : {};
}

/** What tells one version of the code from another: the zip's SHA-256, or the S3 object named. */
export function codeIdentity(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  if (typeof value.s3Bucket === 'string') return { source: s3Source(value as never) };
  if (typeof value.source === 'string') return { source: value.source };
  return { sha256: value.sha256 };
}

/**
 * The size of a zip's contents once unpacked, read from its central directory; undefined when it is not a
 * zip. A ZIP64 archive keeps its sizes elsewhere: it counts as 0 here, and AWS checks it on upload.
 */
export function unzippedSize(zip: Buffer): number | undefined {
  const signature = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
  const end = zip.lastIndexOf(signature);
  if (end < 0 || end + 22 > zip.length) return undefined;
  const entries = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  if (entries === 0xffff || offset === 0xffffffff) return 0;
  let total = 0;
  for (let i = 0; i < entries; i++) {
    if (offset + 46 > zip.length || zip.readUInt32LE(offset) !== 0x02014b50) return undefined;
    const size = zip.readUInt32LE(offset + 24);
    if (size === 0xffffffff) return 0;
    total += size;
    offset +=
      46 + zip.readUInt16LE(offset + 28) + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return total;
}
