// ECS cluster: where the stack's services and one-off tasks run. Capacity comes from Fargate, or from
// the instances of a capacity provider that attaches itself (capacity-provider.ts).
import type { Cluster as AwsCluster, CapacityProviderStrategyItem, ECS } from '@aws-sdk/client-ecs';
import { z } from 'zod';
import { type ArgsOf, field, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { errorCode, isNotFound } from '../errors.js';
import { RESOURCE_TAG, STACK_TAG } from '../tags.js';
import {
  chunks,
  ecsName,
  ecsTagList,
  ecsTagMap,
  ecsUserTags,
  stackEcsResources,
  updateEcsTags,
} from './common.js';

const fields = {
  /** The cluster's name in this stack; in AWS it is called `<stack>-<name>`. */
  name: field(z.string().min(1).max(200)),
  /**
   * CloudWatch Container Insights: CPU, memory and task counts per service and task, billed as
   * custom metrics. @default true
   */
  containerInsights: field(z.boolean().default(true)),
  /**
   * Where tasks may run; the first of FARGATE/FARGATE_SPOT listed is the cluster's default.
   * FARGATE_SPOT costs ~70% less and can be interrupted. @default ['FARGATE', 'FARGATE_SPOT']
   */
  capacityProviders: field(z.array(z.string().min(1)).default(['FARGATE', 'FARGATE_SPOT']), {
    unordered: true,
  }),
  tags: field(tags()),
};

export interface EcsClusterOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type ClusterFound = Found<Args, EcsClusterOutputs>;

export const EcsCluster = defineResourceType({
  kind: 'ecs-cluster',
  noun: 'ECS cluster',
  listedAs: 'ecs',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  async find(ctx) {
    const owned = await stackEcsResources(ctx, 'cluster');
    if (owned.length === 0) return [];
    const ecs = await ctx.aws.ecs();
    const clusters = await describeClusters(
      ecs,
      owned.map((o) => o.arn),
    );
    return clusters
      .filter((c) => isLive(c) && ecsTagMap(c.tags)[STACK_TAG] === ctx.stack)
      .map((c) => read(c));
  },

  async create(ctx, args) {
    const ecs = await ctx.aws.ecs();
    const name = ecsName(ctx);
    // CreateCluster answers with the existing cluster when the name is taken: a rerun after a crash is safe.
    await ecs.createCluster({
      clusterName: name,
      settings: [insightsSetting(args.containerInsights)],
      capacityProviders: args.capacityProviders,
      defaultCapacityProviderStrategy: defaultStrategy(args.capacityProviders),
      tags: ecsTagList(ctx.tags(args.tags)),
    });
    return read(await waitActive(ctx, ecs, name));
  },

  async update(ctx, found, args, changed) {
    const ecs = await ctx.aws.ecs();
    const cluster = found.id;
    if (changed.includes('containerInsights')) {
      await ecs.updateCluster({ cluster, settings: [insightsSetting(args.containerInsights)] });
    }
    if (changed.includes('capacityProviders')) {
      await ecs.putClusterCapacityProviders({
        cluster,
        capacityProviders: args.capacityProviders,
        defaultCapacityProviderStrategy: defaultStrategy(args.capacityProviders),
      });
    }
    if (changed.includes('tags')) {
      await updateEcsTags(ecs, found.outputs.arn, found.args.tags ?? {}, args.tags);
    }
    return read(await waitActive(ctx, ecs, cluster));
  },

  async delete(ctx, found) {
    const ecs = await ctx.aws.ecs();
    // Services being deleted drain for minutes; AWS refuses to delete the cluster until they are gone.
    await ctx.wait({
      what: `ECS cluster "${ctx.path}" to be free of services and tasks`,
      timeoutMs: 20 * 60_000,
      hint:
        'services or tasks outside this stack may still run in it: list them with ' +
        `aws ecs list-services --cluster ${found.id}, delete them, then run the same command again`,
      check: async () => {
        try {
          await ecs.deleteCluster({ cluster: found.id });
        } catch (err) {
          if (isNotFound(err)) return { done: true, value: undefined };
          if (/ClusterContains|UpdateInProgress|ResourceInUse/.test(errorCode(err))) {
            return { done: false, state: errorCode(err) };
          }
          throw err;
        }
        return { done: true, value: undefined };
      },
    });
  },
});

function insightsSetting(on: boolean) {
  return { name: 'containerInsights' as const, value: on ? 'enabled' : 'disabled' };
}

/** Fargate first when listed: Spot capacity is there for those who opt in per service. */
export function defaultStrategy(providers: readonly string[]): CapacityProviderStrategyItem[] {
  const first = providers.includes('FARGATE') ? 'FARGATE' : providers[0];
  return first ? [{ capacityProvider: first, weight: 1 }] : [];
}

/** DEPROVISIONING and INACTIVE clusters are on their way out (or gone): not ours to find. */
function isLive(c: AwsCluster): boolean {
  return c.status !== 'INACTIVE' && c.status !== 'DEPROVISIONING';
}

export async function describeClusters(ecs: ECS, names: readonly string[]): Promise<AwsCluster[]> {
  const pages = await Promise.all(
    chunks(names, 100).map((clusters) => ecs.describeClusters({ clusters, include: ['TAGS', 'SETTINGS'] })),
  );
  return pages.flatMap((p) => p.clusters ?? []);
}

/** Until ACTIVE: attaching capacity providers keeps a new cluster PROVISIONING for a moment. */
async function waitActive(ctx: OpContext, ecs: ECS, name: string): Promise<AwsCluster> {
  return ctx.wait({
    what: `ECS cluster "${ctx.path}" to become active`,
    timeoutMs: 10 * 60_000,
    check: async () => {
      const [c] = await describeClusters(ecs, [name]);
      if (c?.status === 'FAILED') {
        throw new Error(
          `the cluster failed to provision its capacity providers (${c.attachmentsStatus ?? 'no reason given'})`,
        );
      }
      const settling = c?.attachmentsStatus?.endsWith('_IN_PROGRESS');
      return c?.status === 'ACTIVE' && !settling
        ? { done: true, value: c }
        : { done: false, state: c?.attachmentsStatus ?? c?.status ?? 'not visible yet' };
    },
  });
}

function read(c: AwsCluster): ClusterFound {
  const t = ecsTagMap(c.tags);
  const insights = c.settings?.find((s) => s.name === 'containerInsights')?.value;
  const name = c.clusterName!;
  return {
    key: t[RESOURCE_TAG] ?? c.clusterArn!,
    id: name,
    args: {
      // 'enhanced' observability includes everything 'enabled' gives.
      containerInsights: insights === undefined ? undefined : insights !== 'disabled',
      capacityProviders: c.capacityProviders ?? [],
      tags: ecsUserTags(t),
    },
    outputs: { name, arn: c.clusterArn! },
  };
}
