// A stack lock for teams: one object in an S3 bucket, taken with a conditional write (If-None-Match)
// and held by a lease that a heartbeat renews (If-Match), so a killed run's lock expires by itself.
import { hostname } from 'node:os';
import { LockHeld, type LockHolder, type StackLock } from '../../core/lock.js';
import { sleep } from '../../core/wait.js';
import type { AwsClients } from '../clients.js';
import { errorCode, httpStatus } from '../errors.js';

interface LeaseBody extends LockHolder {
  expires: string;
}

export interface S3LockOptions {
  bucket: string;
  stack: string;
  region: string;
  command: string;
  /** How long a lock outlives its last heartbeat. */
  leaseMs?: number;
}

export class S3Lock implements StackLock {
  readonly key: string;
  private etag?: string;
  private heartbeat?: NodeJS.Timeout;
  private readonly leaseMs: number;

  constructor(
    private readonly aws: AwsClients,
    private readonly options: S3LockOptions,
  ) {
    this.key = `touchdown/locks/${options.stack}/${options.region}.json`;
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  async acquire(options: { timeoutMs: number; onWait?: (holder: LockHolder) => void; signal?: AbortSignal }) {
    const deadline = Date.now() + options.timeoutMs;
    let told = false;
    for (;;) {
      if (await this.put({ IfNoneMatch: '*' })) break;
      const current = await this.read();
      if (current && this.expired(current.body)) {
        // The holder stopped renewing (killed, or its machine went away): take over its exact version.
        if (await this.put({ IfMatch: current.etag })) break;
        continue;
      }
      if (!current) continue;
      if (Date.now() >= deadline) throw new LockHeld(this.options.stack, current.body);
      if (!told) options.onWait?.(current.body);
      told = true;
      await sleep(1_000, options.signal);
    }
    this.heartbeat = setInterval(() => void this.renew(), Math.max(1_000, this.leaseMs / 3));
    this.heartbeat.unref();
  }

  async release() {
    clearInterval(this.heartbeat);
    if (!this.etag) return;
    const s3 = await this.aws.s3();
    await s3
      .deleteObject({ Bucket: this.options.bucket, Key: this.key, IfMatch: this.etag })
      .catch(() => undefined);
    this.etag = undefined;
  }

  private async renew() {
    if (this.etag) await this.put({ IfMatch: this.etag }).catch(() => undefined);
  }

  /** Writes our lease under a condition; false when the condition did not hold. */
  private async put(condition: { IfNoneMatch?: string; IfMatch?: string }): Promise<boolean> {
    const s3 = await this.aws.s3();
    const body: LeaseBody = {
      pid: process.pid,
      host: hostname(),
      command: this.options.command,
      since: new Date().toISOString(),
      expires: new Date(Date.now() + this.leaseMs).toISOString(),
    };
    try {
      const res = await s3.putObject({
        Bucket: this.options.bucket,
        Key: this.key,
        Body: JSON.stringify(body),
        ContentType: 'application/json',
        ...condition,
      });
      this.etag = res.ETag;
      return true;
    } catch (err) {
      if (
        httpStatus(err) === 412 ||
        httpStatus(err) === 409 ||
        /PreconditionFailed|ConditionalRequestConflict/.test(errorCode(err))
      ) {
        return false;
      }
      throw err;
    }
  }

  private async read(): Promise<{ etag: string; body: LeaseBody } | undefined> {
    const s3 = await this.aws.s3();
    try {
      const res = await s3.getObject({ Bucket: this.options.bucket, Key: this.key });
      return { etag: res.ETag!, body: JSON.parse(await res.Body!.transformToString()) as LeaseBody };
    } catch (err) {
      if (/NoSuchKey|NotFound/.test(errorCode(err))) return undefined;
      throw err;
    }
  }

  private expired(body: LeaseBody): boolean {
    if (Date.parse(body.expires) < Date.now()) return true;
    // On this machine a dead process is known dead at once.
    if (body.host !== hostname()) return false;
    try {
      process.kill(body.pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}
