import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'ecs-capacity-provider.instances';
const NAME = 'cp-test-instances';
const CLUSTER = 'cp-test-main';

// The network and image come from elsewhere (their own types and tests).
let network: { subnetIds: string[]; imageId: string };
beforeEach(async () => {
  const { Vpc } = await t.boto.call('ec2', 'CreateVpc', { CidrBlock: '10.5.0.0/16' });
  const { Subnet } = await t.boto.call('ec2', 'CreateSubnet', {
    VpcId: Vpc.VpcId,
    CidrBlock: '10.5.1.0/24',
    AvailabilityZone: 'us-east-1a',
  });
  const { ImageId } = await t.boto.call('ec2', 'RegisterImage', { Name: 'ecs', Architecture: 'arm64' });
  network = { subnetIds: [Subnet.SubnetId], imageId: ImageId };
});

interface Options {
  targetCapacity?: number;
  isDefault?: boolean;
  tags?: Record<string, string>;
}

/** web.compute: ec2 in small: a cluster, the group its instances come from, and the provider between them. */
function app(o: Options = {}) {
  const aws = new AwsStack('cp-test');
  const cluster = aws.addEcsCluster({ name: 'main' });
  const template = aws.addLaunchTemplate({
    name: 'instances',
    imageId: network.imageId,
    rootVolume: { sizeGiB: 30 },
  });
  const group = aws.addAutoScalingGroup({
    name: 'instances',
    launchTemplateId: template.id,
    minSize: 1,
    maxSize: 4,
    subnetIds: network.subnetIds,
  });
  aws.addEcsCapacityProvider({
    name: 'instances',
    cluster: cluster.name,
    autoScalingGroupArn: group.arn,
    managedScaling: o.targetCapacity === undefined ? undefined : { targetCapacity: o.targetCapacity },
    default: o.isDefault ?? true,
    tags: o.tags ?? { team: 'web' },
  });
  return aws;
}

async function provider() {
  const { capacityProviders } = await t.boto.call('ecs', 'DescribeCapacityProviders', {
    capacityProviders: [NAME],
    include: ['TAGS'],
  });
  return capacityProviders[0];
}

async function cluster() {
  const { clusters } = await t.boto.call('ecs', 'DescribeClusters', { clusters: [CLUSTER] });
  return clusters[0];
}

const tagsOf = (list: { key: string; value: string }[]) =>
  Object.fromEntries(list.map((x) => [x.key, x.value]));

describe('EcsCapacityProvider', () => {
  it('offers the group to its cluster with managed scaling, as the cluster’s default; a second plan shows no changes', async () => {
    const plan = await t.apply(app());
    assert.equal(actions(plan)[ADDRESS], 'create');
    const p = await provider();
    assert.equal(p.status, 'ACTIVE');
    const { AutoScalingGroups } = await t.boto.call('autoscaling', 'DescribeAutoScalingGroups', {
      AutoScalingGroupNames: ['cp-test-instances'],
    });
    assert.equal(p.autoScalingGroupProvider.autoScalingGroupArn, AutoScalingGroups[0].AutoScalingGroupARN);
    assert.equal(p.autoScalingGroupProvider.managedScaling.status, 'ENABLED');
    assert.equal(p.autoScalingGroupProvider.managedScaling.targetCapacity, 100);
    assert.equal(p.autoScalingGroupProvider.managedTerminationProtection, 'DISABLED');
    assert.equal(p.autoScalingGroupProvider.managedDraining, 'ENABLED');
    assert.deepEqual(tagsOf(p.tags), {
      'touchdown:stack': 'cp-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    // Fargate stays available beside it; tasks started without a strategy land on the instances.
    const c = await cluster();
    assert.deepEqual([...c.capacityProviders].sort(), ['FARGATE', 'FARGATE_SPOT', NAME]);
    assert.deepEqual(
      c.defaultCapacityProviderStrategy.map((s: { capacityProvider: string }) => s.capacityProvider),
      [NAME],
    );
    // The cluster leaves its list to the provider: neither plans a change to it.
    assertNoChanges(await t.plan(app()));
  });

  it('changes its scaling, its default and its tags in place', async () => {
    await t.apply(app());
    const changed = { targetCapacity: 80, isDefault: false, tags: { team: 'ops' } };
    const change = (await t.plan(app(changed))).resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes.map((c) => c.name).sort(), ['default', 'managedScaling', 'tags']);
    await t.apply(app(changed));
    const p = await provider();
    assert.equal(p.autoScalingGroupProvider.managedScaling.targetCapacity, 80);
    assert.equal(tagsOf(p.tags).team, 'ops');
    const c = await cluster();
    assert.ok(c.capacityProviders.includes(NAME), 'still offered to the cluster');
    assert.deepEqual(
      c.defaultCapacityProviderStrategy.map((s: { capacityProvider: string }) => s.capacityProvider),
      ['FARGATE'],
      'the default goes back to Fargate',
    );
    assertNoChanges(await t.plan(app(changed)));
  });

  it('is offered to its cluster again after being taken off it outside Touchdown', async () => {
    await t.apply(app());
    await t.boto.call('ecs', 'PutClusterCapacityProviders', {
      cluster: CLUSTER,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      defaultCapacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }],
    });
    const change = (await t.plan(app())).resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes.map((c) => c.name).sort(), ['cluster', 'default']);
    await t.apply(app());
    assert.ok((await cluster()).capacityProviders.includes(NAME));
    assertNoChanges(await t.plan(app()));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(app());
    await t.boto.call('ecs', 'DeleteCapacityProvider', { capacityProvider: NAME });
    assert.equal(actions(await t.plan(app()))[ADDRESS], 'create');
    await t.apply(app());
    assert.equal((await provider()).status, 'ACTIVE');
    assertNoChanges(await t.plan(app()));
  });

  it('is taken off its cluster and deleted by destroy, before the group it offers', async () => {
    await t.apply(app());
    const plan = await t.destroy(app());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    const { capacityProviders, failures } = await t.boto.call('ecs', 'DescribeCapacityProviders', {
      capacityProviders: [NAME],
    });
    assert.deepEqual(capacityProviders, []);
    assert.equal(failures[0].reason, 'MISSING');
    const { AutoScalingGroups } = await t.boto.call('autoscaling', 'DescribeAutoScalingGroups', {
      AutoScalingGroupNames: ['cp-test-instances'],
    });
    assert.deepEqual(AutoScalingGroups, []);
  });
});
