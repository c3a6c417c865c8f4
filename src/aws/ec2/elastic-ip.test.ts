import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { ElasticIp } from './elastic-ip.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'elastic-ip.nat-a';

function addresses(tags: Record<string, string> = {}) {
  const aws = new AwsStack('eip-test');
  aws.add(ElasticIp, { name: 'nat-a', tags });
  return aws;
}

interface BotoAddress {
  AllocationId: string;
  PublicIp: string;
  Domain: string;
  Tags: { Key: string; Value: string }[];
}

async function stackAddresses(): Promise<BotoAddress[]> {
  const { Addresses } = await t.boto.call('ec2', 'DescribeAddresses', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['eip-test'] }],
  });
  return Addresses;
}

const tagsOf = (a: BotoAddress) => Object.fromEntries(a.Tags.map((x) => [x.Key, x.Value]));

describe('ElasticIp', () => {
  it('is allocated in the VPC domain with its tags, and a second plan shows no changes', async () => {
    const plan = await t.apply(addresses({ team: 'web' }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [address, ...others] = await stackAddresses();
    assert.equal(others.length, 0);
    assert.equal(address!.Domain, 'vpc');
    assert.deepEqual(tagsOf(address!), {
      'touchdown:stack': 'eip-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      Name: 'nat-a',
      team: 'web',
    });
    assertNoChanges(await t.plan(addresses({ team: 'web' })));
  });

  it('changes tags in place, keeping its address', async () => {
    await t.apply(addresses({ team: 'web' }));
    const [before] = await stackAddresses();
    assert.equal(actions(await t.plan(addresses({ env: 'prod' })))[ADDRESS], 'update');
    await t.apply(addresses({ env: 'prod' }));
    const [after] = await stackAddresses();
    assert.equal(after!.AllocationId, before!.AllocationId);
    assert.equal(after!.PublicIp, before!.PublicIp);
    assert.equal(tagsOf(after!).env, 'prod');
    assert.equal(tagsOf(after!).team, undefined);
  });

  // No replacement case: an elastic IP has no argument that forces one.

  it('is allocated again after being released outside Touchdown', async () => {
    await t.apply(addresses());
    const [address] = await stackAddresses();
    await t.boto.call('ec2', 'ReleaseAddress', { AllocationId: address!.AllocationId });
    assert.equal(actions(await t.plan(addresses()))[ADDRESS], 'create');
    await t.apply(addresses());
    assert.equal((await stackAddresses()).length, 1);
  });

  it('gets its tags back after they are changed outside Touchdown', async () => {
    await t.apply(addresses({ team: 'web' }));
    const [address] = await stackAddresses();
    await t.boto.call('ec2', 'CreateTags', {
      Resources: [address!.AllocationId],
      Tags: [{ Key: 'team', Value: 'ops' }],
    });
    const plan = await t.plan(addresses({ team: 'web' }));
    assert.deepEqual(plan.resources[0]!.changes, [
      { name: 'tags', before: { team: 'ops' }, after: { team: 'web' } },
    ]);
    await t.apply(addresses({ team: 'web' }));
    assert.equal(tagsOf((await stackAddresses())[0]!).team, 'web');
  });

  it('is released by destroy', async () => {
    await t.apply(addresses());
    const plan = await t.destroy(addresses());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await stackAddresses()).length, 0);
  });
});
