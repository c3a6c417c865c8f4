// ECS service: keeps N copies of a task definition running on Fargate (or a cluster's own instances through a
// capacity provider), behind load balancers if given.
// Updates send only what changed: scaling never moves the service to another revision (seed 001, issue 1).
import { randomUUID } from 'node:crypto';
import type {
  Service as AwsService,
  ECS,
  LoadBalancer,
  UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { afterIamPropagation } from '../iam/propagation.js';
import { RESOURCE_TAG, STACK_TAG } from '../tags.js';
import {
  chunks,
  ecsName,
  ecsTagList,
  ecsTagMap,
  ecsUserTags,
  lastPart,
  stackEcsResources,
  updateEcsTags,
} from './common.js';

const fields = {
  /** The service's name in this stack; in AWS it is called `<stack>-<name>`. */
  name: field(z.string().min(1).max(200)),
  /** The cluster it runs in (name or ARN). Changing it means a new service. */
  cluster: field(input(z.string().min(1)), { replace: true, normalize: lastPart }),
  /** The task definition revision to run (its ARN). */
  taskDefinition: field(input(z.string().min(1)), { normalize: lastPart }),
  /** How many tasks to keep running. @default 1 */
  desiredCount: field(z.number().int().min(0).max(5000).default(1)),
  /** 'FARGATE', or 'EC2' for the cluster's own instances. Changing it means a new service. @default 'FARGATE' */
  launchType: field(z.enum(['FARGATE', 'EC2']).default('FARGATE'), { replace: true }),
  /**
   * Runs the tasks through this capacity provider of the cluster (an EcsCapacityProvider's name), which scales its
   * instances to fit them; launchType is then 'EC2'. @default none: the launch type alone
   */
  capacityProvider: field(input(z.string().min(1)).optional()),
  /** The subnets and security groups of the tasks' network interfaces. */
  network: field(
    z.strictObject({
      subnetIds: z
        .array(input(z.string().min(1)))
        .min(1)
        .max(16),
      securityGroupIds: z
        .array(input(z.string().min(1)))
        .min(1)
        .max(5),
      /** A public IP for each task: only for public subnets without a NAT. @default false */
      assignPublicIp: z.boolean().default(false),
    }),
    { normalize: sortedNetwork },
  ),
  /** Target groups the tasks are registered with. @default [] */
  loadBalancers: field(
    z
      .array(
        z.strictObject({
          targetGroupArn: input(z.string().startsWith('arn:')),
          /** The container (in the task definition) traffic goes to. */
          containerName: z.string().min(1),
          containerPort: z.number().int().min(1).max(65535),
          /** For a blue/green deployment: where the new tasks wait, the rule ECS switches, the role it does it with. */
          blueGreen: z
            .strictObject({
              alternateTargetGroupArn: input(z.string().startsWith('arn:')),
              productionListenerRuleArn: input(z.string().startsWith('arn:')),
              roleArn: input(z.string().startsWith('arn:')),
            })
            .optional(),
        }),
      )
      .max(5)
      .default([]),
    { unordered: true, normalize: servingEitherGroup },
  ),
  /** Seconds after a task starts during which failed load balancer health checks are ignored. @default AWS's (0) */
  healthCheckGracePeriodSeconds: field(z.number().int().min(0).max(2_147_483_647).optional()),
  /** How a new revision replaces the running one. */
  deployment: field(
    z
      .strictObject({
        /**
         * ROLLING replaces tasks in batches (old and new serve together for a while); BLUE_GREEN starts the new
         * tasks beside the old and moves all traffic at once when they are healthy. @default 'ROLLING'
         */
        strategy: z.enum(['ROLLING', 'BLUE_GREEN']).default('ROLLING'),
        /** BLUE_GREEN: minutes the old tasks stay up after the switch, ready to take traffic back. @default 0 */
        bakeTimeInMinutes: z.number().int().min(0).max(1440).default(0),
        // 100/200: old tasks serve until new ones pass health checks, all replaced in one round:
        // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html
        /** Share of desiredCount kept running during a deployment. @default 100 */
        minimumHealthyPercent: z.number().int().min(0).max(100).default(100),
        /** Share of desiredCount that may run during a deployment. @default 200 */
        maximumPercent: z.number().int().min(100).max(400).default(200),
        // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
        /** Stops (and by default rolls back) a deployment whose tasks keep failing. */
        circuitBreaker: z
          .strictObject({
            /** @default true */
            enable: z.boolean().default(true),
            /** Go back to the last working deployment. @default true */
            rollback: z.boolean().default(true),
          })
          .prefault({}),
      })
      .prefault({}),
  ),
  /** `touchdown manage` and `aws ecs execute-command` open a shell in running tasks. @default true */
  enableExecuteCommand: field(z.boolean().default(true)),
  /** Whose tags the tasks get. @default 'SERVICE' */
  propagateTags: field(z.enum(['SERVICE', 'TASK_DEFINITION', 'NONE']).default('SERVICE')),
  tags: field(tags()),
};

export interface EcsServiceOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type ServiceFound = Found<Args, EcsServiceOutputs>;

/** A real deployment: start tasks, pass health checks, drain the old ones. Stuck ones end by the circuit breaker. */
const STABLE_TIMEOUT_MS = 30 * 60_000;

export const EcsService = defineResourceType({
  kind: 'ecs-service',
  noun: 'ECS service',
  listedAs: 'ecs',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 120, update: 120, delete: 300 },
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    if (args.healthCheckGracePeriodSeconds !== undefined && (args.loadBalancers ?? []).length === 0) {
      problems.push(
        'healthCheckGracePeriodSeconds: only used with loadBalancers; remove it or add a target group',
      );
    }
    if (args.capacityProvider !== undefined && args.launchType !== 'EC2') {
      problems.push(`capacityProvider: a provider's instances run EC2 tasks; set launchType: 'EC2'`);
    }
    const d = args.deployment;
    if (d?.strategy === 'BLUE_GREEN' && !(args.loadBalancers ?? []).some((lb) => lb.blueGreen)) {
      problems.push(
        'deployment.strategy: BLUE_GREEN needs a load balancer with blueGreen (alternate target group, ' +
          'production listener rule and role); add it or use ROLLING',
      );
    }
    if (d && d.maximumPercent <= d.minimumHealthyPercent) {
      problems.push(
        `deployment: maximumPercent (${d.maximumPercent}) must be above minimumHealthyPercent ` +
          `(${d.minimumHealthyPercent}), or a deployment can neither start new tasks nor stop old ones`,
      );
    }
    return problems;
  },

  async find(ctx) {
    const owned = await stackEcsResources(ctx, 'service');
    // ARNs name the cluster (`service/<cluster>/<name>`); AWS retired the short form without it.
    const byCluster = new Map<string, string[]>();
    for (const { arn } of owned) {
      const [, cluster, name] = arn.split(':').at(-1)!.split('/');
      if (cluster && name) byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), name]);
    }
    const ecs = await ctx.aws.ecs();
    const described = await Promise.all(
      [...byCluster].flatMap(([cluster, names]) =>
        chunks(names, 10).map((services) => describeServices(ecs, cluster, services)),
      ),
    );
    return described
      .flat()
      .filter((s) => s.status === 'ACTIVE' && ecsTagMap(s.tags)[STACK_TAG] === ctx.stack)
      .map(read);
  },

  async create(ctx, args) {
    const ecs = await ctx.aws.ecs();
    const name = ecsName(ctx);
    await waitNameFree(ctx, ecs, args.cluster, name);
    const clientToken = randomUUID();
    // ECS's service-linked role, or a blue/green role made a moment ago, may not be assumable yet.
    await afterIamPropagation(ctx, ECS_ROLE_USER, () =>
      ecs.createService({
        cluster: args.cluster,
        serviceName: name,
        taskDefinition: args.taskDefinition,
        desiredCount: args.desiredCount,
        ...placement(args),
        networkConfiguration: networkConfiguration(args.network),
        loadBalancers: loadBalancers(args.loadBalancers),
        healthCheckGracePeriodSeconds: args.healthCheckGracePeriodSeconds,
        deploymentConfiguration: deploymentConfiguration(args.deployment),
        deploymentController: { type: 'ECS' },
        schedulingStrategy: 'REPLICA',
        enableExecuteCommand: args.enableExecuteCommand,
        propagateTags: args.propagateTags,
        tags: ecsTagList(ctx.tags(args.tags)),
        clientToken,
      }),
    );
    return read(await waitStable(ctx, ecs, args.cluster, name, args.taskDefinition));
  },

  async update(ctx, found, args, changed) {
    const ecs = await ctx.aws.ecs();
    const cluster = found.args.cluster!;
    const service = found.id;
    const request: UpdateServiceCommandInput = { cluster, service };
    // Only what changed: a scaling change must not send the task definition along with it.
    if (changed.includes('desiredCount')) request.desiredCount = args.desiredCount;
    if (changed.includes('taskDefinition')) request.taskDefinition = args.taskDefinition;
    if (changed.includes('network')) request.networkConfiguration = networkConfiguration(args.network);
    if (changed.includes('capacityProvider') && args.capacityProvider !== undefined) {
      request.capacityProviderStrategy = placement(args).capacityProviderStrategy;
      // Running tasks stay where they are until replaced.
      request.forceNewDeployment = true;
    }
    if (changed.includes('loadBalancers')) request.loadBalancers = loadBalancers(args.loadBalancers);
    if (changed.includes('healthCheckGracePeriodSeconds')) {
      request.healthCheckGracePeriodSeconds = args.healthCheckGracePeriodSeconds;
    }
    if (changed.includes('deployment')) {
      request.deploymentConfiguration = deploymentConfiguration(args.deployment);
    }
    if (changed.includes('propagateTags')) request.propagateTags = args.propagateTags;
    if (changed.includes('enableExecuteCommand')) {
      request.enableExecuteCommand = args.enableExecuteCommand;
      // Running tasks get (or lose) the exec agent only when they are replaced.
      request.forceNewDeployment = true;
    }
    const serviceChanges = changed.filter((c) => c !== 'tags');
    if (serviceChanges.length > 0)
      await afterIamPropagation(ctx, ECS_ROLE_USER, () => ecs.updateService(request));
    if (changed.includes('tags')) {
      await updateEcsTags(ecs, found.outputs.arn, found.args.tags ?? {}, args.tags);
    }
    const now =
      serviceChanges.length > 0
        ? await waitStable(ctx, ecs, cluster, service, args.taskDefinition)
        : await describeOne(ecs, cluster, service);
    if (!now) throw new Error(`the service ${service} disappeared while being updated`);
    return read(now);
  },

  async delete(ctx, found) {
    const ecs = await ctx.aws.ecs();
    const cluster = found.args.cluster!;
    const service = found.id;
    // Scaling to zero first lets the tasks drain from their target groups before the service goes.
    await ignoreNotFound(
      ecs.updateService({ cluster, service, desiredCount: 0 }),
      'ServiceNotActiveException',
    );
    await ignoreNotFound(ecs.deleteService({ cluster, service, force: true }), 'ServiceNotActiveException');
    await ctx.wait({
      what: `ECS service "${ctx.path}" to drain`,
      timeoutMs: 20 * 60_000,
      hint:
        'its tasks are still stopping: a target group deregistration delay (300 s by default) or a task that ' +
        `ignores SIGTERM holds them up. Look at aws ecs describe-services --cluster ${lastPart(cluster)} ` +
        `--services ${service}, then run the same command again`,
      check: async () => {
        const s = await describeOne(ecs, cluster, service);
        if (!s || s.status === 'INACTIVE') return { done: true, value: undefined };
        return { done: false, state: `${s.status}, ${s.runningCount ?? 0} tasks running` };
      },
    });
  },
});

/** Each blue/green deployment swaps which of the two target groups serves: either order is the same setup. */
function servingEitherGroup(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return (value as Args['loadBalancers']).map((lb) => {
    const bg = lb.blueGreen;
    if (!bg || lb.targetGroupArn <= bg.alternateTargetGroupArn) return lb;
    return {
      ...lb,
      targetGroupArn: bg.alternateTargetGroupArn,
      blueGreen: { ...bg, alternateTargetGroupArn: lb.targetGroupArn },
    };
  });
}

/** A capacity provider strategy, or the launch type alone: AWS takes one or the other. */
function placement(args: Args) {
  return args.capacityProvider === undefined
    ? { launchType: args.launchType }
    : { capacityProviderStrategy: [{ capacityProvider: args.capacityProvider, weight: 1 }] };
}

function sortedNetwork(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const n = value as Args['network'];
  const sorted = (list: unknown) => (Array.isArray(list) ? [...list].sort() : list);
  return { ...n, subnetIds: sorted(n.subnetIds), securityGroupIds: sorted(n.securityGroupIds) };
}

function networkConfiguration(n: Args['network']) {
  return {
    awsvpcConfiguration: {
      subnets: n.subnetIds,
      securityGroups: n.securityGroupIds,
      assignPublicIp: n.assignPublicIp ? ('ENABLED' as const) : ('DISABLED' as const),
    },
  };
}

function deploymentConfiguration(d: Args['deployment']) {
  return {
    strategy: d.strategy,
    ...(d.strategy === 'BLUE_GREEN' ? { bakeTimeInMinutes: d.bakeTimeInMinutes } : {}),
    minimumHealthyPercent: d.minimumHealthyPercent,
    maximumPercent: d.maximumPercent,
    deploymentCircuitBreaker: { enable: d.circuitBreaker.enable, rollback: d.circuitBreaker.rollback },
  };
}

/** ECS assumes its service-linked role, and a blue/green deployment's role, when a service is made or changed. */
const ECS_ROLE_USER = { noun: 'ECS service', service: 'ECS', principal: 'ecs.amazonaws.com' };

function loadBalancers(list: Args['loadBalancers']): LoadBalancer[] {
  return list.map(({ blueGreen, ...lb }) => ({
    ...lb,
    ...(blueGreen
      ? {
          advancedConfiguration: {
            alternateTargetGroupArn: blueGreen.alternateTargetGroupArn,
            productionListenerRule: blueGreen.productionListenerRuleArn,
            roleArn: blueGreen.roleArn,
          },
        }
      : {}),
  }));
}

async function describeServices(ecs: ECS, cluster: string, services: string[]): Promise<AwsService[]> {
  // A cluster deleted since the tagging API listed its services holds none.
  const r = await ignoreNotFound(ecs.describeServices({ cluster, services, include: ['TAGS'] }));
  return r?.services ?? [];
}

async function describeOne(ecs: ECS, cluster: string, name: string): Promise<AwsService | undefined> {
  const [s] = await describeServices(ecs, cluster, [name]);
  return s;
}

/** A deleted service keeps its name while it drains; a new one of that name must wait. */
async function waitNameFree(ctx: OpContext, ecs: ECS, cluster: string, name: string): Promise<void> {
  await ctx.wait({
    what: `the previous ECS service "${ctx.path}" to finish draining`,
    timeoutMs: 20 * 60_000,
    check: async () => {
      const s = await describeOne(ecs, cluster, name);
      return s?.status === 'DRAINING' ? { done: false, state: 'DRAINING' } : { done: true, value: undefined };
    },
  });
}

/**
 * Until the primary deployment has all its tasks running and no other deployment is left: what
 * AWS's own services-stable waiter checks. A deployment the circuit breaker failed fails the step, and so does
 * its rollback: the service is stable then, but on the previous task definition.
 */
async function waitStable(
  ctx: OpContext,
  ecs: ECS,
  cluster: string,
  name: string,
  taskDefinition: string,
): Promise<AwsService> {
  const clusterName = lastPart(cluster);
  return ctx.wait({
    what: `ECS service "${ctx.path}" (${name}) to become stable`,
    timeoutMs: STABLE_TIMEOUT_MS,
    hint:
      `look at the service's events (aws ecs describe-services --cluster ${clusterName} --services ${name}) ` +
      `and at why its tasks stopped (aws ecs list-tasks --cluster ${clusterName} --service-name ${name} ` +
      '--desired-status STOPPED, then aws ecs describe-tasks): usually the image cannot be pulled, the ' +
      'container exits at start, or the load balancer health check fails',
    check: async () => {
      const s = await describeOne(ecs, cluster, name);
      if (!s) return { done: false, state: 'not visible yet' };
      const primary = s.deployments?.find((d) => d.status === 'PRIMARY');
      const ours = s.deployments?.find((d) => revision(d.taskDefinition) === revision(taskDefinition));
      const failed =
        primary?.rolloutState === 'FAILED' ? primary : ours?.rolloutState === 'FAILED' ? ours : undefined;
      if (failed) {
        throw new Error(
          `its deployment failed: ${(failed.rolloutStateReason ?? 'no reason given').replace(/\.$/, '')}${recentEvents(s)}`,
        );
      }
      // The circuit breaker's rollback puts the last completed task definition back on the service.
      if (s.taskDefinition && revision(s.taskDefinition) !== revision(taskDefinition)) {
        throw new Error(
          `its deployment failed and ECS rolled back to ${revision(s.taskDefinition)}${recentEvents(s)}`,
        );
      }
      const stable =
        (s.deployments?.length ?? 0) <= 1 &&
        s.runningCount === s.desiredCount &&
        primary?.rolloutState !== 'IN_PROGRESS';
      if (stable) return { done: true, value: s };
      const rollout = primary?.rolloutState ? `, deployment ${primary.rolloutState}` : '';
      const others =
        (s.deployments?.length ?? 0) > 1 ? `, ${s.deployments!.length - 1} older deployment(s) draining` : '';
      const last = s.events?.[0]?.message;
      return {
        done: false,
        state: `${s.runningCount ?? 0} of ${s.desiredCount ?? 0} tasks running${rollout}${others}${last ? `; last event: ${last}` : ''}`,
      };
    },
  });
}

function launchTypeOf(strategy: AwsService['capacityProviderStrategy']): string | undefined {
  const provider = strategy?.[0]?.capacityProvider;
  if (provider === undefined) return undefined;
  return provider.startsWith('FARGATE') ? 'FARGATE' : 'EC2';
}

/** `family:revision` of a task definition's ARN (or of `family:revision` itself). */
function revision(taskDefinition: string | undefined): string | undefined {
  return taskDefinition?.split('/').at(-1);
}

/** The service's last few events (newest first), which say why tasks failed. */
function recentEvents(s: AwsService): string {
  const messages = (s.events ?? []).slice(0, 3).map((e) => e.message);
  return messages.length > 0 ? `. Latest events: ${messages.join(' | ')}` : '';
}

function read(s: AwsService): ServiceFound {
  const t = ecsTagMap(s.tags);
  const net = s.networkConfiguration?.awsvpcConfiguration;
  const d = s.deploymentConfiguration;
  const args: Partial<Args> = {
    cluster: s.clusterArn,
    taskDefinition: s.taskDefinition,
    desiredCount: s.desiredCount,
    // A service placed by a capacity provider strategy reports no launch type.
    launchType: (s.launchType ?? launchTypeOf(s.capacityProviderStrategy)) as Args['launchType'],
    network: {
      subnetIds: net?.subnets ?? [],
      securityGroupIds: net?.securityGroups ?? [],
      assignPublicIp: net?.assignPublicIp === 'ENABLED',
    },
    loadBalancers: (s.loadBalancers ?? []).map((lb) => {
      const bg = lb.advancedConfiguration;
      return {
        targetGroupArn: lb.targetGroupArn!,
        containerName: lb.containerName!,
        containerPort: lb.containerPort!,
        ...(bg
          ? {
              blueGreen: {
                alternateTargetGroupArn: bg.alternateTargetGroupArn!,
                productionListenerRuleArn: bg.productionListenerRule!,
                roleArn: bg.roleArn!,
              },
            }
          : {}),
      };
    }),
    propagateTags: (s.propagateTags ?? 'NONE') as Args['propagateTags'],
    tags: ecsUserTags(t),
  };
  // Compared only when AWS reports them.
  if (d) {
    args.deployment = {
      strategy: (d.strategy ?? 'ROLLING') as 'ROLLING' | 'BLUE_GREEN',
      bakeTimeInMinutes: d.bakeTimeInMinutes ?? 0,
      minimumHealthyPercent: d.minimumHealthyPercent ?? 100,
      maximumPercent: d.maximumPercent ?? 200,
      circuitBreaker: {
        enable: d.deploymentCircuitBreaker?.enable ?? false,
        rollback: d.deploymentCircuitBreaker?.rollback ?? false,
      },
    };
  }
  // Compared only when AWS reports a strategy.
  const provider = s.capacityProviderStrategy?.[0]?.capacityProvider;
  if (provider !== undefined) args.capacityProvider = provider;
  if (s.enableExecuteCommand !== undefined) args.enableExecuteCommand = s.enableExecuteCommand;
  if (s.healthCheckGracePeriodSeconds !== undefined)
    args.healthCheckGracePeriodSeconds = s.healthCheckGracePeriodSeconds;
  const name = s.serviceName!;
  return {
    key: t[RESOURCE_TAG] ?? s.serviceArn!,
    id: name,
    args,
    outputs: { name, arn: s.serviceArn! },
    // `touchdown status` shows it from the plan's read, without asking again.
    state: { runningCount: s.runningCount ?? 0 },
  };
}
