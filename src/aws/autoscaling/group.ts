// Auto scaling group: seed 000's EC2 path, keeping N instances of a launch template running in the app
// subnets behind the load balancer, and replacing them in rolling fashion when the template changes.
import type { AutoScaling, AutoScalingGroup as AwsGroup, Tag } from '@aws-sdk/client-auto-scaling';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { nameTag } from '../ec2/common.js';
import { errorCode } from '../errors.js';
import { afterIamPropagation, iamNotVisibleYet } from '../iam/propagation.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagDelta, tagMap, userTags } from '../tags.js';

/** AWS stores versions as text: `$Latest`, `$Default` or `3`. */
const versionText = (v: unknown) => (typeof v === 'number' ? String(v) : v);

const fields = {
  /** The group's name in AWS is derived from the stack and path, as `<stack>-<path>`. */
  name: field(z.string().min(1).max(200)),
  /** The launch template instances start from (a LaunchTemplate's id). */
  launchTemplateId: field(input(z.string().startsWith('lt-'))),
  /**
   * Which version of the template: pass the template's `latestVersion` so that every change to it rolls the
   * instances over (an instance refresh). @default '$Latest': new instances use the newest version, running ones stay.
   */
  launchTemplateVersion: field(
    input(z.union([z.literal('$Latest'), z.literal('$Default'), z.number().int().min(1)])).default('$Latest'),
    { normalize: versionText },
  ),
  /** Fewest instances the group keeps. */
  minSize: field(z.number().int().min(0)),
  /** Most instances the group may have. */
  maxSize: field(z.number().int().min(0)),
  /** Instances wanted now. @default left to AWS and scaling policies (minSize at first) */
  desiredCapacity: field(z.number().int().min(0).optional()),
  /** The subnets instances start in (the app subnets), one or more, across zones for availability. */
  subnetIds: field(z.array(input(z.string())).min(1), { unordered: true }),
  /** @default []: target groups (ARNs) instances are registered with, e.g. the load balancer's. */
  targetGroupArns: field(z.array(input(z.string().startsWith('arn:'))).default([]), { unordered: true }),
  /** @default 'ELB' when target groups are given (instances failing the load balancer's check are replaced), else 'EC2'. */
  healthCheckType: field(z.enum(['EC2', 'ELB']).optional()),
  /** @default 120: seconds a new instance has to boot before health checks count. */
  healthCheckGracePeriodSeconds: field(z.number().int().min(0).max(7200).default(120)),
  /** Tags on the group, copied to every instance it launches. */
  tags: field(tags()),
};

export interface AutoScalingGroupOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type GroupFound = Found<Args, AutoScalingGroupOutputs>;

const DELETING = 'Delete in progress';
// A rolling replacement keeps nine instances in ten serving, as AWS's console suggests.
const MIN_HEALTHY_PERCENTAGE = 90;
const REFRESH_FAILED = ['Failed', 'Cancelled', 'Cancelling', 'RollbackFailed', 'RollbackSuccessful'];

export const AutoScalingGroup = defineResourceType({
  kind: 'auto-scaling-group',
  noun: 'auto scaling group',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    const { minSize, maxSize, desiredCapacity } = args;
    if (minSize !== undefined && maxSize !== undefined && minSize > maxSize) {
      problems.push(`minSize: ${minSize} is more than maxSize ${maxSize}`);
    }
    if (desiredCapacity !== undefined && minSize !== undefined && maxSize !== undefined) {
      if (desiredCapacity < minSize || desiredCapacity > maxSize) {
        problems.push(
          `desiredCapacity: ${desiredCapacity} is outside minSize..maxSize (${minSize}..${maxSize})`,
        );
      }
    }
    return problems;
  },

  async find(ctx) {
    const as = await ctx.aws.autoScaling();
    const groups = await allPages(
      (NextToken) =>
        as.describeAutoScalingGroups({
          Filters: [{ Name: `tag:${STACK_TAG}`, Values: [ctx.stack] }],
          MaxRecords: 100,
          NextToken,
        }),
      (p) => p.AutoScalingGroups,
    );
    // A group being deleted is gone for planning; create waits for its name to be free.
    return groups.filter((g) => tagMap(g.Tags)[STACK_TAG] === ctx.stack && g.Status !== DELETING).map(read);
  },

  async create(ctx, args) {
    const as = await ctx.aws.autoScaling();
    const name = physicalName(ctx.stack, ctx.path, { max: 255 });
    await createOnce(ctx, as, name, args);
    const group = await waitForCapacity(ctx, as, name, args);
    return read(group);
  },

  async update(ctx, found, args, changed) {
    const as = await ctx.aws.autoScaling();
    const AutoScalingGroupName = found.id;
    const have = found.args as Args;
    const templateChanged = changed.includes('launchTemplateId') || changed.includes('launchTemplateVersion');
    const groupFields = [
      'launchTemplateId',
      'launchTemplateVersion',
      'minSize',
      'maxSize',
      'desiredCapacity',
      'subnetIds',
      'healthCheckType',
      'healthCheckGracePeriodSeconds',
      'targetGroupArns',
    ];
    if (changed.some((c) => groupFields.includes(c))) {
      await afterIamPropagation(ctx, GROUP_PROFILE_USER, () =>
        as.updateAutoScalingGroup({ AutoScalingGroupName, ...groupSettings(args) }),
      );
    }
    if (changed.includes('targetGroupArns')) {
      const before = new Set(have.targetGroupArns ?? []);
      const after = new Set(args.targetGroupArns);
      const attach = [...after].filter((a) => !before.has(a));
      const detach = [...before].filter((a) => !after.has(a));
      if (attach.length > 0) {
        await as.attachLoadBalancerTargetGroups({ AutoScalingGroupName, TargetGroupARNs: attach });
      }
      if (detach.length > 0) {
        await as.detachLoadBalancerTargetGroups({ AutoScalingGroupName, TargetGroupARNs: detach });
      }
    }
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(have.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0) {
        await as.createOrUpdateTags({ Tags: groupTags(AutoScalingGroupName, set) });
      }
      if (remove.length > 0) {
        await as.deleteTags({
          Tags: remove.map((Key) => ({
            Key,
            ResourceId: AutoScalingGroupName,
            ResourceType: 'auto-scaling-group',
          })),
        });
      }
    }
    if (templateChanged) await refreshInstances(ctx, as, AutoScalingGroupName, args);
    const group =
      templateChanged || changed.some((c) => ['minSize', 'maxSize', 'desiredCapacity'].includes(c))
        ? await waitForCapacity(ctx, as, AutoScalingGroupName, args)
        : await describe(as, AutoScalingGroupName);
    return read(group!);
  },

  async delete(ctx, found) {
    const as = await ctx.aws.autoScaling();
    const AutoScalingGroupName = found.id;
    try {
      // ForceDelete terminates the instances with the group instead of refusing while any remain.
      await as.deleteAutoScalingGroup({ AutoScalingGroupName, ForceDelete: true });
    } catch (err) {
      if (!isGroupNotFound(err)) throw err;
    }
    // Its instances hold the subnets, security groups and target groups until they are terminated.
    await ctx.wait({
      what: `auto scaling group "${ctx.path}" and its instances to be deleted`,
      timeoutMs: 20 * 60_000,
      hint: 'an instance may be stuck in a lifecycle hook or protected from termination: look at the group in the EC2 console',
      check: async () => {
        const g = await describe(as, AutoScalingGroupName);
        return g === undefined
          ? { done: true, value: undefined }
          : { done: false, state: `${g.Status ?? 'deleting'}, ${g.Instances?.length ?? 0} instances left` };
      },
    });
  },
});

/** What CreateAutoScalingGroup and UpdateAutoScalingGroup share. */
function groupSettings(args: Args) {
  return {
    LaunchTemplate: {
      LaunchTemplateId: args.launchTemplateId,
      Version: String(versionText(args.launchTemplateVersion)),
    },
    MinSize: args.minSize,
    MaxSize: args.maxSize,
    DesiredCapacity: args.desiredCapacity,
    VPCZoneIdentifier: args.subnetIds.join(','),
    HealthCheckType: args.healthCheckType ?? (args.targetGroupArns.length > 0 ? 'ELB' : 'EC2'),
    HealthCheckGracePeriod: args.healthCheckGracePeriodSeconds,
  };
}

/** Auto Scaling checks the launch template's instance profile, whose role EC2 assumes. */
const GROUP_PROFILE_USER = {
  noun: 'auto scaling group',
  service: 'Auto Scaling',
  principal: 'ec2.amazonaws.com',
};

/** Tags in the group's shape: every one is copied to the instances it launches. */
function groupTags(name: string, tags: TagMap): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({
    Key,
    Value,
    ResourceId: name,
    ResourceType: 'auto-scaling-group',
    PropagateAtLaunch: true,
  }));
}

/**
 * CreateAutoScalingGroup has no idempotency token: a name already taken by this very resource (a retried
 * call that had succeeded) is ours; one still being deleted (a replacement) is waited for.
 */
async function createOnce(ctx: OpContext, as: AutoScaling, name: string, args: Args): Promise<void> {
  const request = {
    AutoScalingGroupName: name,
    ...groupSettings(args),
    TargetGroupARNs: args.targetGroupArns,
    Tags: groupTags(name, ctx.tags({ ...args.tags, Name: nameTag(ctx.path) })),
  };
  await ctx.wait({
    what: `the name of auto scaling group "${ctx.path}" to be free`,
    timeoutMs: 20 * 60_000,
    check: async () => {
      try {
        await as.createAutoScalingGroup(request);
        return { done: true, value: undefined };
      } catch (err) {
        // The launch template's instance profile, made a moment ago, may not be visible to Auto Scaling yet.
        const notYet = iamNotVisibleYet(err);
        if (notYet) return { done: false, state: notYet };
        if (errorCode(err) !== 'AlreadyExists') throw err;
        const existing = await describe(as, name);
        if (existing === undefined) return { done: false, state: 'name taken by a group being deleted' };
        if (existing.Status === DELETING) return { done: false, state: DELETING };
        const t = tagMap(existing.Tags);
        if (t[STACK_TAG] === ctx.stack && t[RESOURCE_TAG] === ctx.address)
          return { done: true, value: undefined };
        throw err;
      }
    },
  });
}

/** Waits until the group has as many healthy instances in service as it wants, failing on repeated launch failures. */
async function waitForCapacity(ctx: OpContext, as: AutoScaling, name: string, args: Args): Promise<AwsGroup> {
  return ctx.wait({
    what: `auto scaling group "${ctx.path}" to have its instances in service`,
    timeoutMs: 15 * 60_000 + args.healthCheckGracePeriodSeconds * 1000,
    hint: "look at the group's Activity tab in the EC2 console: a launch that keeps failing (image, instance type, subnet capacity) says why there",
    check: async () => {
      const g = await describe(as, name);
      if (g === undefined) return { done: false, state: 'not visible yet' };
      const wanted = g.DesiredCapacity ?? 0;
      const ready = (g.Instances ?? []).filter(
        (i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy',
      ).length;
      if (ready >= wanted) return { done: true, value: g };
      const { Activities = [] } = await as.describeScalingActivities({
        AutoScalingGroupName: name,
        MaxRecords: 3,
      });
      const failed = Activities.filter((a) => a.StatusCode === 'Failed');
      // AWS retries a failed launch; three failures in a row are a configuration problem, not bad luck.
      if (failed.length === 3) {
        throw new Error(
          `launching instances failed three times: ${failed[0]!.StatusMessage ?? 'no reason given'}`,
        );
      }
      const last =
        Activities[0]?.StatusCode === 'Failed' ? `; last launch failed: ${Activities[0].StatusMessage}` : '';
      return { done: false, state: `${ready} of ${wanted} instances in service and healthy${last}` };
    },
  });
}

/** Replaces the instances a few at a time onto the group's new launch template, and waits for the end. */
async function refreshInstances(ctx: OpContext, as: AutoScaling, name: string, args: Args): Promise<void> {
  const id = await ctx.wait({
    what: `an earlier instance refresh of auto scaling group "${ctx.path}" to end`,
    timeoutMs: 60 * 60_000,
    check: async () => {
      try {
        const { InstanceRefreshId } = await as.startInstanceRefresh({
          AutoScalingGroupName: name,
          Strategy: 'Rolling',
          Preferences: {
            MinHealthyPercentage: MIN_HEALTHY_PERCENTAGE,
            InstanceWarmup: args.healthCheckGracePeriodSeconds,
            // Instances already on the new template stay: a rerun after an interruption continues.
            SkipMatching: true,
          },
        });
        return { done: true, value: InstanceRefreshId! };
      } catch (err) {
        if (errorCode(err) === 'InstanceRefreshInProgress') return { done: false, state: 'InProgress' };
        throw named('StartInstanceRefresh', err);
      }
    },
  });
  ctx.progress(`replacing instances, keeping ${MIN_HEALTHY_PERCENTAGE}% in service`);
  await ctx.wait({
    what: `instance refresh of auto scaling group "${ctx.path}" to finish`,
    timeoutMs: 60 * 60_000,
    hint: "new instances are not becoming healthy: look at the group's instance refresh and activity history in the EC2 console",
    check: async () => {
      const { InstanceRefreshes = [] } = await as.describeInstanceRefreshes({
        AutoScalingGroupName: name,
        InstanceRefreshIds: [id],
      });
      const refresh = InstanceRefreshes[0];
      const status = refresh?.Status ?? 'Pending';
      if (status === 'Successful') return { done: true, value: undefined };
      if (REFRESH_FAILED.includes(status)) {
        throw new Error(
          `the instance refresh ended "${status}": ${refresh?.StatusReason ?? 'no reason given'}`,
        );
      }
      return { done: false, state: `${status}, ${refresh?.PercentageComplete ?? 0}% done` };
    },
  });
}

/** Names the operation in an error that may not (a server error carries no message of its own). */
function named(operation: string, err: unknown): Error {
  const e = err as Error & { $metadata?: unknown };
  return Object.assign(new Error(`${operation}: ${e?.message ?? String(err)}`, { cause: err }), {
    name: errorCode(err),
    $metadata: e?.$metadata,
  });
}

/** AWS says "not found" for a group with a ValidationError, in words. */
function isGroupNotFound(err: unknown): boolean {
  return errorCode(err) === 'ValidationError' && /not found/i.test((err as Error).message ?? '');
}

async function describe(as: AutoScaling, name: string): Promise<AwsGroup | undefined> {
  const { AutoScalingGroups = [] } = await as.describeAutoScalingGroups({ AutoScalingGroupNames: [name] });
  return AutoScalingGroups[0];
}

function read(g: AwsGroup): GroupFound {
  const name = g.AutoScalingGroupName!;
  const t = tagMap(g.Tags);
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      launchTemplateId: g.LaunchTemplate?.LaunchTemplateId,
      launchTemplateVersion: g.LaunchTemplate?.Version as Args['launchTemplateVersion'],
      minSize: g.MinSize,
      maxSize: g.MaxSize,
      desiredCapacity: g.DesiredCapacity,
      subnetIds: (g.VPCZoneIdentifier ?? '').split(',').filter((s) => s !== ''),
      targetGroupArns: g.TargetGroupARNs ?? [],
      healthCheckType: g.HealthCheckType as Args['healthCheckType'],
      healthCheckGracePeriodSeconds: g.HealthCheckGracePeriod,
      tags: userTags(t),
    },
    outputs: { name, arn: g.AutoScalingGroupARN! },
  };
}
