import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { MemcachedCluster } from './memcached.js';
import { CacheSubnetGroup } from './subnet-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'memcached.cache';
const ID = 'mc-test-cache';

type Overrides = Partial<{ nodes: number; nodeType: string; group: 'a' | 'b'; tags: Record<string, string> }>;

function cache(overrides: Overrides = {}) {
  const aws = new AwsStack('mc-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
  const a = vpc.addSubnet({ name: 'a', cidrBlock: '10.1.1.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'b', cidrBlock: '10.1.2.0/24', availabilityZone: 'us-east-1b' });
  const groups = {
    a: aws.add(CacheSubnetGroup, { name: 'cache-a', subnetIds: [a.id, b.id] }),
    b: aws.add(CacheSubnetGroup, { name: 'cache-b', subnetIds: [a.id, b.id] }),
  };
  const sg = vpc.addSecurityGroup({ name: 'cache' });
  const { group = 'a', ...rest } = overrides;
  const mc = aws.add(MemcachedCluster, {
    name: 'cache',
    nodes: 2,
    engineVersion: '1.6.22',
    subnetGroupName: groups[group].name,
    securityGroupIds: [sg.id],
    ...rest,
  });
  aws.output('location', mc.configurationEndpoint);
  aws.output('port', mc.port);
  return aws;
}

interface BotoCluster {
  CacheClusterId: string;
  CacheClusterStatus: string;
  Engine: string;
  EngineVersion: string;
  CacheNodeType: string;
  NumCacheNodes: number;
  CacheSubnetGroupName: string;
  ARN: string;
}

async function cluster(): Promise<BotoCluster> {
  const r = await t.boto.call('elasticache', 'DescribeCacheClusters', { CacheClusterId: ID });
  return r.CacheClusters[0];
}

async function allClusters(): Promise<BotoCluster[]> {
  return (await t.boto.call('elasticache', 'DescribeCacheClusters', {})).CacheClusters;
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const { TagList } = await t.boto.call('elasticache', 'ListTagsForResource', { ResourceName: arn });
  return Object.fromEntries((TagList as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

describe('MemcachedCluster', () => {
  it('is created with its nodes, subnet group and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(cache({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const c = await cluster();
    assert.equal(c.CacheClusterStatus, 'available');
    assert.equal(c.Engine, 'memcached');
    assert.equal(c.EngineVersion, '1.6.22');
    assert.equal(c.CacheNodeType, 'cache.t4g.micro');
    assert.equal(c.NumCacheNodes, 2);
    assert.equal(c.CacheSubnetGroupName, 'mc-test-cache-a');
    assert.deepEqual(await tagsOf(c.ARN), {
      'touchdown:stack': 'mc-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    // moto assigns no configuration endpoint, which the output then leaves empty; the port is Memcached's.
    const outputs = await t.engine(cache({ tags: { team: 'web' } })).outputs();
    assert.deepEqual(outputs, { location: '', port: 11211 });
    // A Redis cluster with this stack's tags is not a Memcached cluster, and not deleted as one.
    await t.boto.call('elasticache', 'CreateCacheCluster', {
      CacheClusterId: 'mc-test-redis',
      Engine: 'redis',
      CacheNodeType: 'cache.t4g.micro',
      Tags: [
        { Key: 'touchdown:stack', Value: 'mc-test' },
        { Key: 'touchdown:resource', Value: 'memcached.other' },
      ],
    });
    assertNoChanges(await t.plan(cache({ tags: { team: 'web' } })));
  });

  it('updates tags in place, and plans node count and type changes as updates', async () => {
    await t.apply(cache({ tags: { team: 'web' } }));
    await t.apply(cache({ tags: { env: 'prod' } }));
    const c = await cluster();
    assert.deepEqual(await tagsOf(c.ARN), {
      'touchdown:stack': 'mc-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      env: 'prod',
    });
    const changed = { nodes: 3, nodeType: 'cache.t4g.small', tags: { env: 'prod' } };
    const change = (await t.plan(cache(changed))).resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(
      change.changes.map((x) => [x.name, x.after]),
      [
        ['nodeType', 'cache.t4g.small'],
        ['nodes', 3],
      ],
    );
    // moto lacks ModifyCacheCluster: the update is attempted and fails there.
    const { report } = await t.engine(cache(changed)).apply();
    assert.match(report!.failed[0]!.error!, /^updating Memcached cluster "cache": /);
  });

  it('is replaced when it moves to another subnet group, and the plan says why', async () => {
    await t.apply(cache());
    const change = (await t.plan(cache({ group: 'b' }))).resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['subnetGroupName']);
    await t.apply(cache({ group: 'b' }));
    // The new cluster takes the old one's id, which AWS frees once the old cluster is gone.
    const clusters = await allClusters();
    assert.deepEqual(
      clusters.map((c) => [c.CacheClusterId, c.CacheSubnetGroupName, c.CacheClusterStatus]),
      [[ID, 'mc-test-cache-b', 'available']],
    );
    assertNoChanges(await t.plan(cache({ group: 'b' })));
  });

  it('is created again after being deleted outside Touchdown, once AWS has finished deleting it', async () => {
    await t.apply(cache({ tags: { team: 'web' } }));
    await t.boto.call('elasticache', 'DeleteCacheCluster', { CacheClusterId: ID });
    assert.equal(actions(await t.plan(cache({ tags: { team: 'web' } })))[ADDRESS], 'create');
    await t.apply(cache({ tags: { team: 'web' } }));
    const c = await cluster();
    assert.equal(c.CacheClusterStatus, 'available');
    assert.equal(c.NumCacheNodes, 2);
    assert.deepEqual(await tagsOf(c.ARN), {
      'touchdown:stack': 'mc-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assertNoChanges(await t.plan(cache({ tags: { team: 'web' } })));
  });

  // moto lacks ModifyCacheCluster, so the out-of-band change is to its tags.
  it('puts its tags back after they are changed outside Touchdown', async () => {
    await t.apply(cache({ tags: { team: 'web' } }));
    const c = await cluster();
    await t.boto.call('elasticache', 'AddTagsToResource', {
      ResourceName: c.ARN,
      Tags: [{ Key: 'team', Value: 'data' }],
    });
    const change = (await t.plan(cache({ tags: { team: 'web' } }))).resources.find(
      (r) => r.address === ADDRESS,
    )!;
    assert.deepEqual(change.changes, [{ name: 'tags', before: { team: 'data' }, after: { team: 'web' } }]);
    await t.apply(cache({ tags: { team: 'web' } }));
    assert.equal((await tagsOf(c.ARN)).team, 'web');
  });

  it('is deleted by destroy, which waits until it is gone', async () => {
    await t.apply(cache());
    const { plan, report } = await t.engine(cache()).destroy();
    assert.equal(actions(plan)[ADDRESS], 'delete');
    // The first look after DeleteCacheCluster finds the cluster still "deleting": the engine waits.
    assert.ok(
      t.events.some(
        (e) => e.type === 'op.progress' && e.address === ADDRESS && e.message === 'waiting: deleting',
      ),
      'destroy waits while the cluster is deleting',
    );
    assert.deepEqual(await allClusters(), []);
    assert.deepEqual(report?.failed, []);
  });
});
