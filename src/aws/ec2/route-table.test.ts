import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { ElasticIp } from './elastic-ip.js';
import { InternetGateway } from './internet-gateway.js';
import { NatGateway } from './nat-gateway.js';
import { RouteTable } from './route-table.js';
import { Subnet } from './subnet.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'route-table.main/public';

type Variant = 'public' | 'private' | 'other-vpc';

/** A VPC with an internet gateway, a NAT gateway and two subnets; the route table varies. */
function network(variant: Variant = 'public', tags: Record<string, string> = {}) {
  const aws = new AwsStack('rt-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
  const other = aws.addVpc({ name: 'other', cidrBlock: '10.2.0.0/16' });
  const a = aws.add(Subnet, { name: 'a', vpcId: vpc.id, cidrBlock: '10.1.1.0/24' }, vpc);
  const b = aws.add(Subnet, { name: 'b', vpcId: vpc.id, cidrBlock: '10.1.2.0/24' }, vpc);
  const igw = aws.add(InternetGateway, { name: 'igw', vpcId: vpc.id }, vpc);
  const ip = aws.add(ElasticIp, { name: 'nat-ip' });
  const nat = aws.add(NatGateway, { name: 'nat', subnetId: a.id, allocationId: ip.id }, vpc);
  const table = {
    public: {
      vpcId: vpc.id,
      routes: [{ destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id }],
      subnetIds: [a.id],
    },
    private: {
      vpcId: vpc.id,
      routes: [
        { destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id },
        { destinationCidrBlock: '192.168.0.0/16', gatewayId: igw.id },
      ],
      subnetIds: [b.id, a.id],
    },
    'other-vpc': { vpcId: other.id },
  }[variant];
  aws.add(RouteTable, { name: 'public', ...table, tags }, vpc);
  return aws;
}

interface BotoRoute {
  DestinationCidrBlock?: string;
  GatewayId?: string;
  NatGatewayId?: string;
  Origin: string;
}
interface BotoTable {
  RouteTableId: string;
  VpcId: string;
  Routes: BotoRoute[];
  Associations: { SubnetId?: string; RouteTableAssociationId: string; Main: boolean }[];
  Tags: { Key: string; Value: string }[];
}

async function stackTables(): Promise<BotoTable[]> {
  const { RouteTables } = await t.boto.call('ec2', 'DescribeRouteTables', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['rt-test'] }],
  });
  return RouteTables;
}

/** Ids by address, read with boto3. */
async function ids() {
  const get = async (op: string, list: string, key: string, address: string) => {
    const answer = await t.boto.call('ec2', op, {
      Filters: [{ Name: 'tag:touchdown:resource', Values: [address] }],
    });
    return answer[list][0][key] as string;
  };
  const { NatGateways } = await t.boto.call('ec2', 'DescribeNatGateways', {});
  return {
    main: await get('DescribeVpcs', 'Vpcs', 'VpcId', 'vpc.main'),
    other: await get('DescribeVpcs', 'Vpcs', 'VpcId', 'vpc.other'),
    a: await get('DescribeSubnets', 'Subnets', 'SubnetId', 'subnet.main/a'),
    b: await get('DescribeSubnets', 'Subnets', 'SubnetId', 'subnet.main/b'),
    igw: await get(
      'DescribeInternetGateways',
      'InternetGateways',
      'InternetGatewayId',
      'internet-gateway.main/igw',
    ),
    // moto's DescribeNatGateways ignores tag filters; each test starts with an empty account.
    nat: NatGateways.find((n: { State: string }) => n.State === 'available').NatGatewayId as string,
  };
}

/** The routes someone made (not the local one), as destination → target. */
const routesOf = (table: BotoTable) =>
  Object.fromEntries(
    table.Routes.filter((r) => r.Origin === 'CreateRoute').map((r) => [
      r.DestinationCidrBlock,
      r.GatewayId ?? r.NatGatewayId,
    ]),
  );
const subnetsOf = (table: BotoTable) =>
  table.Associations.filter((a) => !a.Main)
    .map((a) => a.SubnetId)
    .sort();

describe('RouteTable', () => {
  it('is created with its routes, subnets and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(network('public', { tier: 'lb' }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [table, ...others] = await stackTables();
    assert.equal(others.length, 0);
    const id = await ids();
    assert.equal(table!.VpcId, id.main);
    assert.deepEqual(routesOf(table!), { '0.0.0.0/0': id.igw });
    assert.deepEqual(subnetsOf(table!), [id.a]);
    assert.deepEqual(Object.fromEntries(table!.Tags.map((x) => [x.Key, x.Value])), {
      'touchdown:stack': 'rt-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      Name: 'main-public',
      tier: 'lb',
    });
    assertNoChanges(await t.plan(network('public', { tier: 'lb' })));
    const twoTargets = new AwsStack('rt-test');
    twoTargets.add(RouteTable, {
      name: 'x',
      vpcId: 'vpc-1',
      routes: [{ destinationCidrBlock: '0.0.0.0/0', gatewayId: 'igw-1', natGatewayId: 'nat-1' }],
    });
    assert.throws(() => twoTargets.check(), /routes\.0.*exactly one target/);
  });

  it('replaces, adds and removes routes and subnets in place', async () => {
    await t.apply(network('public'));
    const [before] = await stackTables();
    const plan = await t.plan(network('private'));
    assert.equal(actions(plan)[ADDRESS], 'update');
    assert.deepEqual(
      plan.resources.find((r) => r.address === ADDRESS)!.changes.map((c) => c.name),
      ['routes', 'subnetIds'],
    );
    await t.apply(network('private'));
    const [after] = await stackTables();
    assert.equal(after!.RouteTableId, before!.RouteTableId);
    const id = await ids();
    assert.deepEqual(routesOf(after!), { '0.0.0.0/0': id.nat, '192.168.0.0/16': id.igw });
    assert.deepEqual(subnetsOf(after!), [id.a, id.b].sort());
    assertNoChanges(await t.plan(network('private')));
    // And back: one route replaced, one deleted, one subnet let go.
    await t.apply(network('public'));
    const [back] = await stackTables();
    assert.deepEqual(routesOf(back!), { '0.0.0.0/0': id.igw });
    assert.deepEqual(subnetsOf(back!), [id.a]);
  });

  it('is replaced when its VPC changes, and the plan says why', async () => {
    await t.apply(network('public'));
    const [before] = await stackTables();
    const plan = await t.plan(network('other-vpc'));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['vpcId']);
    await t.apply(network('other-vpc'));
    const tables = await stackTables();
    assert.equal(tables.length, 1);
    assert.notEqual(tables[0]!.RouteTableId, before!.RouteTableId);
    assert.equal(tables[0]!.VpcId, (await ids()).other);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(network('public'));
    const [table] = await stackTables();
    for (const a of table!.Associations.filter((x) => !x.Main)) {
      await t.boto.call('ec2', 'DisassociateRouteTable', { AssociationId: a.RouteTableAssociationId });
    }
    await t.boto.call('ec2', 'DeleteRouteTable', { RouteTableId: table!.RouteTableId });
    assert.equal(actions(await t.plan(network('public')))[ADDRESS], 'create');
    await t.apply(network('public'));
    const [again, ...others] = await stackTables();
    assert.equal(others.length, 0);
    assert.deepEqual(subnetsOf(again!), [(await ids()).a]);
  });

  it('gets its routes and subnets back after they are changed outside Touchdown', async () => {
    await t.apply(network('public'));
    const [table] = await stackTables();
    const id = await ids();
    const RouteTableId = table!.RouteTableId;
    await t.boto.call('ec2', 'ReplaceRoute', {
      RouteTableId,
      DestinationCidrBlock: '0.0.0.0/0',
      NatGatewayId: id.nat,
    });
    await t.boto.call('ec2', 'CreateRoute', {
      RouteTableId,
      DestinationCidrBlock: '10.50.0.0/16',
      GatewayId: id.igw,
    });
    await t.boto.call('ec2', 'DisassociateRouteTable', {
      AssociationId: table!.Associations.find((a) => !a.Main)!.RouteTableAssociationId,
    });
    await t.boto.call('ec2', 'AssociateRouteTable', { RouteTableId, SubnetId: id.b });
    const plan = await t.plan(network('public'));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.deepEqual(change.changes, [
      {
        name: 'routes',
        before: [
          { destinationCidrBlock: '0.0.0.0/0', natGatewayId: id.nat },
          { destinationCidrBlock: '10.50.0.0/16', gatewayId: id.igw },
        ],
        after: [{ destinationCidrBlock: '0.0.0.0/0', gatewayId: id.igw }],
      },
      { name: 'subnetIds', before: [id.b], after: [id.a] },
    ]);
    await t.apply(network('public'));
    const [after] = await stackTables();
    assert.deepEqual(routesOf(after!), { '0.0.0.0/0': id.igw });
    assert.deepEqual(subnetsOf(after!), [id.a]);
  });

  it('lets go of its subnets and is deleted by destroy', async () => {
    await t.apply(network('private'));
    const plan = await t.destroy(network('private'));
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await stackTables()).length, 0);
    const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['rt-test'] }],
    });
    assert.equal(Subnets.length, 0);
  });
});
