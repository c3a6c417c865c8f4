// The local AWS keeps everything in memory. So that a stack's files and secrets outlive the emulator, its
// buckets' objects and its Parameter Store values are saved under .touchdown/local/<stack>/saved when the
// stack stops, and put back when it starts (after the engine has made the buckets and parameters again).
// Only what changed since the last save is copied. `down --volumes` deletes the folder.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3 } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { AwsClients } from '../aws/clients.js';
import { allPages } from '../aws/pages.js';

interface SavedObject {
  etag: string;
  file: string;
  contentType?: string;
  cacheControl?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  metadata?: Record<string, string>;
}

interface SavedParameter {
  name: string;
  type: string;
  value: string;
}

/** Objects by key, for one bucket. */
type BucketIndex = Record<string, SavedObject>;

export interface SaveResult {
  objects: number;
  copied: number;
  parameters: number;
}

const limit = pLimit(8);
const fileFor = (key: string) => createHash('sha256').update(key).digest('hex');

export class SavedState {
  constructor(
    private readonly dir: string,
    private readonly aws: AwsClients,
  ) {}

  private indexPath = (purpose: string) => join(this.dir, 's3', purpose, 'index.json');
  private objectPath = (purpose: string, file: string) => join(this.dir, 's3', purpose, 'objects', file);
  private get parametersPath() {
    return join(this.dir, 'parameters.json');
  }

  /** Copies the buckets' objects and the parameters under `path` from the local AWS to disk. */
  async save(buckets: Record<string, string | undefined>, path: string): Promise<SaveResult> {
    const s3 = await this.aws.s3();
    const result: SaveResult = { objects: 0, copied: 0, parameters: 0 };
    for (const [purpose, bucket] of Object.entries(buckets)) {
      if (!bucket) continue;
      const before = await this.readIndex(purpose);
      const listed = await allPages(
        (ContinuationToken) => s3.listObjectsV2({ Bucket: bucket, ContinuationToken }),
        (p) => p.Contents,
        (p) => p.NextContinuationToken,
      );
      const after: BucketIndex = {};
      await mkdir(join(this.dir, 's3', purpose, 'objects'), { recursive: true });
      await Promise.all(
        listed.map((o) =>
          limit(async () => {
            const key = o.Key!;
            const etag = o.ETag ?? '';
            const known = before[key];
            if (known && known.etag === etag) {
              after[key] = known;
              return;
            }
            after[key] = await this.download(s3, bucket, purpose, key, etag);
            result.copied++;
          }),
        ),
      );
      for (const [key, saved] of Object.entries(before)) {
        if (!after[key]) await rm(this.objectPath(purpose, saved.file), { force: true });
      }
      await writeFile(this.indexPath(purpose), JSON.stringify(after));
      result.objects += listed.length;
    }

    const ssm = await this.aws.ssm();
    const parameters = await allPages(
      (NextToken) =>
        ssm.getParametersByPath({ Path: path, Recursive: true, WithDecryption: true, NextToken }),
      (p) => p.Parameters,
    );
    const saved: SavedParameter[] = parameters.map((p) => ({
      name: p.Name!,
      type: p.Type ?? 'String',
      value: p.Value ?? '',
    }));
    // The emulator's storage on disk: readable by this user only.
    await mkdir(this.dir, { recursive: true });
    await writeFile(this.parametersPath, JSON.stringify(saved), { mode: 0o600 });
    result.parameters = saved.length;
    return result;
  }

  private async download(s3: S3, bucket: string, purpose: string, key: string, etag: string) {
    const got = await s3.getObject({ Bucket: bucket, Key: key });
    const body = await got.Body!.transformToByteArray();
    const file = fileFor(key);
    await writeFile(this.objectPath(purpose, file), body);
    return {
      etag,
      file,
      ...(got.ContentType ? { contentType: got.ContentType } : {}),
      ...(got.CacheControl ? { cacheControl: got.CacheControl } : {}),
      ...(got.ContentEncoding ? { contentEncoding: got.ContentEncoding } : {}),
      ...(got.ContentDisposition ? { contentDisposition: got.ContentDisposition } : {}),
      ...(got.Metadata && Object.keys(got.Metadata).length > 0 ? { metadata: got.Metadata } : {}),
    };
  }

  /** Puts back what the local AWS lacks or holds differently: objects, then parameter values. */
  async restore(
    buckets: Record<string, string | undefined>,
  ): Promise<{ objects: number; parameters: number }> {
    const s3 = await this.aws.s3();
    let objects = 0;
    for (const [purpose, bucket] of Object.entries(buckets)) {
      if (!bucket) continue;
      const index = await this.readIndex(purpose);
      if (Object.keys(index).length === 0) continue;
      const present = new Map(
        (
          await allPages(
            (ContinuationToken) => s3.listObjectsV2({ Bucket: bucket, ContinuationToken }),
            (p) => p.Contents,
            (p) => p.NextContinuationToken,
          )
        ).map((o) => [o.Key!, o.ETag ?? '']),
      );
      await Promise.all(
        Object.entries(index).map(([key, saved]) =>
          limit(async () => {
            if (present.get(key) === saved.etag) return;
            const body = await readFile(this.objectPath(purpose, saved.file)).catch(() => undefined);
            if (!body) return;
            const put = await s3.putObject({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentType: saved.contentType,
              CacheControl: saved.cacheControl,
              ContentEncoding: saved.contentEncoding,
              ContentDisposition: saved.contentDisposition,
              Metadata: saved.metadata,
            });
            saved.etag = put.ETag ?? saved.etag;
            objects++;
          }),
        ),
      );
      await writeFile(this.indexPath(purpose), JSON.stringify(index));
    }

    const ssm = await this.aws.ssm();
    const saved = await this.readParameters();
    let parameters = 0;
    for (const p of saved) {
      const now = await ssm
        .getParameter({ Name: p.name, WithDecryption: true })
        .then((r) => r.Parameter?.Value)
        .catch(() => undefined);
      if (now === p.value) continue;
      await ssm.putParameter({ Name: p.name, Value: p.value, Type: p.type as 'String', Overwrite: true });
      parameters++;
    }
    return { objects, parameters };
  }

  /** True when an earlier run saved something here. */
  async exists(): Promise<boolean> {
    return (await this.readParameters()).length > 0;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  private async readIndex(purpose: string): Promise<BucketIndex> {
    return readFile(this.indexPath(purpose), 'utf8').then(
      (t) => JSON.parse(t) as BucketIndex,
      () => ({}),
    );
  }

  private async readParameters(): Promise<SavedParameter[]> {
    return readFile(this.parametersPath, 'utf8').then(
      (t) => JSON.parse(t) as SavedParameter[],
      () => [],
    );
  }
}
