// The stack lock on AWS: one object in S3, taken with a conditional write (If-None-Match) and held by a lease
// that each change renews (If-Match), so every checkout, machine and CI runner deploying the stack shares it,
// and a killed run's lock expires by itself. S3 lets exactly one of two conditional writes of a key win:
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
// Parameter Store has no compare-and-swap for an existing parameter (PutParameter with Overwrite is
// unconditional), so it could not make renewal or takeover atomic.
import type { BucketLocationConstraint } from '@aws-sdk/client-s3';
import {
  deadHere,
  describeHolder,
  LeaseLost,
  LockHeld,
  type LockHolder,
  newHolder,
  type StackLock,
} from '../../core/lock.js';
import { sleep } from '../../core/wait.js';
import type { AwsClients } from '../clients.js';
import { errorCode, httpStatus } from '../errors.js';

interface LeaseBody extends LockHolder {
  expires: string;
}

export interface S3LockOptions {
  /** Default: the account's own lock bucket in the region, `touchdown-locks-<account>-<region>`, made on first use. */
  bucket?: string;
  stack: string;
  region: string;
  command: string;
  /** How long a lock outlives its last renewal. */
  leaseMs?: number;
}

/** The bucket every stack of an account and region keeps its lock in, unless told otherwise. */
export function defaultLockBucket(account: string, region: string): string {
  return `touchdown-locks-${account}-${region}`;
}

type Outcome = 'written' | 'condition-failed' | 'no-bucket';

export class S3Lock implements StackLock {
  readonly key: string;
  private readonly leaseMs: number;
  private etag?: string;
  private me?: Required<LockHolder>;
  private renewedAt = 0;
  private lost?: LeaseLost;
  private heartbeat?: NodeJS.Timeout;
  /** Renewals run one at a time (each needs the ETag the last one returned); callers share one in flight. */
  private renewing?: Promise<void>;
  private bucketName?: Promise<{ bucket: string; owner?: string; ours: boolean }>;

  constructor(
    private readonly aws: AwsClients,
    private readonly options: S3LockOptions,
  ) {
    this.key = `touchdown/locks/${options.stack}/${options.region}.json`;
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  async acquire(options: { timeoutMs: number; onWait?: (holder: LockHolder) => void; signal?: AbortSignal }) {
    const deadline = Date.now() + options.timeoutMs;
    this.me = newHolder(this.options.command);
    this.lost = undefined;
    let told = false;
    let bucketMade = 0;
    for (;;) {
      const outcome = await this.put({ IfNoneMatch: '*' });
      if (outcome === 'written') break;
      if (outcome === 'no-bucket') {
        // A new bucket can answer NoSuchBucket for a moment after it is made: try again, a few times.
        if (bucketMade++ > 0) await sleep(1_000, options.signal);
        if (bucketMade > 10)
          throw new Error(`S3 bucket "${(await this.bucket()).bucket}" is still not there`);
        await this.makeBucket();
        continue;
      }
      const current = await this.read();
      if (current && this.expired(current.body)) {
        // The holder stopped renewing (killed, or its machine went away): take over its exact version, so of
        // two runs taking over, one wins.
        if ((await this.put({ IfMatch: current.etag })) === 'written') break;
        continue;
      }
      if (!current) continue;
      if (Date.now() >= deadline) throw new LockHeld(this.options.stack, current.body);
      if (!told) options.onWait?.(current.body);
      told = true;
      await sleep(1_000, options.signal);
    }
    this.heartbeat = setInterval(() => void this.renew().catch(() => undefined), this.leaseMs / 3);
    this.heartbeat.unref();
  }

  /** Renews the lease with a conditional write: it fails if anyone else wrote the lock since our last write. */
  async ensureHeld() {
    if (this.lost) throw this.lost;
    if (!this.etag) throw new LeaseLost(this.options.stack, 'this run never took it');
    await this.renew();
    if (this.lost) throw this.lost;
  }

  async release() {
    clearInterval(this.heartbeat);
    await this.renewing?.catch(() => undefined);
    const etag = this.etag;
    this.etag = undefined;
    if (!etag || this.lost) return;
    const s3 = await this.aws.s3();
    const { bucket, owner } = await this.bucket();
    // Only our own version: a lock another run took since is left alone.
    await s3
      .deleteObject({ Bucket: bucket, Key: this.key, IfMatch: etag, ExpectedBucketOwner: owner })
      .catch(() => undefined);
  }

  private renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async renewOnce() {
    if (this.lost || !this.etag) return;
    let outcome: Outcome;
    try {
      outcome = await this.put({ IfMatch: this.etag });
    } catch (err) {
      // S3 did not answer (after the SDK's retries): the lease still stands until it expires, not a moment longer.
      if (Date.now() - this.renewedAt >= this.leaseMs) {
        this.lost = new LeaseLost(
          this.options.stack,
          `it could not be renewed for ${Math.round(this.leaseMs / 1000)} s (${(err as Error).message}), so another run may hold it now`,
        );
      }
      return;
    }
    if (outcome === 'written') return;
    const current = await this.read().catch(() => undefined);
    this.lost = new LeaseLost(
      this.options.stack,
      current ? `${describeHolder(current.body)} holds it now` : 'its lock object was deleted',
    );
    clearInterval(this.heartbeat);
  }

  /** Writes our lease under a condition. */
  private async put(condition: { IfNoneMatch?: string; IfMatch?: string }): Promise<Outcome> {
    const s3 = await this.aws.s3();
    const { bucket, owner } = await this.bucket();
    const body: LeaseBody = { ...this.me!, expires: new Date(Date.now() + this.leaseMs).toISOString() };
    const sent = Date.now();
    try {
      const res = await s3.putObject({
        Bucket: bucket,
        Key: this.key,
        Body: JSON.stringify(body),
        ContentType: 'application/json',
        ExpectedBucketOwner: owner,
        ...condition,
      });
      this.etag = res.ETag;
      this.renewedAt = sent;
      return 'written';
    } catch (err) {
      const code = errorCode(err);
      if (code === 'NoSuchBucket') return 'no-bucket';
      // 412: the condition did not hold; 409: a conflicting write won; 404: If-Match on a deleted object.
      if (
        httpStatus(err) === 412 ||
        httpStatus(err) === 409 ||
        /PreconditionFailed|ConditionalRequestConflict/.test(code) ||
        (condition.IfMatch && (code === 'NoSuchKey' || httpStatus(err) === 404))
      ) {
        // A retry whose first attempt was written but whose answer was lost fails its own condition.
        const current = await this.read();
        if (current?.body.token !== this.me!.token) return 'condition-failed';
        this.etag = current.etag;
        this.renewedAt = Math.min(sent, Date.parse(current.body.expires) - this.leaseMs);
        return 'written';
      }
      throw err;
    }
  }

  private async read(): Promise<{ etag: string; body: LeaseBody } | undefined> {
    const s3 = await this.aws.s3();
    const { bucket, owner } = await this.bucket();
    try {
      const res = await s3.getObject({ Bucket: bucket, Key: this.key, ExpectedBucketOwner: owner });
      return { etag: res.ETag!, body: JSON.parse(await res.Body!.transformToString()) as LeaseBody };
    } catch (err) {
      if (/NoSuchKey|NotFound/.test(errorCode(err))) return undefined;
      throw err;
    }
  }

  private bucket() {
    this.bucketName ??= this.options.bucket
      ? Promise.resolve({ bucket: this.options.bucket, ours: false })
      : this.aws.account().then((account) => ({
          bucket: defaultLockBucket(account, this.options.region),
          owner: account,
          ours: true,
        }));
    return this.bucketName;
  }

  /**
   * Makes the account's lock bucket. New buckets block public access and encrypt objects by default:
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/create-bucket-overview.html
   */
  private async makeBucket() {
    const { bucket, owner, ours } = await this.bucket();
    if (!ours) {
      throw new Error(
        `the lock bucket "${bucket}" does not exist: create it, or leave out --lock-bucket and TOUCHDOWN_LOCK_BUCKET to use the account's own`,
      );
    }
    const s3 = await this.aws.s3();
    const region = this.options.region;
    try {
      await s3.createBucket({
        Bucket: bucket,
        ObjectOwnership: 'BucketOwnerEnforced',
        ...(region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      });
    } catch (err) {
      const code = errorCode(err);
      if (code === 'BucketAlreadyOwnedByYou') return;
      if (code === 'BucketAlreadyExists') {
        throw new Error(
          `the lock bucket name "${bucket}" belongs to another AWS account: pass --lock-bucket (or set TOUCHDOWN_LOCK_BUCKET) to a bucket of yours`,
        );
      }
      throw err;
    }
    // Said again rather than trusted to the account's defaults: nothing in this bucket is ever public.
    const all = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    };
    await s3.putPublicAccessBlock({
      Bucket: bucket,
      PublicAccessBlockConfiguration: all,
      ExpectedBucketOwner: owner,
    });
  }

  private expired(body: LeaseBody): boolean {
    // On this machine a dead process is known dead at once.
    return Date.parse(body.expires) < Date.now() || deadHere(body);
  }
}
