// SQS queue: Celery's broker on AWS, one queue per Celery queue; a dead-letter queue is just another Queue.
// A data store: messages waiting in it are tasks not yet run, so destroy and replace ask for --force.
import type { QueueAttributeName, SQS } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { errorCode, isNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { stackResources } from '../tagging.js';
import { RESOURCE_TAG, type TagMap, tagDelta, userTags } from '../tags.js';

const deadLetter = z.strictObject({
  /** The dead-letter queue's ARN (another Queue's `arn`); a FIFO queue needs a FIFO dead-letter queue. */
  targetArn: input(z.string().startsWith('arn:')),
  /** Receives after which a message moves to the dead-letter queue, 1 to 1000. */
  maxReceiveCount: z.number().int().min(1).max(1000),
});

const fields = {
  /** Its name in AWS is derived from the path, as `<stack>-<path>` (with `.fifo` for FIFO queues). */
  name: field(z.string().min(1).max(200)),
  /** First in, first out, each message delivered once. @default false. Changing it means a new queue. */
  fifo: field(z.boolean().default(false), { replace: true }),
  /**
   * Seconds a received message stays hidden from other consumers, 0 to 43200. A Celery task that runs
   * longer than this is handed to a second worker and runs twice: set it above your longest task (and
   * Celery's `broker_transport_options = {'visibility_timeout': ...}` to the same value). @default 30
   */
  visibilityTimeoutSeconds: field(z.number().int().min(0).max(43200).default(30)),
  /** Seconds a message is kept when nobody deletes it, 60 to 1209600 (14 days). @default 345600 (4 days) */
  messageRetentionSeconds: field(z.number().int().min(60).max(1_209_600).default(345_600)),
  /** Long polling: seconds a receive waits for a message, 0 to 20; fewer empty (billed) receives. @default 20 */
  receiveWaitTimeSeconds: field(z.number().int().min(0).max(20).default(20)),
  /** Where messages go after failing maxReceiveCount times (the RedrivePolicy). @default null: they stay */
  deadLetter: field(deadLetter.nullable().default(null)),
  /** A KMS key (id, ARN or alias) to encrypt messages with; then set sqsManagedSse: false. @default null */
  kmsMasterKeyId: field(input(z.string().min(1)).nullable().default(null)),
  /** Encrypts messages with keys SQS owns, at no cost. @default true */
  sqsManagedSse: field(z.boolean().default(true)),
  tags: field(tags()),
};

export interface QueueOutputs {
  /** The queue's name in AWS. */
  name: string;
  /** What Celery's broker_url (`sqs://`) and boto3 address it by. */
  url: string;
  /** What IAM policies and other queues' deadLetter.targetArn take. */
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type QueueFound = Found<Args, QueueOutputs>;

const NOT_FOUND = /QueueDoesNotExist|NonExistentQueue/;

export const Queue = defineResourceType({
  kind: 'queue',
  noun: 'SQS queue',
  listedAs: 'sqs',
  fields,
  outputs: ['name', 'url', 'arn'],
  defaultOutput: 'url',
  identity: { by: 'address' },

  check(args) {
    if (args.kmsMasterKeyId != null && args.sqsManagedSse !== false) {
      return [
        'sqsManagedSse: a queue is encrypted by SQS or by a KMS key, not both; with kmsMasterKeyId set sqsManagedSse: false',
      ];
    }
    return [];
  },

  async find(ctx) {
    // ListQueues cannot filter by tag: the tagging API names the stack's queues, ListQueues their URLs.
    const owned = await stackQueues(ctx);
    if (owned.size === 0) return [];
    const sqs = await ctx.aws.sqs();
    const urls = await queueUrls(sqs, `${ctx.stack}-`);
    const found = await Promise.all(
      [...owned].map(async ([name, t]) => {
        const url = urls.get(name) ?? (await queueUrl(sqs, name));
        return url === undefined ? undefined : read(sqs, url, t);
      }),
    );
    return found.filter((f): f is QueueFound => f !== undefined);
  },

  async create(ctx, args) {
    const sqs = await ctx.aws.sqs();
    const QueueName = queueName(ctx, args.fifo);
    const request = {
      QueueName,
      // Empty values only mean "remove" in later updates; a new queue simply goes without.
      Attributes: Object.fromEntries(
        Object.entries({ ...attributes(args), ...(args.fifo ? { FifoQueue: 'true' } : {}) }).filter(
          ([, v]) => v !== '',
        ),
      ),
      tags: ctx.tags(args.tags),
    };
    const url = await ctx.wait({
      what: `SQS to accept the name "${QueueName}" again`,
      timeoutMs: 2 * 60_000,
      hint: 'SQS refuses a queue name for 60 seconds after a queue of that name was deleted; run the same command again',
      check: async () => {
        try {
          return { done: true, value: (await sqs.createQueue(request)).QueueUrl! };
        } catch (err) {
          if (/QueueDeletedRecently/.test(errorCode(err))) return { done: false, state: 'deleted recently' };
          throw err;
        }
      },
    });
    return readOne(sqs, url);
  },

  async update(ctx, found, args, changed) {
    const sqs = await ctx.aws.sqs();
    const QueueUrl = found.outputs.url;
    const all = attributes(args);
    const changes: Partial<Record<QueueAttributeName, string>> = {};
    const names: Partial<Record<keyof Args, QueueAttributeName[]>> = {
      visibilityTimeoutSeconds: ['VisibilityTimeout'],
      messageRetentionSeconds: ['MessageRetentionPeriod'],
      receiveWaitTimeSeconds: ['ReceiveMessageWaitTimeSeconds'],
      deadLetter: ['RedrivePolicy'],
      kmsMasterKeyId: ['KmsMasterKeyId', 'SqsManagedSseEnabled'],
      sqsManagedSse: ['KmsMasterKeyId', 'SqsManagedSseEnabled'],
    };
    for (const c of changed) for (const n of names[c] ?? []) changes[n] = all[n];
    if (Object.keys(changes).length > 0) await sqs.setQueueAttributes({ QueueUrl, Attributes: changes });
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0) await sqs.tagQueue({ QueueUrl, Tags: set });
      if (remove.length > 0) await sqs.untagQueue({ QueueUrl, TagKeys: remove });
    }
    return readOne(sqs, QueueUrl);
  },

  async delete(ctx, found) {
    const sqs = await ctx.aws.sqs();
    try {
      await sqs.deleteQueue({ QueueUrl: found.outputs.url });
    } catch (err) {
      if (!gone(err)) throw err;
    }
  },

  async holdsData(ctx, found) {
    const sqs = await ctx.aws.sqs();
    const a = await ignoreGone(
      sqs.getQueueAttributes({
        QueueUrl: found.outputs.url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const counts = a?.Attributes ?? {};
    const waiting = Number(counts.ApproximateNumberOfMessages ?? 0);
    const busy = Number(counts.ApproximateNumberOfMessagesNotVisible ?? 0);
    const delayed = Number(counts.ApproximateNumberOfMessagesDelayed ?? 0);
    const total = waiting + busy + delayed;
    if (total === 0) return undefined;
    return `about ${total} message${total === 1 ? '' : 's'} (${waiting} waiting, ${busy} being processed, ${delayed} delayed)`;
  },
});

/** `<stack>-<path>`, up to 80 letters, digits, hyphens and underscores; FIFO queues end in `.fifo`. */
function queueName(ctx: OpContext, fifo: boolean): string {
  const base = physicalName(ctx.stack, ctx.path, { max: fifo ? 75 : 80, allowed: /[A-Za-z0-9_-]/ });
  return fifo ? `${base}.fifo` : base;
}

/** Every attribute the arguments set, as SQS spells them (strings). */
function attributes(args: Args): Record<QueueAttributeName, string> {
  return {
    VisibilityTimeout: String(args.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(args.messageRetentionSeconds),
    ReceiveMessageWaitTimeSeconds: String(args.receiveWaitTimeSeconds),
    // An empty policy removes the dead-letter queue.
    RedrivePolicy: args.deadLetter
      ? JSON.stringify({
          deadLetterTargetArn: args.deadLetter.targetArn,
          maxReceiveCount: args.deadLetter.maxReceiveCount,
        })
      : '',
    // An empty key id turns KMS encryption off.
    KmsMasterKeyId: args.kmsMasterKeyId ?? '',
    SqsManagedSseEnabled: String(args.sqsManagedSse),
  } as Record<QueueAttributeName, string>;
}

const gone = (err: unknown) => isNotFound(err) || NOT_FOUND.test(errorCode(err));

async function ignoreGone<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (gone(err)) return undefined;
    throw err;
  }
}

/** The stack's queues, by name, with their tags: one paged tagging call. */
async function stackQueues(ctx: FindContext): Promise<Map<string, TagMap>> {
  const owned = new Map<string, TagMap>();
  for (const r of await stackResources(ctx, ['sqs'])) {
    const name = r.arn.split(':').at(-1);
    if (name) owned.set(name, r.tags);
  }
  return owned;
}

/** URLs of the queues whose names start with the stack's prefix, by name: one call per 1000 queues. */
async function queueUrls(sqs: SQS, prefix: string): Promise<Map<string, string>> {
  const urls = await allPages(
    (NextToken) => sqs.listQueues({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken }),
    (p) => p.QueueUrls,
  );
  return new Map(urls.map((url) => [url.split('/').at(-1)!, url]));
}

/** ListQueues lags behind a new queue by up to a minute: ask for one URL directly. */
async function queueUrl(sqs: SQS, QueueName: string): Promise<string | undefined> {
  return (await ignoreGone(sqs.getQueueUrl({ QueueName })))?.QueueUrl;
}

async function readOne(sqs: SQS, url: string): Promise<QueueFound> {
  const { Tags } = await sqs.listQueueTags({ QueueUrl: url });
  const found = await read(sqs, url, Tags ?? {});
  if (!found) throw new Error(`the queue at ${url} disappeared while being configured`);
  return found;
}

async function read(sqs: SQS, url: string, t: TagMap): Promise<QueueFound | undefined> {
  const answer = await ignoreGone(sqs.getQueueAttributes({ QueueUrl: url, AttributeNames: ['All'] }));
  if (!answer) return undefined;
  const a = answer.Attributes ?? {};
  const arn = a.QueueArn!;
  const name = arn.split(':').at(-1)!;
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      fifo: a.FifoQueue === 'true',
      visibilityTimeoutSeconds: Number(a.VisibilityTimeout),
      messageRetentionSeconds: Number(a.MessageRetentionPeriod),
      receiveWaitTimeSeconds: Number(a.ReceiveMessageWaitTimeSeconds),
      deadLetter: redrive(a.RedrivePolicy),
      kmsMasterKeyId: a.KmsMasterKeyId || null,
      sqsManagedSse: a.SqsManagedSseEnabled === 'true',
      tags: userTags(t),
    },
    outputs: { name, url, arn },
  };
}

function redrive(policy: string | undefined): Args['deadLetter'] {
  if (!policy) return null;
  const p = JSON.parse(policy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
  if (!p.deadLetterTargetArn) return null;
  return { targetArn: p.deadLetterTargetArn, maxReceiveCount: Number(p.maxReceiveCount) };
}
