// ECS capacity provider: an auto scaling group's instances as the capacity of a cluster. With managed scaling,
// ECS grows and shrinks the group to fit the tasks placed on it (services, one-off tasks), as Fargate would.
// It attaches itself to its cluster, so that the cluster can be made before the instances that join it.
import type {
  CapacityProvider as AwsCapacityProvider,
  Cluster as AwsCluster,
  CapacityProviderStrategyItem,
  ECS,
} from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { errorCode, isNotFound } from '../errors.js';
import { RESOURCE_TAG, STACK_TAG } from '../tags.js';
import { defaultStrategy, describeClusters } from './cluster.js';
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
  /** The provider's name in this stack; in AWS it is called `<stack>-<name>`. */
  name: field(z.string().min(1).max(200)),
  /** The cluster (name or ARN) whose tasks it runs; its instances must join that cluster (ECS_CLUSTER). */
  cluster: field(input(z.string().min(1)), { normalize: lastPart }),
  /** The auto scaling group (its ARN) whose instances it offers. Changing it means a new provider. */
  autoScalingGroupArn: field(input(z.string().startsWith('arn:')), { replace: true }),
  /** ECS sizes the group to the tasks it has to place. */
  managedScaling: field(
    z
      .strictObject({
        /** @default true */
        enabled: z.boolean().default(true),
        /** How full ECS keeps the instances, in percent: 100 packs them, lower keeps room for bursts. @default 100 */
        targetCapacity: z.number().int().min(1).max(100).default(100),
        /** @default 1 */
        minimumScalingStepSize: z.number().int().min(1).max(10000).default(1),
        /** @default 10000 */
        maximumScalingStepSize: z.number().int().min(1).max(10000).default(10000),
        /** Seconds a new instance needs before it counts. @default 300 */
        instanceWarmupPeriod: z.number().int().min(0).max(10000).default(300),
      })
      .prefault({}),
  ),
  /** ECS moves tasks off an instance before the group ends it (scale-in, a new launch template). @default true */
  managedDraining: field(z.boolean().default(true)),
  /** The cluster's default: tasks started without a launch type or capacity provider run here. @default false */
  default: field(z.boolean().default(false)),
  tags: field(tags()),
};

export interface EcsCapacityProviderOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type ProviderFound = Found<Args, EcsCapacityProviderOutputs>;

/** ECS's own providers, which every cluster may list and no stack owns. */
const FARGATE = ['FARGATE', 'FARGATE_SPOT'];

export const EcsCapacityProvider = defineResourceType({
  kind: 'ecs-capacity-provider',
  noun: 'ECS capacity provider',
  listedAs: 'ecs',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  async find(ctx, wanted) {
    // Providers are found through the clusters they serve, and by the names of those declared.
    const clusters = await stackClusters(ctx);
    const names = new Set(wanted.map((w) => ecsName({ stack: ctx.stack, path: pathOf(w.address) })));
    for (const c of clusters) {
      for (const p of c.capacityProviders ?? []) if (!FARGATE.includes(p)) names.add(p);
    }
    if (names.size === 0) return [];
    const ecs = await ctx.aws.ecs();
    const pages = await Promise.all(
      chunks([...names], 100).map((capacityProviders) =>
        ecs.describeCapacityProviders({ capacityProviders, include: ['TAGS'] }),
      ),
    );
    return pages
      .flatMap((p) => p.capacityProviders ?? [])
      .filter((p) => p.status === 'ACTIVE' && ecsTagMap(p.tags)[STACK_TAG] === ctx.stack)
      .map((p) => read(p, clusters));
  },

  async create(ctx, args) {
    const ecs = await ctx.aws.ecs();
    const name = ecsName(ctx);
    await ecs.createCapacityProvider({
      name,
      autoScalingGroupProvider: {
        autoScalingGroupArn: args.autoScalingGroupArn,
        ...groupSettings(args),
      },
      tags: ecsTagList(ctx.tags(args.tags)),
    });
    await attach(ctx, ecs, args.cluster, name, args.default);
    return fresh(ctx, ecs, name);
  },

  async update(ctx, found, args, changed) {
    const ecs = await ctx.aws.ecs();
    const name = found.id;
    if (changed.includes('managedScaling') || changed.includes('managedDraining')) {
      await ecs.updateCapacityProvider({ name, autoScalingGroupProvider: groupSettings(args) });
      await waitUpdated(ctx, ecs, name);
    }
    if (changed.includes('cluster') && found.args.cluster) {
      await detach(ctx, ecs, found.args.cluster, name);
    }
    if (changed.includes('cluster') || changed.includes('default')) {
      await attach(ctx, ecs, args.cluster, name, args.default);
    }
    if (changed.includes('tags')) {
      await updateEcsTags(ecs, found.outputs.arn, found.args.tags ?? {}, args.tags);
    }
    return fresh(ctx, ecs, name);
  },

  async delete(ctx, found) {
    const ecs = await ctx.aws.ecs();
    const name = found.id;
    // AWS deletes no provider a cluster still lists.
    if (found.args.cluster) await detach(ctx, ecs, found.args.cluster, name);
    await ctx.wait({
      what: `ECS capacity provider "${ctx.path}" to be free to delete`,
      timeoutMs: 20 * 60_000,
      hint: `tasks outside this stack may still use it: look at aws ecs list-tasks --cluster ${lastPart(found.args.cluster ?? '')}`,
      check: async () => {
        try {
          await ecs.deleteCapacityProvider({ capacityProvider: name });
        } catch (err) {
          if (isNotFound(err)) return { done: true, value: undefined };
          if (/ResourceInUse|UpdateInProgress/.test(errorCode(err)))
            return { done: false, state: errorCode(err) };
          throw err;
        }
        return { done: true, value: undefined };
      },
    });
    // Deleting takes AWS a while; until it ends, the name cannot be used again.
    await ctx.wait({
      what: `ECS capacity provider "${ctx.path}" to be deleted`,
      timeoutMs: 20 * 60_000,
      check: async () => {
        const [p] = await describe(ecs, name);
        if (p?.updateStatus === 'DELETE_FAILED') {
          throw new Error(`AWS could not delete it: ${p.updateStatusReason ?? 'no reason given'}`);
        }
        return !p || p.status === 'INACTIVE'
          ? { done: true, value: undefined }
          : { done: false, state: p.updateStatus ?? 'DELETE_IN_PROGRESS' };
      },
    });
  },
});

/** What CreateCapacityProvider and UpdateCapacityProvider share. */
function groupSettings(args: Args) {
  const s = args.managedScaling;
  return {
    managedScaling: {
      status: s.enabled ? ('ENABLED' as const) : ('DISABLED' as const),
      targetCapacity: s.targetCapacity,
      minimumScalingStepSize: s.minimumScalingStepSize,
      maximumScalingStepSize: s.maximumScalingStepSize,
      instanceWarmupPeriod: s.instanceWarmupPeriod,
    },
    // Scale-in protection would have to be on for the group; managed draining empties instances instead.
    managedTerminationProtection: 'DISABLED' as const,
    managedDraining: args.managedDraining ? ('ENABLED' as const) : ('DISABLED' as const),
  };
}

/** `ecs-capacity-provider.instances` → `instances`. */
function pathOf(address: string): string {
  return address.slice(address.indexOf('.') + 1);
}

async function stackClusters(ctx: FindContext): Promise<AwsCluster[]> {
  const owned = await stackEcsResources(ctx, 'cluster');
  if (owned.length === 0) return [];
  const ecs = await ctx.aws.ecs();
  const clusters = await describeClusters(
    ecs,
    owned.map((o) => o.arn),
  );
  return clusters.filter((c) => c.status === 'ACTIVE');
}

/** Lists the provider on the cluster, as its default or not, keeping what else the cluster lists. */
function attach(ctx: OpContext, ecs: ECS, cluster: string, name: string, isDefault: boolean) {
  return putProviders(ctx, ecs, cluster, `to take capacity provider "${ctx.path}"`, (providers, strategy) => {
    const others = strategy.filter((s) => s.capacityProvider !== name);
    const listed = providers.includes(name) ? providers : [...providers, name];
    return {
      providers: listed,
      strategy: isDefault
        ? [{ capacityProvider: name, weight: 1 }]
        : others.length > 0
          ? others
          : defaultStrategy(listed.filter((p) => p !== name)),
    };
  });
}

function detach(ctx: OpContext, ecs: ECS, cluster: string, name: string) {
  return putProviders(
    ctx,
    ecs,
    cluster,
    `to let go of capacity provider "${ctx.path}"`,
    (providers, strategy) => {
      const left = providers.filter((p) => p !== name);
      const others = strategy.filter((s) => s.capacityProvider !== name);
      return { providers: left, strategy: others.length > 0 ? others : defaultStrategy(left) };
    },
  );
}

/**
 * PutClusterCapacityProviders replaces the cluster's whole list: read it, change it, write it, until the
 * cluster has what is wanted (AWS refuses a change while the previous one settles, or while tasks use a provider).
 */
async function putProviders(
  ctx: OpContext,
  ecs: ECS,
  cluster: string,
  what: string,
  change: (
    providers: string[],
    strategy: CapacityProviderStrategyItem[],
  ) => { providers: string[]; strategy: CapacityProviderStrategyItem[] },
): Promise<void> {
  await ctx.wait({
    what: `ECS cluster ${lastPart(cluster)} ${what}`,
    timeoutMs: 20 * 60_000,
    hint: `tasks may still run on the provider: look at aws ecs list-tasks --cluster ${lastPart(cluster)}`,
    check: async () => {
      const [c] = await describeClusters(ecs, [cluster]);
      if (!c || c.status === 'INACTIVE') return { done: true, value: undefined };
      if (c.attachmentsStatus?.endsWith('_IN_PROGRESS')) return { done: false, state: c.attachmentsStatus };
      const providers = c.capacityProviders ?? [];
      const strategy = (c.defaultCapacityProviderStrategy ?? []).map(
        ({ capacityProvider, weight, base }) => ({
          capacityProvider,
          weight,
          base,
        }),
      );
      const wanted = change(providers, strategy);
      if (sameProviders(providers, strategy, wanted)) return { done: true, value: undefined };
      try {
        await ecs.putClusterCapacityProviders({
          cluster,
          capacityProviders: wanted.providers,
          defaultCapacityProviderStrategy: wanted.strategy,
        });
      } catch (err) {
        if (/ResourceInUse|UpdateInProgress/.test(errorCode(err)))
          return { done: false, state: errorCode(err) };
        throw err;
      }
      return { done: false, state: 'updating' };
    },
  });
}

function sameProviders(
  providers: string[],
  strategy: CapacityProviderStrategyItem[],
  wanted: { providers: string[]; strategy: CapacityProviderStrategyItem[] },
): boolean {
  const names = (s: CapacityProviderStrategyItem[]) => s.map((i) => `${i.capacityProvider}:${i.weight ?? 0}`);
  return (
    JSON.stringify([...providers].sort()) === JSON.stringify([...wanted.providers].sort()) &&
    JSON.stringify(names(strategy)) === JSON.stringify(names(wanted.strategy))
  );
}

async function describe(ecs: ECS, name: string): Promise<AwsCapacityProvider[]> {
  const { capacityProviders = [] } = await ecs.describeCapacityProviders({
    capacityProviders: [name],
    include: ['TAGS'],
  });
  return capacityProviders;
}

/** Until an update has settled: AWS applies it to the group's scaling policy in the background. */
async function waitUpdated(ctx: OpContext, ecs: ECS, name: string): Promise<void> {
  await ctx.wait({
    what: `ECS capacity provider "${ctx.path}" to apply its update`,
    timeoutMs: 10 * 60_000,
    check: async () => {
      const [p] = await describe(ecs, name);
      if (p?.updateStatus === 'UPDATE_FAILED') {
        throw new Error(`the update failed: ${p.updateStatusReason ?? 'no reason given'}`);
      }
      return p?.updateStatus === 'UPDATE_IN_PROGRESS'
        ? { done: false, state: p.updateStatus }
        : { done: true, value: undefined };
    },
  });
}

async function fresh(ctx: OpContext, ecs: ECS, name: string): Promise<ProviderFound> {
  const [p] = await describe(ecs, name);
  if (!p) throw new Error(`the capacity provider ${name} is not visible after being written`);
  return read(p, await stackClusters(ctx));
}

function read(p: AwsCapacityProvider, clusters: AwsCluster[]): ProviderFound {
  const name = p.name!;
  const t = ecsTagMap(p.tags);
  const group = p.autoScalingGroupProvider;
  const scaling = group?.managedScaling;
  const cluster = clusters.find((c) => c.capacityProviders?.includes(name));
  return {
    key: t[RESOURCE_TAG] ?? p.capacityProviderArn!,
    id: name,
    args: {
      // Undefined when no cluster of the stack lists it: the plan attaches it again.
      cluster: cluster?.clusterArn,
      autoScalingGroupArn: group?.autoScalingGroupArn,
      managedScaling: {
        enabled: scaling?.status === 'ENABLED',
        targetCapacity: scaling?.targetCapacity ?? 100,
        minimumScalingStepSize: scaling?.minimumScalingStepSize ?? 1,
        maximumScalingStepSize: scaling?.maximumScalingStepSize ?? 10000,
        instanceWarmupPeriod: scaling?.instanceWarmupPeriod ?? 300,
      },
      managedDraining: group?.managedDraining !== 'DISABLED',
      default: cluster?.defaultCapacityProviderStrategy?.some((s) => s.capacityProvider === name) ?? false,
      tags: ecsUserTags(t),
    },
    outputs: { name, arn: p.capacityProviderArn! },
  };
}
