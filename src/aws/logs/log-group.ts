// CloudWatch log group: where a service's containers or functions write their logs.
// A data store only when it keeps logs forever (retentionDays: null): logs under a retention period expire anyway.
import type { LogGroup as AwsLogGroup, CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { createOnce, ownedHere } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { stackResources } from '../tagging.js';
import { RESOURCE_TAG, type TagMap, tagDelta, userTags } from '../tags.js';

/** The retention periods CloudWatch Logs accepts, in days. */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const LOG_GROUP_CHARS = /[A-Za-z0-9_\-/.#]/;

const retentionDays = z
  .number()
  .int()
  .refine((d) => (RETENTION_DAYS as readonly number[]).includes(d), {
    message: `CloudWatch keeps logs for one of ${RETENTION_DAYS.join(', ')} days; pick one, or null to keep them forever`,
  });

const fields = {
  /** The user's label; the group's name in AWS is logGroupName. */
  name: field(z.string().min(1).max(200)),
  /** Its name in AWS, up to 512 letters, digits and `_-/.#`. @default `/<stack>/<path>`. Changing it means a new group. */
  logGroupName: field(
    z
      .string()
      .min(1)
      .max(512)
      .regex(/^[A-Za-z0-9_\-/.#]+$/, 'log group names use letters, digits and _-/.# only')
      .refine((n) => !n.startsWith('aws/'), { message: 'names starting with "aws/" are reserved by AWS' })
      .optional(),
    { replace: true },
  ),
  /** Days logs are kept (one of RETENTION_DAYS); null keeps them forever. @default 30 */
  retentionDays: field(retentionDays.nullable().default(30)),
  /** ARN of a KMS key to encrypt the logs with (its key policy must allow logs.<region>.amazonaws.com). @default null: AWS-owned keys */
  kmsKeyId: field(input(z.string().startsWith('arn:')).nullable().default(null)),
  tags: field(tags()),
};

export interface LogGroupOutputs {
  /** What ECS's awslogs-group and Lambda's logging config take. */
  name: string;
  /** `arn:aws:logs:<region>:<account>:log-group:<name>` (append `:*` for its streams in IAM policies). */
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type LogGroupFound = Found<Args, LogGroupOutputs>;

export const LogGroup = defineResourceType({
  kind: 'log-group',
  noun: 'CloudWatch log group',
  listedAs: 'logs',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  async find(ctx) {
    const owned = await stackLogGroups(ctx);
    if (owned.size === 0) return [];
    const logs = await ctx.aws.logs();
    const names = [...owned.keys()];
    const batches: string[][] = [];
    for (let i = 0; i < names.length; i += 50) batches.push(names.slice(i, i + 50));
    // DescribeLogGroups takes up to 50 names a call and reports no tags: those came from the tagging API.
    const pages = await Promise.all(
      batches.map((logGroupIdentifiers) => describeAll(logs, { logGroupIdentifiers })),
    );
    return pages
      .flat()
      .filter((g) => owned.has(g.logGroupName!))
      .map((g) => read(g, owned.get(g.logGroupName!)!));
  },

  async create(ctx, args) {
    const logs = await ctx.aws.logs();
    const logGroupName = args.logGroupName ?? defaultName(ctx);
    // A retry after a lost answer meets ResourceAlreadyExistsException: ours when its tags say so.
    await createOnce(
      () =>
        logs.createLogGroup({
          logGroupName,
          kmsKeyId: args.kmsKeyId ?? undefined,
          tags: ctx.tags(args.tags),
        }),
      async () => {
        const g = (await describeAll(logs, { logGroupNamePrefix: logGroupName })).find(
          (x) => x.logGroupName === logGroupName,
        );
        if (!g) return undefined;
        const { tags: t } = await logs.listTagsForResource({ resourceArn: arnOf(g) });
        return { value: {}, ours: ownedHere(ctx, t) };
      },
    );
    // New groups keep logs forever; a run stopped before this line shows the retention as a change next time.
    if (args.retentionDays !== null) {
      await logs.putRetentionPolicy({ logGroupName, retentionInDays: args.retentionDays });
    }
    return readOne(ctx, logs, logGroupName);
  },

  async update(ctx, found, args, changed) {
    const logs = await ctx.aws.logs();
    const logGroupName = found.id;
    if (changed.includes('retentionDays')) {
      if (args.retentionDays === null) await logs.deleteRetentionPolicy({ logGroupName });
      else await logs.putRetentionPolicy({ logGroupName, retentionInDays: args.retentionDays });
    }
    if (changed.includes('kmsKeyId')) {
      // Logs written before keep the key they were written with.
      if (args.kmsKeyId === null) await logs.disassociateKmsKey({ logGroupName });
      else await logs.associateKmsKey({ logGroupName, kmsKeyId: args.kmsKeyId });
    }
    if (changed.includes('tags')) {
      const resourceArn = found.outputs.arn;
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0) await logs.tagResource({ resourceArn, tags: set });
      if (remove.length > 0) await logs.untagResource({ resourceArn, tagKeys: remove });
    }
    return readOne(ctx, logs, logGroupName);
  },

  async delete(ctx, found) {
    const logs = await ctx.aws.logs();
    await ignoreNotFound(logs.deleteLogGroup({ logGroupName: found.id }));
  },

  async holdsData(ctx, found) {
    if (found.args.retentionDays !== null) return undefined;
    const logs = await ctx.aws.logs();
    const [groups, streams] = await Promise.all([
      ignoreNotFound(logs.describeLogGroups({ logGroupNamePrefix: found.id })),
      ignoreNotFound(logs.describeLogStreams({ logGroupName: found.id, limit: 1 })),
    ]);
    if (!streams?.logStreams?.length) return undefined;
    const bytes = groups?.logGroups?.find((g) => g.logGroupName === found.id)?.storedBytes ?? 0;
    return `logs kept without expiry (${formatBytes(bytes)} stored)`;
  },
});

/** `/<stack>/<path>`, e.g. `/shop-prod/web`; cut with a hash in the rare case it passes 512 characters. */
export function defaultName(ctx: { stack: string; path: string }): string {
  const name = `/${ctx.stack}/${ctx.path}`.replace(/[^A-Za-z0-9_\-/.#]/g, '-');
  return name.length <= 512
    ? name
    : `/${physicalName(ctx.stack, ctx.path, { max: 511, allowed: LOG_GROUP_CHARS })}`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** The stack's log groups, by name, with their tags: one paged tagging call. */
async function stackLogGroups(ctx: FindContext): Promise<Map<string, TagMap>> {
  const owned = new Map<string, TagMap>();
  for (const r of await stackResources(ctx, ['logs'])) {
    const name = r.arn.split(':log-group:')[1]?.replace(/:\*$/, '');
    if (name) owned.set(name, r.tags);
  }
  return owned;
}

async function describeAll(
  logs: CloudWatchLogs,
  filter: { logGroupIdentifiers?: string[]; logGroupNamePrefix?: string },
): Promise<AwsLogGroup[]> {
  return allPages(
    (nextToken) => logs.describeLogGroups({ ...filter, nextToken }),
    (p) => p.logGroups,
    (p) => p.nextToken,
  );
}

/** The group right after a write: CloudWatch Logs may list a new group a moment late. */
async function readOne(ctx: OpContext, logs: CloudWatchLogs, name: string): Promise<LogGroupFound> {
  const group = await ctx.wait({
    what: `log group "${ctx.path}" to be listed`,
    timeoutMs: 60_000,
    check: async () => {
      const g = (await describeAll(logs, { logGroupNamePrefix: name })).find((x) => x.logGroupName === name);
      return g ? { done: true, value: g } : { done: false, state: 'not listed yet' };
    },
  });
  const { tags: t } = await logs.listTagsForResource({ resourceArn: arnOf(group) });
  return read(group, t ?? {});
}

function arnOf(group: AwsLogGroup): string {
  return group.logGroupArn ?? group.arn!.replace(/:\*$/, '');
}

function read(group: AwsLogGroup, t: TagMap): LogGroupFound {
  const name = group.logGroupName!;
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      logGroupName: name,
      retentionDays: group.retentionInDays ?? null,
      kmsKeyId: group.kmsKeyId ?? null,
      tags: userTags(t),
    },
    outputs: { name, arn: arnOf(group) },
  };
}
