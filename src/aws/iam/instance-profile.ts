// IAM instance profile: how an EC2 instance gets a role's credentials.
import type { InstanceProfile as AwsInstanceProfile, IAM } from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
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
   * The instance profile's name, 1 to 128 letters, digits and `+=,.@_-`; in IAM, which is global,
   * `<name>-<region>`, so each region's stack has its own. Changing it means a new one.
   */
  name: field(
    z.string().min(1).max(128).regex(IAM_NAME, 'instance profile names use letters, digits and +=,.@_- only'),
    { replace: true },
  ),
  /** @default '/': the instance profile's path. Changing it means a new one. */
  path: field(iamPath(), { replace: true }),
  /** @default []: the role the instance gets, as a list of at most one role name (pass the role itself). */
  roles: field(
    z
      .array(input(z.string().min(1).max(64)))
      .max(1, 'an instance profile holds at most one role; make one instance profile per role')
      .default([]),
    { unordered: true },
  ),
  tags: field(tags()),
};

export interface InstanceProfileOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;

export const InstanceProfile = defineResourceType({
  kind: 'instance-profile',
  noun: 'instance profile',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'name', name: (args) => args.name },

  async find(ctx) {
    const iam = await ctx.aws.iam();
    // As for roles: the list carries no tags reliably and IAM is absent from the tagging API,
    // so list once, then GetInstanceProfile (tags and roles) per instance profile.
    const listed = await allPages(
      (Marker) => iam.listInstanceProfiles({ Marker, MaxItems: 1000 }),
      (p) => p.InstanceProfiles,
      byTruncatedMarker,
    );
    const limit = pLimit(8);
    const profiles = await Promise.all(
      listed.map((p) =>
        limit(() => ignoreNotFound(iam.getInstanceProfile({ InstanceProfileName: p.InstanceProfileName }))),
      ),
    );
    const ours: Found<Args, InstanceProfileOutputs>[] = [];
    for (const p of profiles) {
      const profile = p?.InstanceProfile;
      if (profile && (await inStackRegion(ctx, tagMap(profile.Tags)))) ours.push(toFound(ctx, profile));
    }
    return ours;
  },

  async create(ctx, args) {
    const iam = await ctx.aws.iam();
    const InstanceProfileName = regionalName(args.name, ctx.region, 128);
    await iam.createInstanceProfile({
      InstanceProfileName,
      Path: args.path,
      Tags: tagList(ctx.tags(args.tags)),
    });
    for (const RoleName of args.roles) {
      await iam.addRoleToInstanceProfile({ InstanceProfileName, RoleName });
    }
    return readAfterWrite(ctx, iam, InstanceProfileName);
  },

  async update(ctx, found, args, changed) {
    const iam = await ctx.aws.iam();
    const InstanceProfileName = found.id;
    const have = found.args as Args;
    if (changed.includes('roles')) {
      // Remove before adding: the one-role limit would refuse a second.
      for (const RoleName of (have.roles ?? []).filter((r) => !args.roles.includes(r))) {
        await ignoreNotFound(iam.removeRoleFromInstanceProfile({ InstanceProfileName, RoleName }));
      }
      for (const RoleName of args.roles.filter((r) => !(have.roles ?? []).includes(r))) {
        await iam.addRoleToInstanceProfile({ InstanceProfileName, RoleName });
      }
    }
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(have.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0)
        await iam.tagInstanceProfile({ InstanceProfileName, Tags: tagList(set) });
      if (remove.length > 0) await iam.untagInstanceProfile({ InstanceProfileName, TagKeys: remove });
    }
    // One made before region scoping keeps its name and becomes this region's stack's.
    if (lacksRegionTag(found))
      await iam.tagInstanceProfile({ InstanceProfileName, Tags: tagList({ [REGION_TAG]: ctx.region }) });
    return readAfterWrite(ctx, iam, InstanceProfileName);
  },

  async delete(ctx, found) {
    const iam = await ctx.aws.iam();
    const InstanceProfileName = found.id;
    // IAM refuses to delete an instance profile that still holds a role: read its roles fresh.
    const got = await ignoreNotFound(iam.getInstanceProfile({ InstanceProfileName }));
    if (!got) return;
    for (const role of got.InstanceProfile?.Roles ?? []) {
      await ignoreNotFound(
        iam.removeRoleFromInstanceProfile({ InstanceProfileName, RoleName: role.RoleName }),
      );
    }
    await ignoreNotFound(iam.deleteInstanceProfile({ InstanceProfileName }));
  },
});

/** IAM is eventually consistent: an instance profile just made may not be readable for a moment. */
async function readAfterWrite(
  ctx: OpContext,
  iam: IAM,
  InstanceProfileName: string,
): Promise<Found<Args, InstanceProfileOutputs>> {
  return ctx.wait({
    what: `instance profile "${InstanceProfileName}" to be readable`,
    timeoutMs: 2 * 60_000,
    check: async () => {
      const got = await ignoreNotFound(iam.getInstanceProfile({ InstanceProfileName }));
      return got?.InstanceProfile
        ? { done: true, value: toFound(ctx, got.InstanceProfile) }
        : { done: false, state: 'not visible yet' };
    },
  });
}

function toFound(ctx: FindContext, p: AwsInstanceProfile): Found<Args, InstanceProfileOutputs> {
  const id = p.InstanceProfileName!;
  const tags = tagMap(p.Tags);
  const name = declaredName('instance-profile', tags, id);
  return {
    key: name,
    id,
    pending: regionTagPending(ctx, tags),
    args: {
      name,
      path: p.Path,
      roles: (p.Roles ?? []).map((r) => r.RoleName!),
      tags: userTags(tags),
    },
    outputs: { name: id, arn: p.Arn! },
  };
}
