// Target group: the set of tasks or instances a load balancer sends requests to, and how it checks them.
import type {
  TargetGroup as AwsTargetGroup,
  TargetGroupAttribute,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { createOnce } from '../create-once.js';
import { deleteWhenFree } from '../ec2/common.js';
import { ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { type TagMap, tagList, userTags } from '../tags.js';
import {
  describeByArn,
  describeTags,
  type ElbV2,
  ownedArn,
  ownedAs,
  stackArns,
  updateTags,
} from './common.js';

const KIND = 'target-group';

// Defaults: a new task takes traffic after 2 checks 15 s apart (AWS: 5 × 30 s), and a failing one leaves after 3:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
const healthCheck = z
  .strictObject({
    /** The path requested on each target. @default '/' */
    path: z.string().startsWith('/').max(1024).default('/'),
    /** HTTP codes that mean healthy: `200`, `200,204` or `200-299`. @default '200-399' (redirects count as up) */
    matcher: z
      .string()
      .regex(/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/, 'write HTTP codes like 200, 200,204 or 200-299')
      .default('200-399'),
    /** Seconds between checks, 5 to 300. @default 15 */
    intervalSeconds: z.number().int().min(5).max(300).default(15),
    /** Seconds without an answer that count as a failed check, 2 to 120; less than intervalSeconds. @default 5 */
    timeoutSeconds: z.number().int().min(2).max(120).default(5),
    /** Checks passed in a row before a target receives traffic, 2 to 10. @default 2 */
    healthyThreshold: z.number().int().min(2).max(10).default(2),
    /** Checks failed in a row before a target is taken out, 2 to 10. @default 3 */
    unhealthyThreshold: z.number().int().min(2).max(10).default(3),
  })
  .prefault({});

const stickiness = z.strictObject({
  /** How long the load balancer's cookie keeps a client on one target, 1 s to 7 days. @default 86400 (1 day) */
  durationSeconds: z.number().int().min(1).max(604_800).default(86_400),
});

const fields = {
  /** The label in the stack; the name in AWS is `<stack>-<path>`, cut to AWS's 32 characters. */
  name: field(z.string().min(1).max(200)),
  /** The VPC its targets live in. Changing it means a new target group. */
  vpcId: field(input(z.string()), { replace: true }),
  /** How the load balancer talks to targets. @default 'HTTP'. Changing it means a new target group. */
  protocol: field(z.enum(['HTTP', 'HTTPS']).default('HTTP'), { replace: true }),
  /** The port targets listen on (e.g. 8000 for gunicorn). Changing it means a new target group. */
  port: field(z.number().int().min(1).max(65535), { replace: true }),
  /** @default 'ip': Fargate tasks register by IP address; 'instance' for EC2 instances. Changing it means a new target group. */
  targetType: field(z.enum(['ip', 'instance']).default('ip'), { replace: true }),
  /** How targets are checked. @default { path: '/', matcher: '200-399', intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } */
  healthCheck: field(healthCheck),
  /**
   * Seconds a target being removed keeps serving its open requests, 0 to 3600. @default 30.
   * AWS's own default of 300 s is the usual cause of slow deploys: every old task waits five minutes.
   */
  deregistrationDelaySeconds: field(z.number().int().min(0).max(3600).default(30)),
  /** Keeps a client on one target with a load balancer cookie. @default null: no stickiness */
  stickiness: field(stickiness.nullable().default(null)),
  /** Seconds a new target's share of traffic ramps up, 30 to 900. @default null: full share at once */
  slowStartSeconds: field(z.number().int().min(30).max(900).nullable().default(null)),
  tags: field(tags()),
};

export interface TargetGroupOutputs {
  arn: string;
  /** Its name in AWS. */
  name: string;
  /** `targetgroup/<name>/<id>`: what CloudWatch metrics and request-count scaling policies name it by. */
  arnSuffix: string;
}

type Args = ArgsOf<typeof fields>;
type TargetGroupFound = Found<Args, TargetGroupOutputs>;
type Attributes = Record<string, string>;

const ATTRIBUTE_FIELDS = ['deregistrationDelaySeconds', 'stickiness', 'slowStartSeconds'] as const;

export const TargetGroup = defineResourceType({
  kind: KIND,
  noun: 'target group',
  listedAs: 'elasticloadbalancing',
  fields,
  outputs: ['arn', 'name', 'arnSuffix'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  check(args) {
    const h = args.healthCheck;
    return h && h.timeoutSeconds >= h.intervalSeconds
      ? ['healthCheck: timeoutSeconds must be less than intervalSeconds']
      : [];
  },

  async find(ctx) {
    const [elbv2, arns] = await Promise.all([ctx.aws.elbv2(), stackArns(ctx, 'targetgroup')]);
    if (arns.length === 0) return [];
    const [groups, tags] = await Promise.all([
      describeByArn(
        arns,
        async (TargetGroupArns) => (await elbv2.describeTargetGroups({ TargetGroupArns })).TargetGroups,
      ),
      describeTags(elbv2, arns),
    ]);
    const ours = groups.filter((g) => ownedAs(tags.get(g.TargetGroupArn!), ctx.stack, KIND));
    // Attributes have no batched read: one call per target group.
    const limit = pLimit(5);
    const found = await Promise.all(
      ours.map((g) =>
        limit(async () => {
          const attrs = await readAttributes(elbv2, g.TargetGroupArn!);
          return attrs && read(g, tags.get(g.TargetGroupArn!)!, attrs);
        }),
      ),
    );
    return found.filter((f): f is TargetGroupFound => f !== undefined);
  },

  async create(ctx, args) {
    const elbv2 = await ctx.aws.elbv2();
    const Name = physicalName(ctx.stack, ctx.path, { max: 32 });
    // Names are unique in the region: after a lost answer, the one of that name is ours when its tags say so.
    const arn = await createOnce(
      async () =>
        (
          await elbv2.createTargetGroup({
            Name,
            VpcId: args.vpcId,
            Protocol: args.protocol,
            Port: args.port,
            TargetType: args.targetType,
            HealthCheckEnabled: true,
            ...healthCheckRequest(args),
            Tags: tagList(ctx.tags(args.tags)),
          })
        ).TargetGroups![0]!.TargetGroupArn!,
      async () => {
        const named = await ignoreNotFound(elbv2.describeTargetGroups({ Names: [Name] }));
        return ownedArn(ctx, elbv2, named?.TargetGroups?.[0]?.TargetGroupArn);
      },
    );
    // CreateTargetGroup takes no attributes, and AWS's deregistration delay (300 s) is not ours.
    await elbv2.modifyTargetGroupAttributes({ TargetGroupArn: arn, Attributes: attributes(args) });
    return readOne(elbv2, arn);
  },

  async update(ctx, found, args, changed) {
    const elbv2 = await ctx.aws.elbv2();
    const arn = found.id;
    if (changed.includes('healthCheck')) {
      await elbv2.modifyTargetGroup({ TargetGroupArn: arn, ...healthCheckRequest(args) });
    }
    const attributeChanges = ATTRIBUTE_FIELDS.filter((f) => changed.includes(f));
    if (attributeChanges.length > 0) {
      await elbv2.modifyTargetGroupAttributes({
        TargetGroupArn: arn,
        Attributes: attributes(args, attributeChanges),
      });
    }
    if (changed.includes('tags')) await updateTags(elbv2, arn, found.args.tags ?? {}, args.tags);
    return readOne(elbv2, arn);
  },

  async delete(ctx, found) {
    const elbv2 = await ctx.aws.elbv2();
    // A listener, rule or ECS service still forwarding to it makes AWS answer ResourceInUse; retry until free.
    await deleteWhenFree(
      ctx,
      `target group "${ctx.path}"`,
      () => elbv2.deleteTargetGroup({ TargetGroupArn: found.id }),
      5 * 60_000,
    );
  },
});

function healthCheckRequest(args: Args) {
  const h = args.healthCheck;
  return {
    HealthCheckPath: h.path,
    Matcher: { HttpCode: h.matcher },
    HealthCheckIntervalSeconds: h.intervalSeconds,
    HealthCheckTimeoutSeconds: h.timeoutSeconds,
    HealthyThresholdCount: h.healthyThreshold,
    UnhealthyThresholdCount: h.unhealthyThreshold,
  };
}

/** The attributes that carry these arguments, as ModifyTargetGroupAttributes takes them. */
function attributes(
  args: Args,
  only: readonly (typeof ATTRIBUTE_FIELDS)[number][] = ATTRIBUTE_FIELDS,
): TargetGroupAttribute[] {
  const all: Record<(typeof ATTRIBUTE_FIELDS)[number], Attributes> = {
    deregistrationDelaySeconds: {
      'deregistration_delay.timeout_seconds': String(args.deregistrationDelaySeconds),
    },
    stickiness: args.stickiness
      ? {
          'stickiness.enabled': 'true',
          'stickiness.type': 'lb_cookie',
          'stickiness.lb_cookie.duration_seconds': String(args.stickiness.durationSeconds),
        }
      : { 'stickiness.enabled': 'false' },
    slowStartSeconds: { 'slow_start.duration_seconds': String(args.slowStartSeconds ?? 0) },
  };
  return only.flatMap((f) => Object.entries(all[f]).map(([Key, Value]) => ({ Key, Value })));
}

/** Undefined when the target group is gone. */
async function readAttributes(elbv2: ElbV2, arn: string): Promise<Attributes | undefined> {
  const r = await ignoreNotFound(elbv2.describeTargetGroupAttributes({ TargetGroupArn: arn }));
  if (!r) return undefined;
  return Object.fromEntries((r.Attributes ?? []).map((a) => [a.Key!, a.Value ?? '']));
}

async function readOne(elbv2: ElbV2, arn: string): Promise<TargetGroupFound> {
  const [groups, tags, attrs] = await Promise.all([
    elbv2.describeTargetGroups({ TargetGroupArns: [arn] }),
    describeTags(elbv2, [arn]),
    readAttributes(elbv2, arn),
  ]);
  const g = groups.TargetGroups?.[0];
  if (!g || !attrs) throw new Error(`target group ${arn} disappeared while being written`);
  return read(g, tags.get(arn) ?? {}, attrs);
}

function read(g: AwsTargetGroup, tags: TagMap, attrs: Attributes): TargetGroupFound {
  const arn = g.TargetGroupArn!;
  const slowStart = Number(attrs['slow_start.duration_seconds'] ?? 0);
  return {
    key: tags['touchdown:resource'] ?? arn,
    id: arn,
    args: {
      vpcId: g.VpcId,
      protocol: g.Protocol as Args['protocol'],
      port: g.Port,
      targetType: g.TargetType as Args['targetType'],
      healthCheck: {
        path: g.HealthCheckPath ?? '/',
        matcher: g.Matcher?.HttpCode ?? '',
        intervalSeconds: g.HealthCheckIntervalSeconds ?? 0,
        timeoutSeconds: g.HealthCheckTimeoutSeconds ?? 0,
        healthyThreshold: g.HealthyThresholdCount ?? 0,
        unhealthyThreshold: g.UnhealthyThresholdCount ?? 0,
      },
      deregistrationDelaySeconds: Number(attrs['deregistration_delay.timeout_seconds'] ?? 300),
      stickiness:
        attrs['stickiness.enabled'] === 'true'
          ? { durationSeconds: Number(attrs['stickiness.lb_cookie.duration_seconds'] ?? 86_400) }
          : null,
      slowStartSeconds: slowStart > 0 ? slowStart : null,
      tags: userTags(tags),
    },
    outputs: { arn, name: g.TargetGroupName!, arnSuffix: arn.split(':')[5] ?? '' },
  };
}
