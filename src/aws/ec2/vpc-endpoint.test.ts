import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { RouteTable } from './route-table.js';
import { GatewayEndpoint } from './vpc-endpoint.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'gateway-endpoint.main/s3';

const ONE_BUCKET = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: '*',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: 'arn:aws:s3:::media-bucket/*',
    },
  ],
};

function network(
  overrides: {
    service?: 's3' | 'dynamodb';
    tables?: ('a' | 'b')[];
    policy?: Record<string, unknown>;
    tags?: Record<string, string>;
  } = {},
) {
  const aws = new AwsStack('vpce-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
  const tables = {
    a: aws.add(RouteTable, { name: 'a', vpcId: vpc.id }, vpc),
    b: aws.add(RouteTable, { name: 'b', vpcId: vpc.id }, vpc),
  };
  const { service = 's3', tables: use = ['a'], ...rest } = overrides;
  aws.add(
    GatewayEndpoint,
    { name: 's3', vpcId: vpc.id, service, routeTableIds: use.map((x) => tables[x].id), ...rest },
    vpc,
  );
  return aws;
}

interface BotoEndpoint {
  VpcEndpointId: string;
  VpcEndpointType: string;
  ServiceName: string;
  State: string;
  RouteTableIds: string[];
  PolicyDocument: string;
  Tags: { Key: string; Value: string }[];
}

async function stackEndpoints(): Promise<BotoEndpoint[]> {
  const { VpcEndpoints } = await t.boto.call('ec2', 'DescribeVpcEndpoints', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['vpce-test'] }],
  });
  return (VpcEndpoints as BotoEndpoint[]).filter((e) => e.State !== 'deleted');
}

async function tableId(name: string): Promise<string> {
  const { RouteTables } = await t.boto.call('ec2', 'DescribeRouteTables', {
    Filters: [{ Name: 'tag:touchdown:resource', Values: [`route-table.main/${name}`] }],
  });
  return RouteTables[0].RouteTableId;
}

describe('GatewayEndpoint', () => {
  it('is created for S3 in its route tables with its tags; a second plan shows no changes', async () => {
    const plan = await t.apply(network({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [endpoint, ...others] = await stackEndpoints();
    assert.equal(others.length, 0);
    assert.equal(endpoint!.VpcEndpointType, 'Gateway');
    assert.equal(endpoint!.ServiceName, 'com.amazonaws.us-east-1.s3');
    assert.deepEqual(endpoint!.RouteTableIds, [await tableId('a')]);
    assert.deepEqual(Object.fromEntries(endpoint!.Tags.map((x) => [x.Key, x.Value])), {
      'touchdown:stack': 'vpce-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      Name: 'main-s3',
      team: 'web',
    });
    // The route the endpoint adds to table a is the endpoint's, not a change to the table.
    assertNoChanges(await t.plan(network({ tags: { team: 'web' } })));
  });

  it('changes route tables, policy and tags in place', async () => {
    await t.apply(network());
    const [before] = await stackEndpoints();
    const changed = network({ tables: ['b'], policy: ONE_BUCKET, tags: { env: 'prod' } });
    assert.equal(actions(await t.plan(changed))[ADDRESS], 'update');
    await t.apply(changed);
    const [after] = await stackEndpoints();
    assert.equal(after!.VpcEndpointId, before!.VpcEndpointId);
    assert.deepEqual(after!.RouteTableIds, [await tableId('b')]);
    assert.deepEqual(JSON.parse(after!.PolicyDocument), ONE_BUCKET);
    assert.ok(after!.Tags.some((x) => x.Key === 'env' && x.Value === 'prod'));
    assertNoChanges(await t.plan(changed));
  });

  it('is replaced when its service changes, and the plan says why', async () => {
    await t.apply(network());
    const [before] = await stackEndpoints();
    const plan = await t.plan(network({ service: 'dynamodb' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['service']);
    await t.apply(network({ service: 'dynamodb' }));
    const [after, ...others] = await stackEndpoints();
    assert.equal(others.length, 0);
    assert.notEqual(after!.VpcEndpointId, before!.VpcEndpointId);
    assert.equal(after!.ServiceName, 'com.amazonaws.us-east-1.dynamodb');
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(network());
    const [endpoint] = await stackEndpoints();
    await t.boto.call('ec2', 'DeleteVpcEndpoints', { VpcEndpointIds: [endpoint!.VpcEndpointId] });
    assert.equal(actions(await t.plan(network()))[ADDRESS], 'create');
    await t.apply(network());
    assert.equal((await stackEndpoints()).length, 1);
  });

  it('gets its route tables and policy back after they are changed outside Touchdown', async () => {
    await t.apply(network());
    const [endpoint] = await stackEndpoints();
    const a = await tableId('a');
    await t.boto.call('ec2', 'ModifyVpcEndpoint', {
      VpcEndpointId: endpoint!.VpcEndpointId,
      RemoveRouteTableIds: [a],
      PolicyDocument: JSON.stringify(ONE_BUCKET),
    });
    const plan = await t.plan(network());
    assert.deepEqual(
      plan.resources.find((r) => r.address === ADDRESS)!.changes.map((c) => c.name),
      ['routeTableIds', 'policy'],
    );
    await t.apply(network());
    const [after] = await stackEndpoints();
    assert.deepEqual(after!.RouteTableIds, [a]);
    assert.equal(JSON.parse(after!.PolicyDocument).Statement[0].Action, '*');
  });

  it('is deleted by destroy, before its route tables', async () => {
    await t.apply(network());
    const plan = await t.destroy(network());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await stackEndpoints()).length, 0);
    const { RouteTables } = await t.boto.call('ec2', 'DescribeRouteTables', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['vpce-test'] }],
    });
    assert.equal(RouteTables.length, 0);
  });
});
