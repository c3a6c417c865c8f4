// IAM role: who may assume it (the trust policy) and what it may do (inline and managed policies).
import type { Role as AwsRole, IAM } from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, normalizePolicy, policyDocument, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { createOnce, ownedHere } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { allPages, byTruncatedMarker } from '../pages.js';
import {
  declaredName,
  inStackRegion,
  lacksRegionTag,
  regionalName,
  regionTagPending,
} from '../region-scope.js';
import { REGION_TAG, tagDelta, tagList, tagMap, userTags } from '../tags.js';
import { IAM_NAME, iamPath } from './common.js';

const fields = {
  /**
   * The role's name, 1 to 64 letters, digits and `+=,.@_-`; in IAM, which is global, `<name>-<region>` (cut to 64
   * with a short hash), so each region's stack has its own. Changing it means a new role.
   */
  name: field(
    z.string().min(1).max(64).regex(IAM_NAME, 'IAM role names use letters, digits and +=,.@_- only'),
    { replace: true },
  ),
  /** @default '/': the role's path, e.g. `/apps/`. Changing it means a new role. */
  path: field(iamPath(), { replace: true }),
  /** Who may assume the role (the trust policy), e.g. `{ Service: 'ec2.amazonaws.com' }` as Principal. */
  assumeRolePolicy: field(policyDocument(), { normalize: normalizePolicy }),
  /** @default {}: inline policies by name; references (a bucket's ARN) may appear inside. */
  policies: field(
    z
      .record(
        z
          .string()
          .min(1)
          .max(128)
          .regex(IAM_NAME, 'inline policy names use letters, digits and +=,.@_- only'),
        policyDocument(),
      )
      .default({}),
    { normalize: normalizePolicies },
  ),
  /** @default []: ARNs of managed policies to attach, e.g. `arn:aws:iam::aws:policy/ReadOnlyAccess`. */
  managedPolicyArns: field(z.array(input(z.string().startsWith('arn:'))).default([]), { unordered: true }),
  /** Shown in the IAM console; left as it is when not given. */
  description: field(z.string().max(1000).optional()),
  /** @default 3600: the longest session, in seconds, that assuming the role grants (3600 to 43200). */
  maxSessionDuration: field(z.number().int().min(3600).max(43200).default(3600)),
  tags: field(tags()),
};

export interface RoleOutputs {
  name: string;
  arn: string;
  /** IAM's unique id for the role (AROA…), which changes when the role is replaced. */
  id: string;
}

type Args = ArgsOf<typeof fields>;

// Roles AWS itself made live under these paths; Touchdown never creates roles there.
const AWS_OWNED_PATHS = ['/aws-service-role/', '/aws-reserved/'];

export const Role = defineResourceType({
  kind: 'role',
  noun: 'IAM role',
  fields,
  outputs: ['name', 'arn', 'id'],
  defaultOutput: 'name',
  identity: { by: 'name', name: (args) => args.name },

  check(args) {
    const reserved = AWS_OWNED_PATHS.find((p) => args.path?.startsWith(p));
    return reserved ? [`path: ${reserved} is reserved for roles AWS makes; pick another path`] : [];
  },

  async find(ctx) {
    const iam = await ctx.aws.iam();
    // ListRoles never returns tags and IAM is absent from the tagging API, so: list once, then GetRole
    // (tags included) per role; a per-stack path would take the path away from the user.
    const listed = await allPages(
      (Marker) => iam.listRoles({ Marker, MaxItems: 1000 }),
      (p) => p.Roles,
      byTruncatedMarker,
    );
    const limit = pLimit(8);
    const candidates = listed.filter((r) => !AWS_OWNED_PATHS.some((p) => r.Path?.startsWith(p)));
    const roles = await Promise.all(
      candidates.map((r) => limit(() => ignoreNotFound(iam.getRole({ RoleName: r.RoleName })))),
    );
    const ours: AwsRole[] = [];
    for (const r of roles) if (r?.Role && (await inStackRegion(ctx, tagMap(r.Role.Tags)))) ours.push(r.Role);
    const found = await Promise.all(ours.map((r) => limit(() => ignoreNotFound(read(ctx, iam, r)))));
    return found.filter((f) => f !== undefined);
  },

  async create(ctx, args) {
    const iam = await ctx.aws.iam();
    const RoleName = roleName(ctx, args.name);
    // A retry after a lost answer meets EntityAlreadyExists: the role is ours when its tags say so.
    await createOnce(
      () =>
        iam.createRole({
          RoleName,
          Path: args.path,
          AssumeRolePolicyDocument: JSON.stringify(args.assumeRolePolicy),
          Description: args.description,
          MaxSessionDuration: args.maxSessionDuration,
          Tags: tagList(ctx.tags(args.tags)),
        }),
      async () => {
        const got = await ignoreNotFound(iam.getRole({ RoleName }));
        return got && { value: got, ours: ownedHere(ctx, tagMap(got.Role?.Tags)) };
      },
    );
    await Promise.all([
      ...Object.entries(args.policies).map(([PolicyName, doc]) =>
        iam.putRolePolicy({ RoleName, PolicyName, PolicyDocument: JSON.stringify(doc) }),
      ),
      ...args.managedPolicyArns.map((PolicyArn) => iam.attachRolePolicy({ RoleName, PolicyArn })),
    ]);
    return readAfterWrite(ctx, iam, RoleName);
  },

  async update(ctx, found, args, changed) {
    const iam = await ctx.aws.iam();
    const RoleName = found.id;
    const have = found.args as Args;
    if (changed.includes('assumeRolePolicy')) {
      await iam.updateAssumeRolePolicy({ RoleName, PolicyDocument: JSON.stringify(args.assumeRolePolicy) });
    }
    if (changed.includes('description') || changed.includes('maxSessionDuration')) {
      await iam.updateRole({
        RoleName,
        Description: args.description ?? have.description,
        MaxSessionDuration: args.maxSessionDuration,
      });
    }
    if (changed.includes('policies'))
      await syncInlinePolicies(iam, RoleName, have.policies ?? {}, args.policies);
    if (changed.includes('managedPolicyArns')) {
      const before = new Set(have.managedPolicyArns ?? []);
      const after = new Set(args.managedPolicyArns);
      await Promise.all([
        ...[...after]
          .filter((a) => !before.has(a))
          .map((PolicyArn) => iam.attachRolePolicy({ RoleName, PolicyArn })),
        ...[...before]
          .filter((a) => !after.has(a))
          .map((PolicyArn) => ignoreNotFound(iam.detachRolePolicy({ RoleName, PolicyArn }))),
      ]);
    }
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(have.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0) await iam.tagRole({ RoleName, Tags: tagList(set) });
      if (remove.length > 0) await iam.untagRole({ RoleName, TagKeys: remove });
    }
    // A role made before region scoping keeps its name and becomes this region's stack's.
    if (lacksRegionTag(found)) await iam.tagRole({ RoleName, Tags: tagList({ [REGION_TAG]: ctx.region }) });
    return readAfterWrite(ctx, iam, RoleName);
  },

  async delete(ctx, found) {
    const iam = await ctx.aws.iam();
    const RoleName = found.id;
    // IAM refuses to delete a role that still has policies or sits in an instance profile: read them fresh.
    const [attached, inline, profiles] = await Promise.all([
      ignoreNotFound(attachedPolicyArns(iam, RoleName)),
      ignoreNotFound(inlinePolicyNames(iam, RoleName)),
      ignoreNotFound(
        allPages(
          (Marker) => iam.listInstanceProfilesForRole({ RoleName, Marker }),
          (p) => p.InstanceProfiles,
          byTruncatedMarker,
        ),
      ),
    ]);
    if (attached === undefined) return;
    await Promise.all([
      ...attached.map((PolicyArn) => ignoreNotFound(iam.detachRolePolicy({ RoleName, PolicyArn }))),
      ...(inline ?? []).map((PolicyName) => ignoreNotFound(iam.deleteRolePolicy({ RoleName, PolicyName }))),
      ...(profiles ?? []).map((p) =>
        ignoreNotFound(
          iam.removeRoleFromInstanceProfile({ RoleName, InstanceProfileName: p.InstanceProfileName }),
        ),
      ),
    ]);
    await ignoreNotFound(iam.deleteRole({ RoleName }));
  },
});

/** IAM names are global: the region keeps each region's stack apart. */
const roleName = (ctx: FindContext, name: string) => regionalName(name, ctx.region, 64);

/** The ARN of the role a stack declares as `name` in `region`, for policies that must name it before it exists. */
export const roleArn = (account: string, region: string, name: string) =>
  `arn:aws:iam::${account}:role/${regionalName(name, region, 64)}`;

function normalizePolicies(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizePolicy(v)]));
}

/** IAM hands policy documents back URL-encoded (RFC 3986); a plain JSON string is read as it is. */
export function parsePolicy(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(decodeURIComponent(text));
  }
}

async function inlinePolicyNames(iam: IAM, RoleName: string): Promise<string[]> {
  return allPages(
    (Marker) => iam.listRolePolicies({ RoleName, Marker }),
    (p) => p.PolicyNames,
    byTruncatedMarker,
  );
}

async function attachedPolicyArns(iam: IAM, RoleName: string): Promise<string[]> {
  const attached = await allPages(
    (Marker) => iam.listAttachedRolePolicies({ RoleName, Marker }),
    (p) => p.AttachedPolicies,
    byTruncatedMarker,
  );
  return attached.map((a) => a.PolicyArn!);
}

async function syncInlinePolicies(
  iam: IAM,
  RoleName: string,
  have: Record<string, Record<string, unknown>>,
  want: Record<string, Record<string, unknown>>,
) {
  const same = (a: unknown, b: unknown) =>
    JSON.stringify(normalizePolicy(a)) === JSON.stringify(normalizePolicy(b));
  await Promise.all([
    ...Object.entries(want)
      .filter(([name, doc]) => !(name in have) || !same(doc, have[name]))
      .map(([PolicyName, doc]) =>
        iam.putRolePolicy({ RoleName, PolicyName, PolicyDocument: JSON.stringify(doc) }),
      ),
    ...Object.keys(have)
      .filter((name) => !(name in want))
      .map((PolicyName) => ignoreNotFound(iam.deleteRolePolicy({ RoleName, PolicyName }))),
  ]);
}

/** IAM is eventually consistent: a role just made may not be readable for a moment. */
async function readAfterWrite(ctx: OpContext, iam: IAM, RoleName: string): Promise<Found<Args, RoleOutputs>> {
  return ctx.wait({
    what: `IAM role "${RoleName}" to be readable`,
    timeoutMs: 2 * 60_000,
    check: async () => {
      const got = await ignoreNotFound(iam.getRole({ RoleName }));
      const found = got?.Role && (await ignoreNotFound(read(ctx, iam, got.Role)));
      return found ? { done: true, value: found } : { done: false, state: 'not visible yet' };
    },
  });
}

/** A role as found: its policies read alongside (one call per inline policy, one for the managed ones). */
async function read(ctx: FindContext, iam: IAM, role: AwsRole): Promise<Found<Args, RoleOutputs>> {
  const RoleName = role.RoleName!;
  const tags = tagMap(role.Tags);
  const name = declaredName('role', tags, RoleName);
  const [names, managedPolicyArns] = await Promise.all([
    inlinePolicyNames(iam, RoleName),
    attachedPolicyArns(iam, RoleName),
  ]);
  const documents = await Promise.all(
    names.map(async (PolicyName) => {
      const p = await iam.getRolePolicy({ RoleName, PolicyName });
      return [PolicyName, parsePolicy(p.PolicyDocument) ?? {}] as const;
    }),
  );
  return {
    key: name,
    id: RoleName,
    pending: regionTagPending(ctx, tags),
    args: {
      name,
      path: role.Path,
      assumeRolePolicy: parsePolicy(role.AssumeRolePolicyDocument),
      policies: Object.fromEntries(documents),
      managedPolicyArns,
      description: role.Description,
      maxSessionDuration: role.MaxSessionDuration,
      tags: userTags(tags),
    },
    outputs: { name: RoleName, arn: role.Arn!, id: role.RoleId! },
  };
}
