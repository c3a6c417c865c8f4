import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { CacheSubnetGroup } from './subnet-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'cache-subnet-group.cache';
const NAME = 'csg-test-cache';

function network(
  overrides: { third?: boolean; description?: string; tags?: Record<string, string>; groups?: number } = {},
) {
  const aws = new AwsStack('csg-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
  const a = vpc.addSubnet({ name: 'cache-a', cidrBlock: '10.1.1.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'cache-b', cidrBlock: '10.1.2.0/24', availabilityZone: 'us-east-1b' });
  const c = vpc.addSubnet({ name: 'cache-c', cidrBlock: '10.1.3.0/24', availabilityZone: 'us-east-1c' });
  const subnetIds = overrides.third ? [c.id, a.id, b.id] : [b.id, a.id];
  aws.add(CacheSubnetGroup, {
    name: 'cache',
    subnetIds,
    description: overrides.description,
    tags: overrides.tags,
  });
  for (let i = 2; i <= (overrides.groups ?? 1); i++) {
    aws.add(CacheSubnetGroup, { name: `cache-${i}`, subnetIds: [a.id, b.id] });
  }
  return aws;
}

interface BotoGroup {
  CacheSubnetGroupName: string;
  CacheSubnetGroupDescription: string;
  VpcId: string;
  ARN: string;
  Subnets: { SubnetIdentifier: string }[];
}

async function group(): Promise<BotoGroup> {
  const r = await t.boto.call('elasticache', 'DescribeCacheSubnetGroups', { CacheSubnetGroupName: NAME });
  return r.CacheSubnetGroups[0];
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const { TagList } = await t.boto.call('elasticache', 'ListTagsForResource', { ResourceName: arn });
  return Object.fromEntries((TagList as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

async function subnetIdOf(address: string): Promise<string> {
  const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', {
    Filters: [{ Name: 'tag:touchdown:resource', Values: [address] }],
  });
  return Subnets[0].SubnetId;
}

describe('CacheSubnetGroup', () => {
  it('is created with its subnets and tags in the create call; a second plan shows no changes', async () => {
    const plan = await t.apply(network({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const g = await group();
    assert.equal(g.CacheSubnetGroupDescription, 'Managed by Touchdown');
    const wanted = [await subnetIdOf('subnet.main/cache-a'), await subnetIdOf('subnet.main/cache-b')];
    assert.deepEqual(g.Subnets.map((s) => s.SubnetIdentifier).sort(), wanted.sort());
    const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
      Filters: [{ Name: 'tag:touchdown:resource', Values: ['vpc.main'] }],
    });
    assert.equal(g.VpcId, Vpcs[0].VpcId);
    assert.deepEqual(await tagsOf(g.ARN), {
      'touchdown:stack': 'csg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    // Subnets listed in another order are the same group.
    assertNoChanges(await t.plan(network({ tags: { team: 'web' } })));
  });

  it('finds all of the stack’s groups with one tagging call and one Describe', async () => {
    await t.apply(network({ groups: 3 }));
    const aws = t.aws.clients();
    const { plan } = await t.engine(network({ groups: 3 }), { aws }).plan();
    assertNoChanges(plan);
    const calls = aws.calls.filter((c) => c.service === 'elasticache').map((c) => c.operation);
    assert.deepEqual(calls, ['DescribeCacheSubnetGroups']);
  });

  it('updates tags in place, and plans subnet and description changes as updates', async () => {
    await t.apply(network({ tags: { team: 'web' } }));
    await t.apply(network({ tags: { env: 'prod' } }));
    const g = await group();
    assert.deepEqual(await tagsOf(g.ARN), {
      'touchdown:stack': 'csg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      env: 'prod',
    });
    const changed = { third: true, description: 'Redis for the web app', tags: { env: 'prod' } };
    const plan = await t.plan(network(changed));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(
      change.changes.map((c) => c.name),
      ['subnetIds', 'description'],
    );
    // moto lacks ModifyCacheSubnetGroup: the update is attempted and fails there.
    const { report } = await t.engine(network(changed)).apply();
    assert.deepEqual(
      report?.failed.map((f) => f.address),
      [ADDRESS],
    );
    assert.match(report!.failed[0]!.error!, /^updating ElastiCache subnet group "cache": /);
  });

  // No argument forces a replacement: subnets, description and tags all change in place.
  // moto lacks DeleteCacheSubnetGroup, so no case deletes a group outside Touchdown.

  it('puts its tags back after they are changed outside Touchdown', async () => {
    await t.apply(network({ tags: { team: 'web' } }));
    const g = await group();
    await t.boto.call('elasticache', 'RemoveTagsFromResource', { ResourceName: g.ARN, TagKeys: ['team'] });
    await t.boto.call('elasticache', 'AddTagsToResource', {
      ResourceName: g.ARN,
      Tags: [{ Key: 'owner', Value: 'someone' }],
    });
    const plan = await t.plan(network({ tags: { team: 'web' } }));
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'tags', before: { owner: 'someone' }, after: { team: 'web' } },
    ]);
    await t.apply(network({ tags: { team: 'web' } }));
    assert.deepEqual(await tagsOf(g.ARN), {
      'touchdown:stack': 'csg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
  });

  it('is deleted by destroy', async () => {
    await t.apply(network());
    const { plan, report } = await t.engine(network()).destroy();
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.deepEqual(report?.failed, []);
    assert.equal(
      await t.boto.errorOf('elasticache', 'DescribeCacheSubnetGroups', { CacheSubnetGroupName: NAME }),
      'CacheSubnetGroupNotFoundFault',
    );
  });
});
