// KMS key: the key that encrypts a bucket, a database or a secret.
// A key is a data store in spirit: what it encrypted is unreadable once it is gone, so deleting
// one only schedules its deletion; CancelKeyDeletion brings it back within the window.
import type { KeyMetadata, KMS } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { type ArgsOf, field, normalizePolicy, policyDocument, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { stackResources } from '../tagging.js';
import { kmsTagList, RESOURCE_TAG, type TagMap, tagDelta, userTags } from '../tags.js';

/** Where the deletion window travels with the key, so that a delete (which sees only the key) knows it. */
const WINDOW_TAG = 'touchdown:deletion-window-days';

const KEY_SPECS = [
  'SYMMETRIC_DEFAULT',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
  'HMAC_224',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
] as const;
const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'] as const;

const fields = {
  /** The key's name in this stack (its address); give it an alias with KmsAlias to name it in AWS. */
  name: field(z.string().min(1).max(200)),
  /** @default 'Managed by Touchdown': shown in the KMS console. */
  description: field(z.string().max(8192).default('Managed by Touchdown')),
  /** @default 'SYMMETRIC_DEFAULT': the key material; `RSA_2048`, `HMAC_256`… Changing it means a new key. */
  keySpec: field(z.enum(KEY_SPECS).default('SYMMETRIC_DEFAULT'), { replace: true }),
  /** @default 'ENCRYPT_DECRYPT': what the key is for. Changing it means a new key. */
  keyUsage: field(z.enum(KEY_USAGES).default('ENCRYPT_DECRYPT'), { replace: true }),
  /** @default true: KMS rotates the key material yearly (symmetric encryption keys only). */
  enableKeyRotation: field(z.boolean().default(true)),
  /** The key policy; when not given the key keeps KMS's default (the account may use it through IAM). */
  policy: field(policyDocument().optional(), { normalize: normalizePolicy }),
  /** @default 30: days between a delete and the key's end (7 to 30); the deletion can be cancelled meanwhile. */
  deletionWindowDays: field(z.number().int().min(7).max(30).default(30)),
  tags: field(tags()),
};

export interface KmsKeyOutputs {
  /** The key id, a UUID. */
  id: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;

export const KmsKey = defineResourceType({
  kind: 'kms-key',
  noun: 'KMS key',
  listedAs: 'kms',
  fields,
  outputs: ['id', 'arn'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    const spec = args.keySpec ?? 'SYMMETRIC_DEFAULT';
    const usage = args.keyUsage ?? 'ENCRYPT_DECRYPT';
    const allowed = usagesFor(spec);
    if (!allowed.includes(usage)) {
      problems.push(`keyUsage: a ${spec} key is for ${allowed.join(' or ')}, not ${usage}`);
    }
    if (args.enableKeyRotation !== false && spec !== 'SYMMETRIC_DEFAULT') {
      problems.push(
        `enableKeyRotation: KMS rotates only SYMMETRIC_DEFAULT keys; set enableKeyRotation: false for a ${spec} key`,
      );
    }
    return problems;
  },

  async find(ctx, wanted) {
    const [kms, mapped] = await Promise.all([ctx.aws.kms(), stackResources(ctx, ['kms:key'])]);
    // The key policy is read only where one is declared: otherwise it is not compared.
    const withPolicy = new Set(wanted.filter((w) => w.args.policy !== undefined).map((w) => w.address));
    const found = await Promise.all(
      mapped.map(({ arn, tags }) => read(kms, arn, tags, withPolicy.has(tags[RESOURCE_TAG] ?? ''))),
    );
    return found.filter((f) => f !== undefined);
  },

  async create(ctx, args) {
    const kms = await ctx.aws.kms();
    const { KeyMetadata: created } = await kms.createKey({
      Description: args.description,
      KeySpec: args.keySpec,
      KeyUsage: args.keyUsage,
      Policy: args.policy && JSON.stringify(args.policy),
      Tags: kmsTagList(ctx.tags({ ...args.tags, [WINDOW_TAG]: String(args.deletionWindowDays) })),
    });
    const id = created!.KeyId!;
    await ctx.wait({
      what: `KMS key "${ctx.path}" to be enabled`,
      timeoutMs: 5 * 60_000,
      check: async () => {
        const state = (await kms.describeKey({ KeyId: id })).KeyMetadata?.KeyState;
        return state === 'Enabled'
          ? { done: true, value: undefined }
          : { done: false, state: state ?? 'Creating' };
      },
    });
    if (args.enableKeyRotation) await kms.enableKeyRotation({ KeyId: id });
    return readAfterWrite(ctx, kms, id, args);
  },

  async update(ctx, found, args, changed) {
    const kms = await ctx.aws.kms();
    const KeyId = found.id;
    if (changed.includes('description')) {
      await kms.updateKeyDescription({ KeyId, Description: args.description });
    }
    if (changed.includes('enableKeyRotation')) {
      await (args.enableKeyRotation ? kms.enableKeyRotation({ KeyId }) : kms.disableKeyRotation({ KeyId }));
    }
    if (changed.includes('policy') && args.policy) {
      await kms.putKeyPolicy({ KeyId, PolicyName: 'default', Policy: JSON.stringify(args.policy) });
    }
    const { set, remove } = changed.includes('tags')
      ? tagDelta(found.args.tags ?? {}, args.tags)
      : { set: {} as TagMap, remove: [] as string[] };
    if (changed.includes('deletionWindowDays')) set[WINDOW_TAG] = String(args.deletionWindowDays);
    if (Object.keys(set).length > 0) await kms.tagResource({ KeyId, Tags: kmsTagList(set) });
    if (remove.length > 0) await kms.untagResource({ KeyId, TagKeys: remove });
    return readAfterWrite(ctx, kms, KeyId, args);
  },

  async delete(ctx, found) {
    const kms = await ctx.aws.kms();
    const key = await ignoreNotFound(kms.describeKey({ KeyId: found.id }));
    const state = key?.KeyMetadata?.KeyState;
    if (state === undefined || state === 'PendingDeletion') return;
    ctx.progress(`scheduling deletion in ${found.args.deletionWindowDays ?? 30} days`);
    await kms.scheduleKeyDeletion({
      KeyId: found.id,
      PendingWindowInDays: found.args.deletionWindowDays ?? 30,
    });
  },
});

/** The window a key was given, or KMS's default when its tag is missing or was edited into nonsense. */
function windowDays(tag: string | undefined): number {
  const days = Number(tag);
  return Number.isInteger(days) && days >= 7 && days <= 30 ? days : 30;
}

function usagesFor(spec: (typeof KEY_SPECS)[number]): readonly (typeof KEY_USAGES)[number][] {
  if (spec === 'SYMMETRIC_DEFAULT') return ['ENCRYPT_DECRYPT'];
  if (spec.startsWith('HMAC_')) return ['GENERATE_VERIFY_MAC'];
  if (spec.startsWith('RSA_')) return ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'];
  if (spec === 'ECC_SECG_P256K1') return ['SIGN_VERIFY'];
  return ['SIGN_VERIFY', 'KEY_AGREEMENT'];
}

async function readAfterWrite(ctx: OpContext, kms: KMS, KeyId: string, args: Args) {
  const { Tags } = await kms.listResourceTags({ KeyId });
  const tags: TagMap = {};
  for (const t of Tags ?? []) if (t.TagKey !== undefined) tags[t.TagKey] = t.TagValue ?? '';
  const found = await read(kms, KeyId, tags, args.policy !== undefined);
  if (!found) throw new Error(`KMS key ${KeyId} disappeared while ${ctx.path} was being written`);
  return found;
}

/** One key as found, or undefined when it is gone or scheduled for deletion (gone for our purposes). */
async function read(
  kms: KMS,
  KeyId: string,
  tags: TagMap,
  withPolicy: boolean,
): Promise<Found<Args, KmsKeyOutputs> | undefined> {
  const described = await ignoreNotFound(kms.describeKey({ KeyId }));
  const key: KeyMetadata | undefined = described?.KeyMetadata;
  if (!key || key.KeyState === 'PendingDeletion' || key.KeyState === 'PendingReplicaDeletion')
    return undefined;
  const id = key.KeyId!;
  const symmetric = key.KeySpec === 'SYMMETRIC_DEFAULT';
  // Only symmetric encryption keys rotate; KMS refuses to answer for the others.
  const [rotation, policy] = await Promise.all([
    symmetric ? kms.getKeyRotationStatus({ KeyId: id }) : undefined,
    withPolicy ? kms.getKeyPolicy({ KeyId: id, PolicyName: 'default' }) : undefined,
  ]);
  const args: Partial<Args> = {
    description: key.Description ?? '',
    keySpec: key.KeySpec as Args['keySpec'],
    keyUsage: key.KeyUsage as Args['keyUsage'],
    enableKeyRotation: rotation?.KeyRotationEnabled ?? false,
    deletionWindowDays: windowDays(tags[WINDOW_TAG]),
    tags: userTags(tags),
  };
  if (policy?.Policy) args.policy = JSON.parse(policy.Policy);
  return { key: tags[RESOURCE_TAG] ?? id, id, args, outputs: { id, arn: key.Arn! } };
}
