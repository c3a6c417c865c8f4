// Secrets Manager secret: a password or key that services read at start, generated once when not given.
import type {
  DescribeSecretResponse,
  SecretListEntry,
  SecretsManager,
} from '@aws-sdk/client-secrets-manager';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { STACK_TAG, type TagMap, tagDelta, tagList, tagMap, userTags } from '../tags.js';

/** Kept on the secret itself, so that a destroy that no longer sees the declaration still honours it. */
const WINDOW_TAG = 'touchdown:recovery-window-days';

const fields = {
  /** The secret's name, e.g. `xkcd/prod/db-password`. Changing it means a new secret. */
  name: field(
    z
      .string()
      .min(1)
      .max(512)
      .regex(/^[A-Za-z0-9/_+=.@-]+$/, 'may hold only letters, digits and / _ + = . @ -'),
    { replace: true },
  ),
  /** Shown in the console. @default none */
  description: field(z.string().max(2048).optional(), { normalize: (v) => v ?? '' }),
  /** KMS key (id, ARN or alias) the value is encrypted with. @default AWS's `aws/secretsmanager` key */
  kmsKeyId: field(input(z.string().min(1)).optional(), { normalize: kmsKeyForm }),
  /**
   * The value; never shown in plans. Left out, a random one is generated once, at creation, and
   * kept from then on (see `generate`).
   */
  value: field(input(z.string().min(1).max(65536)).optional(), { sensitive: true }),
  /**
   * How a value is generated when none is given. Used once, at creation.
   * @default { length: 32, excludePunctuation: false }
   */
  generate: field(
    z
      .strictObject({
        /** @default 32 */
        length: z.number().int().min(32).max(4096).default(32),
        /** Leave out punctuation, for consumers that choke on it (URLs, some database drivers). @default false */
        excludePunctuation: z.boolean().default(false),
      })
      .prefault({}),
    { writeOnly: true },
  ),
  /**
   * Days a deleted secret can still be restored (7 to 30), or 0 to delete it at once, for good.
   * @default 7
   */
  recoveryWindowDays: field(z.union([z.literal(0), z.number().int().min(7).max(30)]).default(7)),
  tags: field(tags()),
};

export interface SecretOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type SecretFound = Found<Args, SecretOutputs>;
type SecretMeta = SecretListEntry | DescribeSecretResponse;

export const Secret = defineResourceType({
  kind: 'secret',
  noun: 'secret',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'arn',
  identity: { by: 'name', name: (args) => args.name },

  async find(ctx, wanted) {
    const sm = await ctx.aws.secretsManager();
    const listed = await allPages(
      (NextToken) =>
        sm.listSecrets({
          // Both filters match by prefix and on any tag: the exact ownership check follows.
          Filters: [
            { Key: 'tag-key', Values: [STACK_TAG] },
            { Key: 'tag-value', Values: [ctx.stack] },
          ],
          MaxResults: 100,
          NextToken,
        }),
      (p) => p.SecretList,
    );
    const byName = new Map<string, SecretMeta>();
    for (const s of listed) if (owned(s, ctx.stack)) byName.set(s.Name!, s);
    // ListSecrets lags up to five minutes behind changes (AWS says so); declared ones are described afresh.
    const declared = new Map(wanted.filter((w) => w.key !== undefined).map((w) => [w.key!, w.args]));
    const limit = pLimit(5);
    await Promise.all(
      [...declared.keys()].map((name) =>
        limit(async () => {
          const s = await ignoreNotFound(sm.describeSecret({ SecretId: name }));
          if (s && owned(s, ctx.stack)) byName.set(name, s);
          else byName.delete(name);
        }),
      ),
    );
    const values = await readValues(
      sm,
      [...byName.values()].filter((s) => declared.get(s.Name!)?.value !== undefined).map((s) => s.ARN!),
    );
    return [...byName.values()].map((s) => toFound(s, values));
  },

  async create(ctx, args) {
    const sm = await ctx.aws.secretsManager();
    const wantTags = ctx.tags({ ...args.tags, [WINDOW_TAG]: String(args.recoveryWindowDays) });
    // AWS holds the name of a deleted secret until its recovery window ends: bring that one back.
    const deleted = await scheduledForDeletion(ctx, sm, args.name);
    if (deleted) {
      await restore(ctx, sm, deleted, args, wantTags);
    } else {
      await sm.createSecret({
        Name: args.name,
        Description: args.description,
        KmsKeyId: args.kmsKeyId,
        SecretString: args.value ?? (await generatedValue(sm, args.generate)),
        Tags: tagList(wantTags),
      });
    }
    return readOne(sm, args.name, args.value !== undefined);
  },

  async update(ctx, found, args, changed) {
    const sm = await ctx.aws.secretsManager();
    const id = found.outputs.arn;
    const put = {
      ...(changed.includes('description') ? { Description: args.description ?? '' } : {}),
      ...(changed.includes('kmsKeyId') ? { KmsKeyId: args.kmsKeyId } : {}),
      ...(changed.includes('value') ? { SecretString: args.value } : {}),
    };
    if (Object.keys(put).length > 0) await sm.updateSecret({ SecretId: id, ...put });
    if (changed.includes('tags') || changed.includes('recoveryWindowDays')) {
      const window = (a: Partial<Args>) => ({ ...a.tags, [WINDOW_TAG]: String(a.recoveryWindowDays ?? 7) });
      await setTags(sm, id, window(found.args), window(args));
    }
    return readOne(sm, args.name, args.value !== undefined);
  },

  async delete(ctx, found) {
    const sm = await ctx.aws.secretsManager();
    const id = found.outputs.arn;
    const days = found.args.recoveryWindowDays ?? 7;
    if (days > 0) {
      await ignoreNotFound(sm.deleteSecret({ SecretId: id, RecoveryWindowInDays: days }));
      return;
    }
    await ignoreNotFound(sm.deleteSecret({ SecretId: id, ForceDeleteWithoutRecovery: true }));
    // A forced delete finishes in the background; the name is free only once it is gone.
    await ctx.wait({
      what: `secret "${ctx.path}" to be gone`,
      timeoutMs: 5 * 60_000,
      check: async () => {
        const s = await ignoreNotFound(sm.describeSecret({ SecretId: id }));
        return s ? { done: false, state: 'deleting' } : { done: true, value: undefined };
      },
    });
  },
});

function owned(s: SecretMeta, stack: string): boolean {
  return tagMap(s.Tags)[STACK_TAG] === stack && !s.DeletedDate;
}

/** A key ARN, a key id and an alias compare by what follows `key/` or as `alias/...`. */
function kmsKeyForm(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = /^arn:[^:]+:kms:[^:]*:[^:]*:(key\/(.+)|alias\/.+)$/.exec(value);
  if (!m) return value;
  return m[2] ?? m[1];
}

async function generatedValue(sm: SecretsManager, how: Args['generate']): Promise<string> {
  const { RandomPassword } = await sm.getRandomPassword({
    PasswordLength: how.length,
    ExcludePunctuation: how.excludePunctuation,
    RequireEachIncludedType: true,
  });
  return RandomPassword!;
}

/** The secret of that name waiting out its recovery window, when this stack owned it. */
async function scheduledForDeletion(
  ctx: OpContext,
  sm: SecretsManager,
  name: string,
): Promise<DescribeSecretResponse | undefined> {
  const s = await ignoreNotFound(sm.describeSecret({ SecretId: name }));
  if (!s?.DeletedDate) return undefined;
  if (tagMap(s.Tags)[STACK_TAG] === ctx.stack) return s;
  throw new Error(
    'the name is held by a deleted secret this stack does not own, until its recovery window ends; ' +
      'restore that one (aws secretsmanager restore-secret) or pick another name',
  );
}

/** Brings back a secret this stack deleted earlier, then makes it match the declaration. */
async function restore(
  ctx: OpContext,
  sm: SecretsManager,
  old: DescribeSecretResponse,
  args: Args,
  wantTags: TagMap,
) {
  ctx.progress('restoring the secret of that name deleted earlier');
  await sm.restoreSecret({ SecretId: old.ARN });
  // Its stored value is kept unless one is declared: a generated value is never replaced.
  const put = {
    ...(args.description !== undefined ? { Description: args.description } : {}),
    ...(args.kmsKeyId !== undefined ? { KmsKeyId: args.kmsKeyId } : {}),
    ...(args.value !== undefined ? { SecretString: args.value } : {}),
  };
  if (Object.keys(put).length > 0) await sm.updateSecret({ SecretId: old.ARN, ...put });
  await setTags(sm, old.ARN!, tagMap(old.Tags), wantTags);
}

async function setTags(sm: SecretsManager, id: string, current: TagMap, desired: TagMap) {
  const { set, remove } = tagDelta(current, desired);
  if (Object.keys(set).length > 0) await sm.tagResource({ SecretId: id, Tags: tagList(set) });
  if (remove.length > 0) await sm.untagResource({ SecretId: id, TagKeys: remove });
}

/** Current values by ARN, twenty secrets a call (BatchGetSecretValue's limit). */
async function readValues(sm: SecretsManager, arns: string[]): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  const batches: string[][] = [];
  for (let i = 0; i < arns.length; i += 20) batches.push(arns.slice(i, i + 20));
  const answers = await Promise.all(batches.map((SecretIdList) => sm.batchGetSecretValue({ SecretIdList })));
  for (const a of answers) {
    const failed = (a.Errors ?? []).find((e) => !/NotFound/.test(e.ErrorCode ?? ''));
    // The message names the secret and the reason, never a value.
    if (failed)
      throw Object.assign(new Error(failed.Message ?? failed.ErrorCode), { name: failed.ErrorCode });
    for (const v of a.SecretValues ?? []) out.set(v.ARN!, v.SecretString);
  }
  return out;
}

/** The secret as it is now, right after a write. */
async function readOne(sm: SecretsManager, name: string, withValue: boolean): Promise<SecretFound> {
  const s = await sm.describeSecret({ SecretId: name });
  const values = new Map<string, string | undefined>();
  if (withValue) {
    const v = await sm.getSecretValue({ SecretId: s.ARN });
    values.set(s.ARN!, v.SecretString);
  }
  return toFound(s, values);
}

function toFound(s: SecretMeta, values: Map<string, string | undefined>): SecretFound {
  const name = s.Name!;
  const t = tagMap(s.Tags);
  const args: Partial<Args> = {
    name,
    description: s.Description,
    kmsKeyId: s.KmsKeyId,
    recoveryWindowDays: Number(t[WINDOW_TAG] ?? 7),
    tags: userTags(t),
  };
  if (values.has(s.ARN!)) args.value = values.get(s.ARN!);
  return { key: name, id: name, args, outputs: { name, arn: s.ARN! } };
}
