import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { CacheReplicationGroup } from './replication-group.js';
import { CacheSubnetGroup } from './subnet-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'replication-group.cache';
const ID = 'rg-test-cache';

type Overrides = Partial<{
  engine: 'valkey' | 'redis';
  nodeType: string;
  replicas: number;
  automaticFailover: boolean;
  snapshotRetentionDays: number;
  description: string;
  tags: Record<string, string>;
}>;

function cache(overrides: Overrides = {}, { network = false } = {}) {
  const aws = new AwsStack('rg-test');
  let placement = {};
  if (network) {
    const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
    const a = vpc.addSubnet({ name: 'a', cidrBlock: '10.1.1.0/24', availabilityZone: 'us-east-1a' });
    const b = vpc.addSubnet({ name: 'b', cidrBlock: '10.1.2.0/24', availabilityZone: 'us-east-1b' });
    const group = aws.add(CacheSubnetGroup, { name: 'cache', subnetIds: [a.id, b.id] });
    const sg = vpc.addSecurityGroup({ name: 'cache' });
    placement = { subnetGroupName: group.name, securityGroupIds: [sg.id] };
  }
  const rg = aws.add(CacheReplicationGroup, { name: 'cache', ...placement, ...overrides });
  aws.output('redisUrl', rg.url);
  aws.output('reader', rg.readerEndpoint);
  return aws;
}

interface BotoGroup {
  ReplicationGroupId: string;
  Status: string;
  Description: string;
  Engine: string;
  CacheNodeType: string;
  MemberClusters: string[];
  AutomaticFailover: string;
  SnapshotRetentionLimit: number;
  TransitEncryptionEnabled: boolean;
  AtRestEncryptionEnabled: boolean;
  ARN: string;
  NodeGroups: { PrimaryEndpoint: { Address: string; Port: number } }[];
}

async function group(): Promise<BotoGroup> {
  const r = await t.boto.call('elasticache', 'DescribeReplicationGroups', { ReplicationGroupId: ID });
  return r.ReplicationGroups[0];
}

async function allGroups(): Promise<BotoGroup[]> {
  return (await t.boto.call('elasticache', 'DescribeReplicationGroups', {})).ReplicationGroups;
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const { TagList } = await t.boto.call('elasticache', 'ListTagsForResource', { ResourceName: arn });
  return Object.fromEntries((TagList as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

describe('CacheReplicationGroup', () => {
  it('is created in its subnet group with its tags; outputs the REDIS_URL; a second plan shows no changes', async () => {
    const plan = await t.apply(cache({ tags: { team: 'web' } }, { network: true }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const g = await group();
    assert.equal(g.Status, 'available');
    assert.equal(g.Engine, 'valkey');
    assert.equal(g.CacheNodeType, 'cache.t4g.micro');
    assert.equal(g.MemberClusters.length, 1);
    assert.equal(g.AutomaticFailover, 'disabled');
    assert.equal(g.SnapshotRetentionLimit, 0);
    assert.equal(g.TransitEncryptionEnabled, true);
    assert.equal(g.AtRestEncryptionEnabled, true);
    assert.deepEqual(await tagsOf(g.ARN), {
      'touchdown:stack': 'rg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    const primary = g.NodeGroups[0]!.PrimaryEndpoint;
    const outputs = await t.engine(cache({ tags: { team: 'web' } }, { network: true })).outputs();
    assert.equal(outputs.redisUrl, `rediss://${primary.Address}:${primary.Port}`);
    assert.ok(outputs.reader);
    assertNoChanges(await t.plan(cache({ tags: { team: 'web' } }, { network: true })));
  });

  it('changes node type, snapshots, description and tags in place; refuses failover without replicas', async () => {
    await t.apply(cache({ tags: { team: 'web' } }));
    await assert.rejects(t.plan(cache({ automaticFailover: true })), (err: Error) => {
      assert.match(
        err.message,
        /automaticFailover: failover promotes a replica, so it needs replicas: 1 or more/,
      );
      return true;
    });
    const changed = {
      nodeType: 'cache.t4g.small',
      snapshotRetentionDays: 3,
      description: 'sessions',
      tags: { env: 'prod' },
    };
    assert.equal(actions(await t.plan(cache(changed)))[ADDRESS], 'update');
    await t.apply(cache(changed));
    const g = await group();
    assert.equal(g.CacheNodeType, 'cache.t4g.small');
    assert.equal(g.SnapshotRetentionLimit, 3);
    assert.equal(g.Description, 'sessions');
    assert.deepEqual(await tagsOf(g.ARN), {
      'touchdown:stack': 'rg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      env: 'prod',
    });
    assertNoChanges(await t.plan(cache(changed)));
  });

  it('is replaced when its engine changes: the delete waits until the old group is gone', async () => {
    await t.apply(cache());
    const plan = await t.plan(cache({ engine: 'redis' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['engine']);
    await t.apply(cache({ engine: 'redis' }));
    // The first look after DeleteReplicationGroup finds the old group still "deleting": the engine waits.
    assert.ok(
      t.events.some(
        (e) => e.type === 'op.progress' && e.address === ADDRESS && e.message === 'waiting: deleting',
      ),
      'the delete waits while the old group is deleting',
    );
    // The new group takes the old one's id, which AWS frees once the old group is gone.
    const groups = await allGroups();
    assert.deepEqual(
      groups.map((g) => [g.ReplicationGroupId, g.Engine, g.Status]),
      [[ID, 'redis', 'available']],
    );
    assert.equal((await tagsOf(groups[0]!.ARN))['touchdown:resource'], ADDRESS);
    assertNoChanges(await t.plan(cache({ engine: 'redis' })));
  });

  it('is created again after being deleted outside Touchdown, once AWS has finished deleting it', async () => {
    await t.apply(cache({ tags: { team: 'web' } }));
    await t.boto.call('elasticache', 'DeleteReplicationGroup', { ReplicationGroupId: ID });
    assert.equal(actions(await t.plan(cache({ tags: { team: 'web' } })))[ADDRESS], 'create');
    await t.apply(cache({ tags: { team: 'web' } }));
    const g = await group();
    assert.equal(g.Status, 'available');
    assert.deepEqual(await tagsOf(g.ARN), {
      'touchdown:stack': 'rg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assertNoChanges(await t.plan(cache({ tags: { team: 'web' } })));
  });

  it('is put back after its settings are changed outside Touchdown', async () => {
    await t.apply(cache());
    await t.boto.call('elasticache', 'ModifyReplicationGroup', {
      ReplicationGroupId: ID,
      SnapshotRetentionLimit: 7,
      CacheNodeType: 'cache.t4g.medium',
      ApplyImmediately: true,
    });
    const plan = await t.plan(cache());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'nodeType', before: 'cache.t4g.medium', after: 'cache.t4g.micro' },
      { name: 'snapshotRetentionDays', before: 7, after: 0 },
    ]);
    await t.apply(cache());
    const g = await group();
    assert.equal(g.CacheNodeType, 'cache.t4g.micro');
    assert.equal(g.SnapshotRetentionLimit, 0);
  });

  it('is deleted by destroy, with its member clusters', async () => {
    await t.apply(cache());
    const plan = await t.destroy(cache());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.deepEqual(await allGroups(), []);
    assert.deepEqual(
      (await t.boto.call('elasticache', 'DescribeCacheClusters', {})).CacheClusters,
      [],
      'its member clusters are gone too',
    );
  });
});
