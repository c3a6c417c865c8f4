import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { ElasticIp } from './elastic-ip.js';
import { NatGateway } from './nat-gateway.js';
import { Subnet } from './subnet.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'nat-gateway.main/nat';

function network(overrides: { useSecondIp?: boolean; tags?: Record<string, string> } = {}) {
  const aws = new AwsStack('nat-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
  const subnet = aws.add(Subnet, { name: 'public-a', vpcId: vpc.id, cidrBlock: '10.1.1.0/24' }, vpc);
  const first = aws.add(ElasticIp, { name: 'nat-ip' });
  const second = aws.add(ElasticIp, { name: 'nat-ip-2' });
  aws.add(
    NatGateway,
    {
      name: 'nat',
      subnetId: subnet.id,
      allocationId: overrides.useSecondIp ? second.id : first.id,
      tags: overrides.tags,
    },
    vpc,
  );
  return aws;
}

interface BotoNat {
  NatGatewayId: string;
  State: string;
  SubnetId: string;
  ConnectivityType: string;
  NatGatewayAddresses: { AllocationId: string; AssociationId: string }[];
  Tags: { Key: string; Value: string }[];
}

const tagsOf = (x: { Tags: { Key: string; Value: string }[] }) =>
  Object.fromEntries(x.Tags.map((tag) => [tag.Key, tag.Value]));

// moto's DescribeNatGateways ignores tag filters: select this stack's live gateways here.
async function stackGateways(): Promise<BotoNat[]> {
  const { NatGateways } = await t.boto.call('ec2', 'DescribeNatGateways', {});
  return (NatGateways as BotoNat[]).filter(
    (n) => n.State !== 'deleted' && tagsOf(n)['touchdown:stack'] === 'nat-test',
  );
}

async function byAddress(service: string, op: string, list: string, address: string) {
  const answer = await t.boto.call(service, op, {
    Filters: [{ Name: 'tag:touchdown:resource', Values: [address] }],
  });
  return answer[list][0];
}

describe('NatGateway', () => {
  it('is created in its subnet with its elastic IP and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(network({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [nat, ...others] = await stackGateways();
    assert.equal(others.length, 0);
    assert.equal(nat!.State, 'available');
    assert.equal(nat!.ConnectivityType, 'public');
    const subnet = await byAddress('ec2', 'DescribeSubnets', 'Subnets', 'subnet.main/public-a');
    const ip = await byAddress('ec2', 'DescribeAddresses', 'Addresses', 'elastic-ip.nat-ip');
    assert.equal(nat!.SubnetId, subnet.SubnetId);
    assert.equal(nat!.NatGatewayAddresses[0]!.AllocationId, ip.AllocationId);
    assert.deepEqual(tagsOf(nat!), {
      'touchdown:stack': 'nat-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      Name: 'main-nat',
      team: 'web',
    });
    // Another stack's gateway at the same address is not ours: no duplicate to delete.
    const spare = await t.boto.call('ec2', 'AllocateAddress', { Domain: 'vpc' });
    await t.boto.call('ec2', 'CreateNatGateway', {
      SubnetId: subnet.SubnetId,
      AllocationId: spare.AllocationId,
      TagSpecifications: [
        {
          ResourceType: 'natgateway',
          Tags: [
            { Key: 'touchdown:stack', Value: 'other-stack' },
            { Key: 'touchdown:resource', Value: ADDRESS },
          ],
        },
      ],
    });
    assertNoChanges(await t.plan(network({ tags: { team: 'web' } })));
  });

  it('needs an elastic IP when public, and refuses one when private', () => {
    const declare = (args: { allocationId?: string; connectivity?: 'public' | 'private' }) => {
      const aws = new AwsStack('nat-test');
      aws.add(NatGateway, { name: 'nat', subnetId: 'subnet-1', ...args });
      return () => aws.check();
    };
    assert.throws(declare({}), /a public NAT gateway needs an elastic IP/);
    assert.throws(declare({ connectivity: 'private', allocationId: 'eipalloc-1' }), /takes no elastic IP/);
    declare({ connectivity: 'private' })();
  });

  it('changes tags in place', async () => {
    await t.apply(network({ tags: { team: 'web' } }));
    const [before] = await stackGateways();
    assert.equal(actions(await t.plan(network({ tags: { env: 'prod' } })))[ADDRESS], 'update');
    await t.apply(network({ tags: { env: 'prod' } }));
    const [after, ...others] = await stackGateways();
    assert.equal(others.length, 0);
    assert.equal(after!.NatGatewayId, before!.NatGatewayId);
    assert.equal(tagsOf(after!).env, 'prod');
    assert.equal(tagsOf(after!).team, undefined);
  });

  it('is replaced when its elastic IP changes, and the plan says why', async () => {
    await t.apply(network());
    const [before] = await stackGateways();
    const plan = await t.plan(network({ useSecondIp: true }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['allocationId']);
    await t.apply(network({ useSecondIp: true }));
    const [after, ...others] = await stackGateways();
    assert.equal(others.length, 0);
    assert.notEqual(after!.NatGatewayId, before!.NatGatewayId);
    const second = await byAddress('ec2', 'DescribeAddresses', 'Addresses', 'elastic-ip.nat-ip-2');
    assert.equal(after!.NatGatewayAddresses[0]!.AllocationId, second.AllocationId);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(network());
    const [nat] = await stackGateways();
    await t.boto.call('ec2', 'DeleteNatGateway', { NatGatewayId: nat!.NatGatewayId });
    // AWS frees the elastic IP of a deleted gateway; moto's DeleteNatGateway leaves it associated.
    await t.boto.call('ec2', 'DisassociateAddress', {
      AssociationId: nat!.NatGatewayAddresses[0]!.AssociationId,
    });
    assert.equal(actions(await t.plan(network()))[ADDRESS], 'create');
    await t.apply(network());
    const gateways = await stackGateways();
    assert.equal(gateways.length, 1);
    assert.notEqual(gateways[0]!.NatGatewayId, nat!.NatGatewayId);
  });

  it('gets its tags back after they are changed outside Touchdown', async () => {
    await t.apply(network({ tags: { team: 'web' } }));
    const [nat] = await stackGateways();
    await t.boto.call('ec2', 'CreateTags', {
      Resources: [nat!.NatGatewayId],
      Tags: [{ Key: 'team', Value: 'ops' }],
    });
    const plan = await t.plan(network({ tags: { team: 'web' } }));
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'tags', before: { team: 'ops' }, after: { team: 'web' } },
    ]);
    await t.apply(network({ tags: { team: 'web' } }));
    assert.equal(tagsOf((await stackGateways())[0]!).team, 'web');
  });

  it('is deleted by destroy, before its elastic IP and subnet', async () => {
    await t.apply(network());
    const plan = await t.destroy(network());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await stackGateways()).length, 0);
    const { Addresses } = await t.boto.call('ec2', 'DescribeAddresses', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['nat-test'] }],
    });
    assert.equal(Addresses.length, 0);
    const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['nat-test'] }],
    });
    assert.equal(Subnets.length, 0);
  });
});
