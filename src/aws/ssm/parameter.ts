// SSM parameter: one named setting (DATABASE_HOST) or secret (SECRET_KEY) that tasks read at start.
import { randomBytes } from 'node:crypto';
import type { ParameterMetadata, PutParameterCommandInput, SSM } from '@aws-sdk/client-ssm';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { createOnce, ownedHere } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { STACK_TAG, type TagMap, tagDelta, tagList, tagMap, userTags } from '../tags.js';

const fields = {
  /** The parameter's name, e.g. `/xkcd/prod/DATABASE_HOST`. Changing it means a new parameter. */
  name: field(parameterName(), { replace: true }),
  /** @default 'String'. A SecureString is encrypted with KMS. Changing it means a new parameter. */
  type: field(z.enum(['String', 'SecureString']).default('String'), { replace: true }),
  /**
   * The value; never shown in plans. Required for a String. Left out for a SecureString, a strong
   * random value is generated once, at creation, and kept from then on.
   */
  value: field(input(z.string().min(1)).optional(), { sensitive: true }),
  /** KMS key (id, ARN or alias) a SecureString is encrypted with. @default AWS's `alias/aws/ssm` */
  keyId: field(input(z.string().min(1)).optional(), { normalize: kmsKeyForm }),
  /** Shown in the console. @default none */
  description: field(z.string().max(1024).optional(), { normalize: (v) => v ?? '' }),
  /** @default 'Standard' (values up to 4 KB, free); 'Advanced' holds up to 8 KB. */
  tier: field(z.enum(['Standard', 'Advanced']).default('Standard')),
  tags: field(tags()),
};

export interface SsmParameterOutputs {
  name: string;
  arn: string;
  /** Goes up by one each time the value or settings are written. */
  version: number;
}

type Args = ArgsOf<typeof fields>;
type SsmFound = Found<Args, SsmParameterOutputs>;

export const MAX_BYTES = { Standard: 4096, Advanced: 8192 } as const;

export const SsmParameter = defineResourceType({
  kind: 'ssm-parameter',
  noun: 'SSM parameter',
  listedAs: 'ssm',
  fields,
  outputs: ['name', 'arn', 'version'],
  defaultOutput: 'arn',
  identity: { by: 'name', name: (args) => args.name },

  check(args) {
    const problems: string[] = [];
    if (args.type === 'String' && args.value === undefined) {
      problems.push('value: a String parameter needs a value; only a SecureString can have one generated');
    }
    if (args.type === 'String' && args.keyId !== undefined) {
      problems.push('keyId: only a SecureString is encrypted with a KMS key; set type: "SecureString"');
    }
    const value = args.value as unknown;
    const tier = args.tier ?? 'Standard';
    if (typeof value === 'string' && Buffer.byteLength(value) > MAX_BYTES[tier]) {
      problems.push(
        tier === 'Standard'
          ? 'value: longer than the 4 KB a Standard parameter holds; set tier: "Advanced" (8 KB)'
          : 'value: longer than the 8 KB an Advanced parameter holds; store it in S3 instead',
      );
    }
    return problems;
  },

  async find(ctx, wanted) {
    const ssm = await ctx.aws.ssm();
    const params = await allPages(
      (NextToken) =>
        ssm.describeParameters({
          ParameterFilters: [{ Key: `tag:${STACK_TAG}`, Values: [ctx.stack] }],
          MaxResults: 50,
          NextToken,
        }),
      (p) => p.Parameters,
    );
    const declared = new Map(wanted.filter((w) => w.key !== undefined).map((w) => [w.key!, w.args]));
    // Values only where one is declared to compare with; tags only where declared (DescribeParameters has none).
    const values = await readValues(
      ssm,
      params.map((p) => p.Name!).filter((n) => declared.get(n)?.value !== undefined),
    );
    // The account is needed only to spell an ARN AWS left out.
    const account = params.every((p) => p.ARN) ? '' : await ctx.account();
    const limit = pLimit(5);
    return Promise.all(
      params.map((p) =>
        limit(async () => {
          const t = declared.has(p.Name!) ? await readTags(ssm, p.Name!) : undefined;
          return toFound(p, t, values.get(p.Name!), ctx.region, account);
        }),
      ),
    );
  },

  async create(ctx, args) {
    const ssm = await ctx.aws.ssm();
    const request = {
      ...writeRequest(args, args.value ?? generatedValue()),
      Tags: tagList(ctx.tags(args.tags)),
    };
    // A retry after a lost answer meets ParameterAlreadyExists: the parameter is ours when its tags say so.
    await createOnce(
      () => ssm.putParameter(request),
      async () => {
        // Tags of a parameter that does not exist: InvalidResourceId.
        const t = await ignoreNotFound(readTags(ssm, args.name), 'ParameterNotFound', 'InvalidResourceId');
        return t && { value: {}, ours: ownedHere(ctx, t) };
      },
    );
    return readOne(ctx, ssm, args.name, args.value !== undefined);
  },

  async update(ctx, found, args, changed) {
    const ssm = await ctx.aws.ssm();
    const name = found.id;
    let tagsWritten = false;
    if (changed.some((c) => c !== 'tags')) {
      // PutParameter always takes the value: keep the stored one when none is declared.
      const value = args.value ?? (await currentValue(ssm, name));
      const keep = { description: found.args.description, keyId: found.args.keyId };
      const request = writeRequest({ ...args, ...definedOnly(keep, args) }, value);
      if (found.args.tier === 'Advanced' && args.tier === 'Standard') {
        // AWS never moves a parameter back to Standard: delete and write it again, value and tags kept.
        ctx.progress('recreating the parameter in the Standard tier');
        await ssm.deleteParameter({ Name: name });
        await ssm.putParameter({ ...request, Tags: tagList(ctx.tags(args.tags)) });
        tagsWritten = true;
      } else {
        await ssm.putParameter({ ...request, Overwrite: true });
      }
    }
    if (changed.includes('tags') && !tagsWritten) {
      // An overwrite cannot carry tags: they have their own calls.
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0) {
        await ssm.addTagsToResource({ ResourceType: 'Parameter', ResourceId: name, Tags: tagList(set) });
      }
      if (remove.length > 0) {
        await ssm.removeTagsFromResource({ ResourceType: 'Parameter', ResourceId: name, TagKeys: remove });
      }
    }
    return readOne(ctx, ssm, name, args.value !== undefined);
  },

  async delete(ctx, found) {
    const ssm = await ctx.aws.ssm();
    await ignoreNotFound(ssm.deleteParameter({ Name: found.id }), 'ParameterNotFound');
  },
});

/** AWS's naming rules, checked before anything is sent. */
function parameterName() {
  return (
    z
      .string()
      .min(1)
      // 1011 characters including the ARN before the name; this leaves room for any region's.
      .max(950)
      .superRefine((name, ctx) => {
        const problem = nameProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', message: `"${name}" ${problem}` });
      })
  );
}

function nameProblem(name: string): string | undefined {
  if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) {
    return 'may hold only letters, digits, ".", "-", "_" and "/" between levels';
  }
  if (name.includes('/')) {
    if (!name.startsWith('/')) return 'has levels, so it must start with "/": write it like /app/prod/NAME';
    if (name.endsWith('/') || name.includes('//')) return 'has an empty level; remove the extra "/"';
    if (name.split('/').length - 1 > 15) return 'has more than the 15 levels AWS allows';
  }
  const first = name.replace(/^\//, '').toLowerCase();
  if (first.startsWith('aws') || first.startsWith('ssm')) {
    return 'starts with "aws" or "ssm", which AWS reserves; pick another first level';
  }
  return undefined;
}

/** A key ARN, a key id and an alias compare by what follows `key/` or as `alias/...`. */
function kmsKeyForm(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = /^arn:[^:]+:kms:[^:]*:[^:]*:(key\/(.+)|alias\/.+)$/.exec(value);
  if (!m) return value;
  return m[2] ?? m[1];
}

/** 32 random bytes, URL-safe: strong enough for any key or password, and safe in any config format. */
function generatedValue(): string {
  return randomBytes(32).toString('base64url');
}

/** Declared settings win; AWS's current ones are kept where none is declared. */
function definedOnly(keep: Partial<Args>, args: Args): Partial<Args> {
  return Object.fromEntries(
    Object.entries(keep).filter(([k, v]) => v !== undefined && args[k as keyof Args] === undefined),
  );
}

function writeRequest(args: Args, value: string): PutParameterCommandInput {
  return {
    Name: args.name,
    Type: args.type,
    Value: value,
    KeyId: args.type === 'SecureString' ? args.keyId : undefined,
    Description: args.description,
    Tier: args.tier,
    DataType: 'text',
  };
}

async function currentValue(ssm: SSM, name: string): Promise<string> {
  const { Parameter } = await ssm.getParameter({ Name: name, WithDecryption: true });
  return Parameter!.Value!;
}

/** Decrypted values by name, ten names a call (GetParameters' limit). */
async function readValues(ssm: SSM, names: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const batches: string[][] = [];
  for (let i = 0; i < names.length; i += 10) batches.push(names.slice(i, i + 10));
  const answers = await Promise.all(
    batches.map((Names) => ssm.getParameters({ Names, WithDecryption: true })),
  );
  for (const a of answers) for (const p of a.Parameters ?? []) out.set(p.Name!, p.Value ?? '');
  return out;
}

async function readTags(ssm: SSM, name: string): Promise<TagMap> {
  const r = await ssm.listTagsForResource({ ResourceType: 'Parameter', ResourceId: name });
  return tagMap(r.TagList);
}

/** The parameter as it is now, right after a write. */
async function readOne(ctx: OpContext, ssm: SSM, name: string, withValue: boolean): Promise<SsmFound> {
  const meta = await ctx.wait({
    what: `SSM parameter "${ctx.path}" to be readable`,
    timeoutMs: 60_000,
    check: async () => {
      const { Parameters } = await ssm.describeParameters({
        ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [name] }],
      });
      const p = Parameters?.find((x) => x.Name === name);
      return p ? { done: true, value: p } : { done: false, state: 'not yet listed' };
    },
  });
  const [values, t] = await Promise.all([
    withValue ? readValues(ssm, [name]) : new Map<string, string>(),
    readTags(ssm, name),
  ]);
  const account = meta.ARN ? '' : await ctx.account();
  return toFound(meta, t, values.get(name), ctx.region, account);
}

function toFound(
  p: ParameterMetadata,
  t: TagMap | undefined,
  value: string | undefined,
  region: string,
  account: string,
): SsmFound {
  const name = p.Name!;
  const args: Partial<Args> = {
    name,
    type: p.Type as Args['type'],
    keyId: p.KeyId,
    description: p.Description,
    tier: p.Tier === 'Advanced' ? 'Advanced' : 'Standard',
  };
  if (t !== undefined) args.tags = userTags(t);
  if (value !== undefined) args.value = value;
  return {
    key: name,
    id: name,
    args,
    outputs: { name, arn: p.ARN ?? parameterArn(name, region, account), version: p.Version ?? 1 },
  };
}

/** Names with levels keep their leading slash out of the ARN: parameter/app/prod/NAME. */
function parameterArn(name: string, region: string, account: string): string {
  const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`;
}
