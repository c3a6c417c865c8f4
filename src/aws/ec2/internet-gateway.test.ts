import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { InternetGateway } from './internet-gateway.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'internet-gateway.main/igw';

function network(overrides: { inOther?: boolean; tags?: Record<string, string> } = {}) {
  const aws = new AwsStack('igw-test');
  const main = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
  const other = aws.addVpc({ name: 'other', cidrBlock: '10.2.0.0/16' });
  aws.add(
    InternetGateway,
    { name: 'igw', vpcId: overrides.inOther ? other.id : main.id, tags: overrides.tags },
    main,
  );
  return aws;
}

interface BotoGateway {
  InternetGatewayId: string;
  Attachments: { VpcId: string; State: string }[];
  Tags: { Key: string; Value: string }[];
}

async function stackGateways(): Promise<BotoGateway[]> {
  const { InternetGateways } = await t.boto.call('ec2', 'DescribeInternetGateways', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['igw-test'] }],
  });
  return InternetGateways;
}

async function vpcId(name: string): Promise<string> {
  const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
    Filters: [{ Name: 'tag:touchdown:resource', Values: [`vpc.${name}`] }],
  });
  return Vpcs[0].VpcId;
}

describe('InternetGateway', () => {
  it('is created attached to its VPC with its tags, and a second plan shows no changes', async () => {
    const plan = await t.apply(network({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [gateway, ...others] = await stackGateways();
    assert.equal(others.length, 0);
    assert.deepEqual(
      gateway!.Attachments.map((a) => a.VpcId),
      [await vpcId('main')],
    );
    assert.deepEqual(Object.fromEntries(gateway!.Tags.map((x) => [x.Key, x.Value])), {
      'touchdown:stack': 'igw-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      Name: 'main-igw',
      team: 'web',
    });
    assertNoChanges(await t.plan(network({ tags: { team: 'web' } })));
  });

  it('moves to another VPC and changes tags in place', async () => {
    await t.apply(network());
    const [before] = await stackGateways();
    const moved = network({ inOther: true, tags: { env: 'prod' } });
    assert.equal(actions(await t.plan(moved))[ADDRESS], 'update');
    await t.apply(moved);
    const [after] = await stackGateways();
    assert.equal(after!.InternetGatewayId, before!.InternetGatewayId);
    assert.deepEqual(
      after!.Attachments.map((a) => a.VpcId),
      [await vpcId('other')],
    );
    assert.ok(after!.Tags.some((x) => x.Key === 'env' && x.Value === 'prod'));
    assertNoChanges(await t.plan(moved));
  });

  // No replacement case: nothing about an internet gateway forces one (moving it is the update above).

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(network());
    const [gateway] = await stackGateways();
    const id = gateway!.InternetGatewayId;
    await t.boto.call('ec2', 'DetachInternetGateway', { InternetGatewayId: id, VpcId: await vpcId('main') });
    await t.boto.call('ec2', 'DeleteInternetGateway', { InternetGatewayId: id });
    assert.equal(actions(await t.plan(network()))[ADDRESS], 'create');
    await t.apply(network());
    const gateways = await stackGateways();
    assert.equal(gateways.length, 1);
    assert.equal(gateways[0]!.Attachments[0]!.VpcId, await vpcId('main'));
  });

  it('is attached again after being detached outside Touchdown', async () => {
    await t.apply(network());
    const [gateway] = await stackGateways();
    const main = await vpcId('main');
    await t.boto.call('ec2', 'DetachInternetGateway', {
      InternetGatewayId: gateway!.InternetGatewayId,
      VpcId: main,
    });
    const plan = await t.plan(network());
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes, [{ name: 'vpcId', before: undefined, after: main }]);
    await t.apply(network());
    assert.equal((await stackGateways())[0]!.Attachments[0]!.VpcId, main);
  });

  it('is detached and deleted by destroy', async () => {
    await t.apply(network());
    const plan = await t.destroy(network());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await stackGateways()).length, 0);
    const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['igw-test'] }],
    });
    assert.equal(Vpcs.length, 0);
  });
});
