// ECR repository: where the application's images are pushed and where Fargate pulls them from.
// Its images are data (every release ever built): destroy refuses to delete them without --force.
import type { Repository as AwsRepository, ECR } from '@aws-sdk/client-ecr';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { Interrupted } from '../../core/errors.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { createOnce, ownedHere } from '../create-once.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagDelta, tagList, tagMap, userTags } from '../tags.js';

const fields = {
  /** The repository's name in this stack; in AWS it is `<stack>-<name>`, in lower case. */
  name: field(z.string().min(1).max(200)),
  /** Scan each pushed image for known vulnerabilities (basic scanning, free). @default true */
  scanOnPush: field(z.boolean().default(true)),
  /** IMMUTABLE: a tag, once pushed, always names the same image, so a release can be rolled back to. @default 'IMMUTABLE' */
  imageTagMutability: field(z.enum(['MUTABLE', 'IMMUTABLE']).default('IMMUTABLE')),
  /** How images are encrypted at rest. Changing it means a new repository. @default 'AES256' */
  encryption: field(z.enum(['AES256', 'KMS']).default('AES256'), { replace: true }),
  /** The KMS key's ARN for 'KMS' encryption. Changing it means a new repository. @default AWS's `aws/ecr` key */
  kmsKey: field(input(z.string().min(1)).optional(), { replace: true }),
  /**
   * A lifecycle policy expires all but the newest N images, keeping storage (and its cost) bounded;
   * null keeps every image. @default 20
   */
  keepLastImages: field(z.number().int().min(1).max(10_000).nullable().default(20)),
  tags: field(tags()),
};

export interface EcrRepositoryOutputs {
  name: string;
  arn: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: what `docker push` and task definitions use. */
  uri: string;
}

type Args = ArgsOf<typeof fields>;
type RepositoryFound = Found<Args, EcrRepositoryOutputs>;

export const EcrRepository = defineResourceType({
  kind: 'ecr-repository',
  noun: 'ECR repository',
  fields,
  outputs: ['name', 'arn', 'uri'],
  defaultOutput: 'uri',
  identity: { by: 'address' },

  check(args) {
    return args.kmsKey !== undefined && args.encryption !== 'KMS'
      ? ['kmsKey: a KMS key is only used with encryption "KMS"; set that, or remove kmsKey']
      : [];
  },

  async find(ctx, wanted) {
    const ecr = await ctx.aws.ecr();
    // The tagging API does not list ECR repositories everywhere: list them (1000 a call) and read the
    // tags of those whose name says they may be ours.
    const repos = await allPages(
      (nextToken) => ecr.describeRepositories({ maxResults: 1000, nextToken }),
      (p) => p.repositories,
      (p) => p.nextToken,
    );
    const candidates = repos.filter((r) => r.repositoryName?.startsWith(`${ctx.stack}-`));
    const declared = new Set(wanted.map((w) => w.address));
    const limit = pLimit(8);
    const found = await Promise.all(
      candidates.map((r) =>
        limit(async () => {
          const t = await ignoreNotFound(readTags(ecr, r.repositoryArn!));
          if (t?.[STACK_TAG] !== ctx.stack) return undefined;
          // The lifecycle policy only matters where there is a declaration to compare it with.
          const withPolicy = declared.has(t[RESOURCE_TAG] ?? '');
          return read(ecr, r, t, withPolicy);
        }),
      ),
    );
    return found.filter((f) => f !== undefined);
  },

  async create(ctx, args) {
    const ecr = await ctx.aws.ecr();
    const name = repositoryName(ctx.stack, ctx.path);
    // A retry after a lost answer meets RepositoryAlreadyExistsException: ours when its tags say so.
    const repository = await createOnce(
      async () =>
        (
          await ecr.createRepository({
            repositoryName: name,
            imageTagMutability: args.imageTagMutability,
            imageScanningConfiguration: { scanOnPush: args.scanOnPush },
            encryptionConfiguration: { encryptionType: args.encryption, kmsKey: args.kmsKey },
            tags: tagList(ctx.tags(args.tags)),
          })
        ).repository!,
      async () => {
        const got = await ignoreNotFound(ecr.describeRepositories({ repositoryNames: [name] }));
        const repo = got?.repositories?.[0];
        return repo && { value: repo, ours: ownedHere(ctx, await readTags(ecr, repo.repositoryArn!)) };
      },
    );
    if (args.keepLastImages !== null) await putLifecyclePolicy(ecr, name, args.keepLastImages);
    return readAfterWrite(ecr, repository!.repositoryName!);
  },

  async update(ctx, found, args, changed) {
    const ecr = await ctx.aws.ecr();
    const repositoryName = found.id;
    if (changed.includes('scanOnPush')) {
      await ecr.putImageScanningConfiguration({
        repositoryName,
        imageScanningConfiguration: { scanOnPush: args.scanOnPush },
      });
    }
    if (changed.includes('imageTagMutability')) {
      await ecr.putImageTagMutability({ repositoryName, imageTagMutability: args.imageTagMutability });
    }
    if (changed.includes('keepLastImages')) {
      if (args.keepLastImages === null) {
        await ignoreNotFound(ecr.deleteLifecyclePolicy({ repositoryName }));
      } else {
        await putLifecyclePolicy(ecr, repositoryName, args.keepLastImages);
      }
    }
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      const resourceArn = found.outputs.arn;
      if (Object.keys(set).length > 0) await ecr.tagResource({ resourceArn, tags: tagList(set) });
      if (remove.length > 0) await ecr.untagResource({ resourceArn, tagKeys: remove });
    }
    return readAfterWrite(ecr, repositoryName);
  },

  async delete(ctx, found) {
    const ecr = await ctx.aws.ecr();
    // No force: images are only ever removed by empty(), which the engine runs under --force.
    await ignoreNotFound(ecr.deleteRepository({ repositoryName: found.id }));
  },

  async holdsData(ctx, found) {
    const ecr = await ctx.aws.ecr();
    const page = await ignoreNotFound(ecr.listImages({ repositoryName: found.id, maxResults: 1000 }));
    if (!page) return undefined;
    const images = new Set((page.imageIds ?? []).map((i) => i.imageDigest)).size;
    if (images === 0) return undefined;
    return `${page.nextToken ? 'at least ' : ''}${images} image${images === 1 ? '' : 's'}`;
  },

  async empty(ctx, found) {
    const ecr = await ctx.aws.ecr();
    let deleted = 0;
    for (;;) {
      if (ctx.signal.aborted) throw new Interrupted();
      // Always the first page: what was deleted is gone from the listing.
      const page = await ecr.listImages({ repositoryName: found.id, maxResults: 100 });
      const digests = [...new Set((page.imageIds ?? []).map((i) => i.imageDigest!))];
      if (digests.length === 0) return;
      const { failures } = await ecr.batchDeleteImage({
        repositoryName: found.id,
        imageIds: digests.map((imageDigest) => ({ imageDigest })),
      });
      const [first] = (failures ?? []).filter((f) => f.failureCode !== 'ImageNotFound');
      if (first) {
        throw new Error(
          `image ${first.imageId?.imageDigest} could not be deleted: ${first.failureCode}: ${first.failureReason}`,
        );
      }
      deleted += digests.length;
      ctx.progress(`emptying: ${deleted} images deleted`);
    }
  },
});

/**
 * `<stack>-<path>` in what ECR allows: lower-case letters, digits and `. _ - /`, one separator at a
 * time, starting and ending with a letter or digit. A path's `/` becomes an ECR namespace.
 */
export function repositoryName(stack: string, path: string): string {
  return physicalName(stack, path, { max: 256, allowed: /[A-Za-z0-9._/-]/, lowerCase: true })
    .replace(/([._/-])[._/-]+/g, '$1')
    .replace(/^[._/-]+|[._/-]+$/g, '');
}

/** The one rule Touchdown writes: expire everything but the newest N images, tagged or not. */
function lifecyclePolicy(keep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: `Keep the last ${keep} images`,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keep },
        action: { type: 'expire' },
      },
    ],
  });
}

async function putLifecyclePolicy(ecr: ECR, repositoryName: string, keep: number): Promise<void> {
  await ecr.putLifecyclePolicy({ repositoryName, lifecyclePolicyText: lifecyclePolicy(keep) });
}

/**
 * N when the policy is exactly Touchdown's keep-the-last-N rule, null when there is none, and
 * undefined (unequal to any declaration, so it is written again) for any other policy.
 */
function keptImages(text: string | undefined): number | null | undefined {
  if (text === undefined) return null;
  try {
    const { rules } = JSON.parse(text) as { rules?: Record<string, unknown>[] };
    const [rule, ...more] = rules ?? [];
    const s = rule?.selection as Record<string, unknown> | undefined;
    const action = rule?.action as Record<string, unknown> | undefined;
    const ours =
      more.length === 0 &&
      s?.tagStatus === 'any' &&
      s.countType === 'imageCountMoreThan' &&
      typeof s.countNumber === 'number' &&
      action?.type === 'expire';
    return ours ? (s.countNumber as number) : undefined;
  } catch {
    return undefined;
  }
}

async function readTags(ecr: ECR, arn: string): Promise<TagMap> {
  return tagMap((await ecr.listTagsForResource({ resourceArn: arn })).tags);
}

async function readAfterWrite(ecr: ECR, name: string): Promise<RepositoryFound> {
  const { repositories } = await ecr.describeRepositories({ repositoryNames: [name] });
  const repo = repositories![0]!;
  return read(ecr, repo, await readTags(ecr, repo.repositoryArn!), true);
}

async function read(ecr: ECR, r: AwsRepository, t: TagMap, withPolicy: boolean): Promise<RepositoryFound> {
  const name = r.repositoryName!;
  const args: Partial<Args> = {
    scanOnPush: r.imageScanningConfiguration?.scanOnPush ?? false,
    imageTagMutability: r.imageTagMutability as Args['imageTagMutability'],
    encryption: (r.encryptionConfiguration?.encryptionType ?? 'AES256') as Args['encryption'],
    kmsKey: r.encryptionConfiguration?.kmsKey,
    tags: userTags(t, { keepName: true }),
  };
  if (withPolicy) {
    const policy = await unsetPolicy(ecr.getLifecyclePolicy({ repositoryName: name }));
    args.keepLastImages = keptImages(policy?.lifecyclePolicyText);
  }
  return {
    key: t[RESOURCE_TAG] ?? r.repositoryArn!,
    id: name,
    args,
    outputs: { name, arn: r.repositoryArn!, uri: r.repositoryUri! },
  };
}

/** No policy is an answer, not an error. */
async function unsetPolicy<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (errorCode(err) === 'LifecyclePolicyNotFoundException') return undefined;
    throw err;
  }
}
