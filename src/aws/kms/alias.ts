// KMS alias: a stable name (`alias/radpress-media`) for a key, which can be pointed at another key.
import type { AliasListEntry, KMS } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { type ArgsOf, field, input } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { stackResources } from '../tagging.js';

const fields = {
  /** The alias, `alias/` then letters, digits and `/_-`, e.g. `alias/radpress-media`. Changing it means a new alias. */
  name: field(
    z
      .string()
      .max(256)
      .regex(/^alias\/[\w/-]+$/, 'write an alias like alias/radpress-media (letters, digits, /, _ and -)')
      .refine((n) => !n.startsWith('alias/aws/'), { message: 'alias/aws/ is reserved for AWS managed keys' }),
    { replace: true },
  ),
  /** The key the alias points to: its id or ARN (pass the key itself). Changed in place. */
  targetKeyId: field(input(z.string().min(1)), { normalize: keyIdOf }),
};

export interface KmsAliasOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;

export const KmsAlias = defineResourceType({
  kind: 'kms-alias',
  noun: 'KMS alias',
  listedAs: 'kms',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  // Aliases cannot be tagged: they are known by name, and as ours when they point at one of our keys.
  identity: { by: 'name', name: (args) => args.name },

  async find(ctx, wanted) {
    const kms = await ctx.aws.kms();
    const [aliases, keys] = await Promise.all([listAliases(kms), stackResources(ctx, ['kms:key'])]);
    const names = new Set(wanted.map((w) => w.key));
    const ourKeys = new Set(keys.map((k) => keyIdOf(k.arn)));
    return aliases
      .filter((a) => names.has(a.AliasName) || (a.TargetKeyId && ourKeys.has(a.TargetKeyId)))
      .map(toFound);
  },

  async create(ctx, args) {
    const kms = await ctx.aws.kms();
    await kms.createAlias({ AliasName: args.name, TargetKeyId: args.targetKeyId });
    return readAfterWrite(ctx, kms, args);
  },

  async update(ctx, found, args) {
    const kms = await ctx.aws.kms();
    await kms.updateAlias({ AliasName: found.id, TargetKeyId: args.targetKeyId });
    return readAfterWrite(ctx, kms, args);
  },

  async delete(ctx, found) {
    const kms = await ctx.aws.kms();
    await ignoreNotFound(kms.deleteAlias({ AliasName: found.id }));
  },
});

/** A key's id from its id or ARN, so that both spellings compare equal. */
function keyIdOf(value: unknown): unknown {
  return typeof value === 'string' ? value.replace(/^arn:[^:]+:kms:[^:]*:[^:]*:key\//, '') : value;
}

async function listAliases(kms: KMS, KeyId?: string): Promise<AliasListEntry[]> {
  return allPages(
    (Marker) => kms.listAliases({ KeyId, Marker, Limit: 100 }),
    (p) => p.Aliases,
    (p) => (p.Truncated ? p.NextMarker : undefined),
  );
}

/** The alias as its key lists it (the key's aliases only), once KMS shows the write. */
async function readAfterWrite(ctx: OpContext, kms: KMS, args: Args): Promise<Found<Args, KmsAliasOutputs>> {
  return ctx.wait({
    what: `KMS alias "${args.name}" to point at its key`,
    timeoutMs: 2 * 60_000,
    check: async () => {
      const alias = (await listAliases(kms, args.targetKeyId)).find((a) => a.AliasName === args.name);
      return alias ? { done: true, value: toFound(alias) } : { done: false, state: 'not visible yet' };
    },
  });
}

function toFound(a: AliasListEntry): Found<Args, KmsAliasOutputs> {
  const name = a.AliasName!;
  return {
    key: name,
    id: name,
    args: { name, targetKeyId: a.TargetKeyId },
    outputs: { name, arn: a.AliasArn! },
  };
}
