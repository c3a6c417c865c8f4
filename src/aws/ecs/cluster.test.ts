import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { AwsStack } from '../stack.js';
import { EcsCluster } from './cluster.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'cluster-test';
const NAME = 'cluster-test-main';

type Args = Partial<ArgsInput<typeof EcsCluster.fields>>;

function stack(args: Args = {}) {
  const aws = new AwsStack(STACK);
  aws.add(EcsCluster, { name: 'main', ...args });
  return aws;
}

interface BotoCluster {
  clusterName: string;
  status: string;
  settings: { name: string; value: string }[];
  capacityProviders: string[];
  defaultCapacityProviderStrategy: { capacityProvider: string }[];
  tags: { key: string; value: string }[];
}

async function cluster(): Promise<BotoCluster | undefined> {
  const { clusters } = await t.boto.call('ecs', 'DescribeClusters', {
    clusters: [NAME],
    include: ['TAGS', 'SETTINGS'],
  });
  return (clusters as BotoCluster[]).find((c) => c.status === 'ACTIVE');
}

const insights = (c: BotoCluster | undefined) =>
  c?.settings.find((s) => s.name === 'containerInsights')?.value;

describe('ECS cluster', () => {
  it('is created with Container Insights, Fargate capacity and its tags, and a second plan shows no changes', async () => {
    const plan = await t.apply(stack({ tags: { team: 'web' } }));
    assert.equal(actions(plan)['ecs-cluster.main'], 'create');
    const c = await cluster();
    assert.ok(c, 'the cluster is ACTIVE');
    assert.equal(insights(c), 'enabled');
    assert.deepEqual(c.capacityProviders, ['FARGATE', 'FARGATE_SPOT']);
    assert.equal(c.defaultCapacityProviderStrategy[0]!.capacityProvider, 'FARGATE');
    assert.deepEqual(Object.fromEntries(c.tags.map((x) => [x.key, x.value])), {
      'touchdown:stack': STACK,
      'touchdown:resource': 'ecs-cluster.main',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assertNoChanges(await t.plan(stack({ tags: { team: 'web' } })));
  });

  it('updates Container Insights, capacity providers and tags in place', async () => {
    await t.apply(stack());
    const change = { containerInsights: false, capacityProviders: ['FARGATE'], tags: { env: 'prod' } };
    const plan = await t.plan(stack(change));
    assert.equal(actions(plan)['ecs-cluster.main'], 'update');
    await t.apply(stack(change));
    const c = await cluster();
    assert.equal(insights(c), 'disabled');
    assert.deepEqual(c!.capacityProviders, ['FARGATE']);
    assert.ok(c!.tags.some((x) => x.key === 'env' && x.value === 'prod'));
    assertNoChanges(await t.plan(stack(change)));
  });

  // Nothing forces a cluster's replacement: every argument changes in place (its name is its address).

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(stack());
    await t.boto.call('ecs', 'DeleteCluster', { cluster: NAME });
    assert.equal(actions(await t.plan(stack()))['ecs-cluster.main'], 'create');
    await t.apply(stack());
    assert.ok(await cluster());
  });

  it('is put back after a setting is changed outside Touchdown', async () => {
    await t.apply(stack());
    // moto lacks UpdateClusterSettings; UpdateCluster takes the same settings.
    await t.boto.call('ecs', 'UpdateCluster', {
      cluster: NAME,
      settings: [{ name: 'containerInsights', value: 'disabled' }],
    });
    const plan = await t.plan(stack());
    assert.deepEqual(plan.resources[0]!.changes, [{ name: 'containerInsights', before: false, after: true }]);
    await t.apply(stack());
    assert.equal(insights(await cluster()), 'enabled');
  });

  it('is deleted by destroy', async () => {
    await t.apply(stack());
    const plan = await t.destroy(stack());
    assert.equal(actions(plan)['ecs-cluster.main'], 'delete');
    assert.equal(await cluster(), undefined);
  });
});
