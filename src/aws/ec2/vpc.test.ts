import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';

const t = useLocalAws({ declaredTypesOnly: true });

function network(
  overrides: { cidrBlock?: string; enableDnsHostnames?: boolean; tags?: Record<string, string> } = {},
) {
  const aws = new AwsStack('vpc-test');
  aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16', ...overrides });
  return aws;
}

async function stackVpcs() {
  const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['vpc-test'] }],
  });
  return Vpcs as { VpcId: string; CidrBlock: string; Tags: { Key: string; Value: string }[] }[];
}

async function dnsHostnames(vpcId: string): Promise<boolean> {
  const r = await t.boto.call('ec2', 'DescribeVpcAttribute', {
    VpcId: vpcId,
    Attribute: 'enableDnsHostnames',
  });
  return r.EnableDnsHostnames.Value;
}

describe('VPC', () => {
  it('is created with its tags in the create call, and a second plan shows no changes', async () => {
    const plan = await t.apply(network({ tags: { team: 'web' } }));
    assert.equal(actions(plan)['vpc.main'], 'create');
    const [vpc, ...others] = await stackVpcs();
    assert.equal(others.length, 0);
    assert.equal(vpc!.CidrBlock, '10.1.0.0/16');
    const tags = Object.fromEntries(vpc!.Tags.map((x) => [x.Key, x.Value]));
    assert.deepEqual(tags, {
      'touchdown:stack': 'vpc-test',
      'touchdown:resource': 'vpc.main',
      'touchdown:region': 'us-east-1',
      Name: 'main',
      team: 'web',
    });
    assert.equal(await dnsHostnames(vpc!.VpcId), true);
    assertNoChanges(await t.plan(network({ tags: { team: 'web' } })));
  });

  it('updates DNS hostnames and tags in place', async () => {
    await t.apply(network());
    const [before] = await stackVpcs();
    const plan = await t.plan(network({ enableDnsHostnames: false, tags: { env: 'prod' } }));
    assert.equal(actions(plan)['vpc.main'], 'update');
    await t.apply(network({ enableDnsHostnames: false, tags: { env: 'prod' } }));
    const [after] = await stackVpcs();
    assert.equal(after!.VpcId, before!.VpcId);
    assert.equal(await dnsHostnames(after!.VpcId), false);
    assert.ok(after!.Tags.some((x) => x.Key === 'env' && x.Value === 'prod'));
  });

  it('is replaced when its CIDR block changes, and the plan says why', async () => {
    await t.apply(network());
    const [before] = await stackVpcs();
    const plan = await t.plan(network({ cidrBlock: '10.2.0.0/16' }));
    const change = plan.resources.find((r) => r.address === 'vpc.main')!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['cidrBlock']);
    await t.apply(network({ cidrBlock: '10.2.0.0/16' }));
    const vpcs = await stackVpcs();
    assert.equal(vpcs.length, 1);
    assert.notEqual(vpcs[0]!.VpcId, before!.VpcId);
    assert.equal(vpcs[0]!.CidrBlock, '10.2.0.0/16');
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(network());
    const [vpc] = await stackVpcs();
    await t.boto.call('ec2', 'DeleteVpc', { VpcId: vpc!.VpcId });
    assert.equal(actions(await t.plan(network()))['vpc.main'], 'create');
    await t.apply(network());
    assert.equal((await stackVpcs()).length, 1);
  });

  it('is put back after an attribute is changed outside Touchdown', async () => {
    await t.apply(network());
    const [vpc] = await stackVpcs();
    await t.boto.call('ec2', 'ModifyVpcAttribute', {
      VpcId: vpc!.VpcId,
      EnableDnsHostnames: { Value: false },
    });
    const plan = await t.plan(network());
    assert.deepEqual(plan.resources[0]!.changes, [
      { name: 'enableDnsHostnames', before: false, after: true },
    ]);
    await t.apply(network());
    assert.equal(await dnsHostnames(vpc!.VpcId), true);
  });

  it('is deleted by destroy', async () => {
    await t.apply(network());
    const plan = await t.destroy(network());
    assert.equal(actions(plan)['vpc.main'], 'delete');
    assert.equal((await stackVpcs()).length, 0);
  });
});
