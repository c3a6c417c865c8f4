import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { Subnet } from './subnet.js';

const t = useLocalAws({ declaredTypesOnly: true });

function network(
  overrides: {
    cidrBlock?: string;
    availabilityZone?: string;
    mapPublicIpOnLaunch?: boolean;
    tags?: Record<string, string>;
  } = {},
) {
  const aws = new AwsStack('subnet-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
  aws.add(Subnet, { name: 'public-a', vpcId: vpc.id, cidrBlock: '10.1.1.0/24', ...overrides }, vpc);
  return aws;
}

interface BotoSubnet {
  SubnetId: string;
  VpcId: string;
  CidrBlock: string;
  AvailabilityZone: string;
  MapPublicIpOnLaunch: boolean;
  Tags: { Key: string; Value: string }[];
}

async function stackSubnets(): Promise<BotoSubnet[]> {
  const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['subnet-test'] }],
  });
  return Subnets;
}

describe('Subnet', () => {
  it('is created in its VPC with its tags, and a second plan shows no changes', async () => {
    const plan = await t.apply(
      network({ availabilityZone: 'us-east-1b', mapPublicIpOnLaunch: true, tags: { tier: 'lb' } }),
    );
    assert.equal(actions(plan)['subnet.main/public-a'], 'create');
    const [subnet, ...others] = await stackSubnets();
    assert.equal(others.length, 0);
    const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['subnet-test'] }],
    });
    assert.equal(subnet!.VpcId, Vpcs[0].VpcId);
    assert.equal(subnet!.CidrBlock, '10.1.1.0/24');
    assert.equal(subnet!.AvailabilityZone, 'us-east-1b');
    assert.equal(subnet!.MapPublicIpOnLaunch, true);
    assert.deepEqual(Object.fromEntries(subnet!.Tags.map((x) => [x.Key, x.Value])), {
      'touchdown:stack': 'subnet-test',
      'touchdown:resource': 'subnet.main/public-a',
      'touchdown:region': 'us-east-1',
      Name: 'main-public-a',
      tier: 'lb',
    });
    assertNoChanges(
      await t.plan(
        network({ availabilityZone: 'us-east-1b', mapPublicIpOnLaunch: true, tags: { tier: 'lb' } }),
      ),
    );
    // The zone AWS has is compared only when one is given.
    assertNoChanges(await t.plan(network({ mapPublicIpOnLaunch: true, tags: { tier: 'lb' } })));
  });

  it('updates public addresses and tags in place', async () => {
    await t.apply(network({ tags: { tier: 'lb' } }));
    const [before] = await stackSubnets();
    const changed = network({ mapPublicIpOnLaunch: true, tags: { tier: 'app' } });
    assert.equal(actions(await t.plan(changed))['subnet.main/public-a'], 'update');
    await t.apply(changed);
    const [after] = await stackSubnets();
    assert.equal(after!.SubnetId, before!.SubnetId);
    assert.equal(after!.MapPublicIpOnLaunch, true);
    assert.ok(after!.Tags.some((x) => x.Key === 'tier' && x.Value === 'app'));
  });

  it('is replaced when its CIDR block changes, and the plan says why', async () => {
    await t.apply(network());
    const [before] = await stackSubnets();
    const plan = await t.plan(network({ cidrBlock: '10.1.2.0/24' }));
    const change = plan.resources.find((r) => r.address === 'subnet.main/public-a')!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['cidrBlock']);
    await t.apply(network({ cidrBlock: '10.1.2.0/24' }));
    const subnets = await stackSubnets();
    assert.equal(subnets.length, 1);
    assert.notEqual(subnets[0]!.SubnetId, before!.SubnetId);
    assert.equal(subnets[0]!.CidrBlock, '10.1.2.0/24');
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(network());
    const [subnet] = await stackSubnets();
    await t.boto.call('ec2', 'DeleteSubnet', { SubnetId: subnet!.SubnetId });
    assert.equal(actions(await t.plan(network()))['subnet.main/public-a'], 'create');
    await t.apply(network());
    assert.equal((await stackSubnets()).length, 1);
  });

  it('is put back after public addresses are turned on outside Touchdown', async () => {
    await t.apply(network());
    const [subnet] = await stackSubnets();
    await t.boto.call('ec2', 'ModifySubnetAttribute', {
      SubnetId: subnet!.SubnetId,
      MapPublicIpOnLaunch: { Value: true },
    });
    const plan = await t.plan(network());
    const change = plan.resources.find((r) => r.address === 'subnet.main/public-a')!;
    assert.deepEqual(change.changes, [{ name: 'mapPublicIpOnLaunch', before: true, after: false }]);
    await t.apply(network());
    assert.equal((await stackSubnets())[0]!.MapPublicIpOnLaunch, false);
  });

  it('is deleted by destroy, before its VPC', async () => {
    await t.apply(network());
    const plan = await t.destroy(network());
    assert.equal(actions(plan)['subnet.main/public-a'], 'delete');
    assert.equal((await stackSubnets()).length, 0);
    const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['subnet-test'] }],
    });
    assert.equal(Vpcs.length, 0);
  });
});
