// Target tracking policy: keeps an ECS service's CPU, memory or requests per task near a target by
// changing its task count within its scalable target's bounds.
import type {
  ApplicationAutoScaling,
  ScalingPolicy as AwsScalingPolicy,
  MetricType,
} from '@aws-sdk/client-application-auto-scaling';
import { z } from 'zod';
import { type ArgsOf, field, input } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext, type Wanted } from '../../core/resource.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { ECS_DESIRED_COUNT, ecsServiceId, serviceResourceId } from './scalable-target.js';

const METRICS = {
  cpu: 'ECSServiceAverageCPUUtilization',
  memory: 'ECSServiceAverageMemoryUtilization',
  requestsPerTarget: 'ALBRequestCountPerTarget',
} as const satisfies Record<string, MetricType>;

type Metric = keyof typeof METRICS;

/** An ARN compares by what follows its resource type (`app/web/50dc…`), whoever spelt the rest. */
const arnTail = (kind: string) => (value: unknown) =>
  typeof value === 'string'
    ? value.replace(new RegExp(`^arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:${kind}/`), '')
    : value;

const fields = {
  /** The policy's label, unique in the stack; AWS's name is `<stack>.<name>`. */
  name: field(
    z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits and _.- only'),
  ),
  /** The ECS service scaled: pass the ScalableTarget's `resourceId`, so the policy is made after it. Changing it means a new policy. */
  resourceId: field(ecsServiceId(), { replace: true, normalize: serviceResourceId }),
  /** @default 'ecs:service:DesiredCount'. Changing it means a new policy. */
  scalableDimension: field(z.literal(ECS_DESIRED_COUNT).default(ECS_DESIRED_COUNT), { replace: true }),
  /** What to hold near targetValue: average 'cpu' or 'memory' (percent), or 'requestsPerTarget' (load balancer requests per task per minute). */
  metric: field(z.enum(['cpu', 'memory', 'requestsPerTarget'])),
  /** The load balancer (its ARN) whose requests are counted; only for 'requestsPerTarget'. */
  loadBalancerArn: field(input(z.string().startsWith('arn:')).optional(), {
    normalize: arnTail('loadbalancer'),
  }),
  /** The target group (its ARN) of the service behind it; only for 'requestsPerTarget'. */
  targetGroupArn: field(input(z.string().startsWith('arn:')).optional(), {
    normalize: arnTail('targetgroup'),
  }),
  /** The value to hold, e.g. 60 (% CPU) or 1000 (requests per task per minute). */
  targetValue: field(z.number().positive()),
  /** @default 300: seconds after a scale-in before another (slow in, so a dip does not drop capacity). */
  scaleInCooldownSeconds: field(z.number().int().min(0).max(86400).default(300)),
  /** @default 60: seconds after a scale-out before another (fast out, to meet a surge). */
  scaleOutCooldownSeconds: field(z.number().int().min(0).max(86400).default(60)),
};

export interface ScalingPolicyOutputs {
  arn: string;
  /** The policy's name in AWS: `<stack>.<name>`. */
  name: string;
}

type Args = ArgsOf<typeof fields>;
type PolicyFound = Found<Args, ScalingPolicyOutputs>;

export const TargetTrackingPolicy = defineResourceType({
  kind: 'scaling-policy',
  noun: 'scaling policy',
  fields,
  outputs: ['arn', 'name'],
  defaultOutput: 'arn',
  // Scaling policies take no tags: found by a name that starts with the stack's.
  identity: { by: 'name', name: (args) => args.name },

  check(args) {
    const problems: string[] = [];
    const balancer = ['loadBalancerArn', 'targetGroupArn'] as const;
    if (args.metric === 'requestsPerTarget') {
      const missing = balancer.filter((key) => args[key] === undefined);
      if (missing.length > 0) {
        problems.push(
          `${missing.join(', ')}: metric "requestsPerTarget" counts requests at a load balancer's target group; give both ARNs`,
        );
      }
    } else if (args.metric !== undefined) {
      const extra = balancer.filter((key) => args[key] !== undefined);
      if (extra.length > 0)
        problems.push(`${extra.join(', ')}: only metric "requestsPerTarget" uses it; remove it`);
    }
    if ((args.metric === 'cpu' || args.metric === 'memory') && (args.targetValue ?? 0) > 100) {
      problems.push(`targetValue: ${args.metric} is a percentage; give 1 to 100`);
    }
    return problems;
  },

  async find(ctx, wanted) {
    const aas = await ctx.aws.appAutoScaling();
    // One paged call lists every ECS policy in the region; the stack's names start with `<stack>.`.
    const policies = await allPages(
      (NextToken) => aas.describeScalingPolicies({ ServiceNamespace: 'ecs', MaxResults: 50, NextToken }),
      (p) => p.ScalingPolicies,
    );
    const keys = declaredKeys(ctx.stack, wanted);
    const prefix = `${ctx.stack}.`;
    return policies
      .filter((p) => p.PolicyName?.startsWith(prefix))
      .map((p) => read(p, keys.get(p.PolicyName!) ?? p.PolicyName!.slice(prefix.length)));
  },

  async create(ctx, args) {
    const aas = await ctx.aws.appAutoScaling();
    const name = policyName(ctx.stack, args.name);
    // A target registered a moment ago may not be visible to PutScalingPolicy yet.
    await ctx.wait({
      what: `the scalable target of scaling policy "${ctx.path}" to be visible`,
      timeoutMs: 2 * 60_000,
      hint: 'register the service as a ScalableTarget and pass its resourceId to the policy',
      check: async () => {
        try {
          await aas.putScalingPolicy(request(name, args));
          return { done: true, value: undefined };
        } catch (err) {
          if (errorCode(err) === 'ObjectNotFoundException')
            return { done: false, state: 'no scalable target' };
          throw err;
        }
      },
    });
    return fresh(ctx, aas, name, args);
  },

  async update(ctx, found, args) {
    const aas = await ctx.aws.appAutoScaling();
    // PutScalingPolicy replaces the configuration of the policy with that name.
    await aas.putScalingPolicy(request(found.outputs.name, args));
    return fresh(ctx, aas, found.outputs.name, args);
  },

  async delete(ctx, found) {
    const aas = await ctx.aws.appAutoScaling();
    await ignoreNotFound(
      aas.deleteScalingPolicy({
        PolicyName: found.outputs.name,
        ServiceNamespace: 'ecs',
        ResourceId: found.args.resourceId as string,
        ScalableDimension: ECS_DESIRED_COUNT,
      }),
    );
  },
});

/**
 * `xkcd-prod` + `cpu` → `xkcd-prod.cpu`, cut with a hash to AWS's 256. A dot never appears in a stack name,
 * so one stack's prefix never matches another's names (as `xkcd-` would match `xkcd-prod-cpu`).
 */
function policyName(stack: string, name: string): string {
  return `${stack}.${physicalName('', name, { max: 256 - stack.length - 1, allowed: /[A-Za-z0-9_.-]/ })}`;
}

/** Which declared policy each AWS name belongs to. */
function declaredKeys(stack: string, wanted: Wanted<Args>[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const w of wanted) {
    if (typeof w.args.name === 'string' && w.key !== undefined)
      keys.set(policyName(stack, w.args.name), w.key);
  }
  return keys;
}

function request(name: string, args: Args) {
  const metric = args.metric as Metric;
  return {
    PolicyName: name,
    ServiceNamespace: 'ecs' as const,
    ResourceId: serviceResourceId(args.resourceId) as string,
    ScalableDimension: args.scalableDimension,
    PolicyType: 'TargetTrackingScaling' as const,
    TargetTrackingScalingPolicyConfiguration: {
      TargetValue: args.targetValue,
      PredefinedMetricSpecification: {
        PredefinedMetricType: METRICS[metric],
        ResourceLabel: metric === 'requestsPerTarget' ? resourceLabel(args) : undefined,
      },
      ScaleInCooldown: args.scaleInCooldownSeconds,
      ScaleOutCooldown: args.scaleOutCooldownSeconds,
      DisableScaleIn: false,
    },
  };
}

/** `app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>`: the two ARNs' tails, as AWS wants them. */
function resourceLabel(args: Args): string {
  return `${arnTail('loadbalancer')(args.loadBalancerArn)}/targetgroup/${arnTail('targetgroup')(args.targetGroupArn)}`;
}

async function fresh(
  ctx: OpContext,
  aas: ApplicationAutoScaling,
  name: string,
  args: Args,
): Promise<PolicyFound> {
  const ResourceId = serviceResourceId(args.resourceId) as string;
  return ctx.wait({
    what: `scaling policy "${ctx.path}" to be readable`,
    timeoutMs: 2 * 60_000,
    check: async () => {
      const { ScalingPolicies = [] } = await aas.describeScalingPolicies({
        ServiceNamespace: 'ecs',
        ResourceId,
        ScalableDimension: ECS_DESIRED_COUNT,
        PolicyNames: [name],
      });
      const p = ScalingPolicies.find((x) => x.PolicyName === name);
      return p ? { done: true, value: read(p, args.name) } : { done: false, state: 'not visible yet' };
    },
  });
}

function read(p: AwsScalingPolicy, key: string): PolicyFound {
  const config = p.TargetTrackingScalingPolicyConfiguration;
  const spec = config?.PredefinedMetricSpecification;
  const metric = (Object.keys(METRICS) as Metric[]).find((m) => METRICS[m] === spec?.PredefinedMetricType);
  // The policy's own ARN says where the load balancer lives: arn:<partition>:autoscaling:<region>:<account>:…
  const [, partition, , region, account] = p.PolicyARN!.split(':');
  const [lb, tg] = spec?.ResourceLabel?.split('/targetgroup/') ?? [];
  const elb = `arn:${partition}:elasticloadbalancing:${region}:${account}`;
  return {
    key,
    id: p.PolicyARN!,
    args: {
      name: key,
      resourceId: p.ResourceId,
      scalableDimension: p.ScalableDimension as typeof ECS_DESIRED_COUNT,
      // A step or custom-metric policy of the same name reads as a change back to target tracking.
      metric: metric ?? (p.PolicyType as Metric),
      loadBalancerArn: lb ? `${elb}:loadbalancer/${lb}` : undefined,
      targetGroupArn: tg ? `${elb}:targetgroup/${tg}` : undefined,
      targetValue: config?.TargetValue,
      scaleInCooldownSeconds: config?.ScaleInCooldown,
      scaleOutCooldownSeconds: config?.ScaleOutCooldown,
    },
    outputs: { arn: p.PolicyARN!, name: p.PolicyName! },
  };
}
