// Scalable target: lets Application Auto Scaling change an ECS service's task count between a floor and a ceiling.
import type {
  ApplicationAutoScaling,
  ScalableTarget as AwsScalableTarget,
} from '@aws-sdk/client-application-auto-scaling';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { stackResources } from '../tagging.js';

export const ECS_DESIRED_COUNT = 'ecs:service:DesiredCount';

/** An ECS service's ARN, `arn:aws:ecs:…:service/<cluster>/<service>`, reads as `service/<cluster>/<service>`. */
export function serviceResourceId(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const m = /^arn:[^:]+:ecs:[^:]*:[^:]*:(service\/[^/]+\/[^/]+)$/.exec(value);
  return m ? m[1] : value;
}

/** `service/<cluster>/<service>`, or the service's ARN. */
export const ecsServiceId = () =>
  input(
    z.string().refine((v) => /^service\/[^/]+\/[^/]+$/.test(String(serviceResourceId(v))), {
      message: 'write it as service/<cluster>/<service>, or pass the ECS service ARN',
    }),
  );

const fields = {
  /** A label for the target in this stack. */
  name: field(z.string().min(1).max(200)),
  /** @default 'ecs'. Changing it means a new target. */
  serviceNamespace: field(z.literal('ecs').default('ecs'), { replace: true }),
  /** The ECS service, as `service/<cluster>/<service>` or its ARN. Changing it means a new target. */
  resourceId: field(ecsServiceId(), { replace: true, normalize: serviceResourceId }),
  /** @default 'ecs:service:DesiredCount'. Changing it means a new target. */
  scalableDimension: field(z.literal(ECS_DESIRED_COUNT).default(ECS_DESIRED_COUNT), { replace: true }),
  /** Fewest tasks scaling may leave running. */
  minCapacity: field(z.number().int().min(0)),
  /** Most tasks scaling may start. */
  maxCapacity: field(z.number().int().min(0)),
  /**
   * Tags given when the target is registered. DescribeScalableTargets does not return them, so they are not
   * compared afterwards: a change to tags alone changes nothing.
   */
  tags: field(tags(), { writeOnly: true }),
};

export interface ScalableTargetOutputs {
  /** `service/<cluster>/<service>`: pass it to a scaling policy so that the policy comes after the target. */
  resourceId: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type TargetFound = Found<Args, ScalableTargetOutputs>;

export const ScalableTarget = defineResourceType({
  kind: 'scalable-target',
  noun: 'scalable target',
  listedAs: 'ecs',
  fields,
  outputs: ['resourceId', 'arn'],
  defaultOutput: 'resourceId',
  // One target per service and dimension: the service says which; its tags cannot be read where it is found.
  identity: { by: 'name', name: (args) => serviceResourceId(args.resourceId) },

  check(args) {
    const { minCapacity: min, maxCapacity: max } = args;
    return min !== undefined && max !== undefined && min > max
      ? [`minCapacity: ${min} is more than maxCapacity ${max}`]
      : [];
  },

  async find(ctx, wanted) {
    const aas = await ctx.aws.appAutoScaling();
    // The stack's targets are those of its own ECS services (one tagging call) and those it declares by id.
    const declared = wanted
      .map((w) => serviceResourceId(w.args.resourceId))
      .filter((v) => typeof v === 'string');
    const ids = [...new Set([...(await stackServiceIds(ctx)), ...declared])];
    const targets = await describeTargets(aas, ids);
    return targets.map(read);
  },

  async create(ctx, args) {
    const aas = await ctx.aws.appAutoScaling();
    const resourceId = serviceResourceId(args.resourceId) as string;
    await aas.registerScalableTarget({
      ...request(args),
      // Owned through its service; the ownership tags still say who made it in the console.
      Tags: ctx.tags(args.tags),
    });
    return fresh(ctx, aas, resourceId);
  },

  async update(ctx, found, args) {
    const aas = await ctx.aws.appAutoScaling();
    // Registering again changes the capacities of the existing target.
    await aas.registerScalableTarget(request(args));
    return fresh(ctx, aas, found.id);
  },

  async delete(ctx, found) {
    const aas = await ctx.aws.appAutoScaling();
    await ignoreNotFound(
      aas.deregisterScalableTarget({
        ServiceNamespace: 'ecs',
        ResourceId: found.id,
        ScalableDimension: ECS_DESIRED_COUNT,
      }),
    );
  },
});

function request(args: Args) {
  return {
    ServiceNamespace: args.serviceNamespace,
    ResourceId: serviceResourceId(args.resourceId) as string,
    ScalableDimension: args.scalableDimension,
    MinCapacity: args.minCapacity,
    MaxCapacity: args.maxCapacity,
  };
}

/** `service/<cluster>/<service>` of every ECS service tagged as the stack's. */
async function stackServiceIds(ctx: FindContext): Promise<string[]> {
  const ids: string[] = [];
  for (const r of await stackResources(ctx, ['ecs:service'])) {
    const id = serviceResourceId(r.arn);
    if (typeof id === 'string' && id.startsWith('service/')) ids.push(id);
  }
  return ids;
}

/** The ECS targets of the given services, fifty services a call. */
async function describeTargets(aas: ApplicationAutoScaling, ids: string[]): Promise<AwsScalableTarget[]> {
  const batches: string[][] = [];
  for (let i = 0; i < ids.length; i += 50) batches.push(ids.slice(i, i + 50));
  const pages = await Promise.all(
    batches.map((ResourceIds) =>
      allPages(
        (NextToken) =>
          aas.describeScalableTargets({
            ServiceNamespace: 'ecs',
            ResourceIds,
            ScalableDimension: ECS_DESIRED_COUNT,
            NextToken,
          }),
        (p) => p.ScalableTargets,
      ),
    ),
  );
  return pages.flat();
}

/** Registration is synchronous, but reads may lag a moment behind it. */
async function fresh(ctx: OpContext, aas: ApplicationAutoScaling, resourceId: string): Promise<TargetFound> {
  return ctx.wait({
    what: `scalable target "${ctx.path}" to be readable`,
    timeoutMs: 2 * 60_000,
    check: async () => {
      const [target] = await describeTargets(aas, [resourceId]);
      return target ? { done: true, value: read(target) } : { done: false, state: 'not visible yet' };
    },
  });
}

function read(target: AwsScalableTarget): TargetFound {
  const resourceId = target.ResourceId!;
  return {
    key: resourceId,
    id: resourceId,
    args: {
      serviceNamespace: target.ServiceNamespace as 'ecs',
      resourceId,
      scalableDimension: target.ScalableDimension as typeof ECS_DESIRED_COUNT,
      minCapacity: target.MinCapacity,
      maxCapacity: target.MaxCapacity,
    },
    outputs: { resourceId, arn: target.ScalableTargetARN! },
  };
}
