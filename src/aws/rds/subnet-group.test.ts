import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { ConfigError } from '../../core/errors.js';
import type { Ref } from '../../core/ref.js';
import { AwsStack } from '../stack.js';
import { DbSubnetGroup } from './subnet-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'db-subnet-group.db';
const NAME = 'dbsg-test-db';

type GroupArgs = ArgsInput<typeof DbSubnetGroup.fields>;
type Subnets = { a: Ref<string>; b: Ref<string>; c: Ref<string> };

function network(overrides: (s: Subnets) => Partial<GroupArgs> = () => ({}), label = 'db') {
  const aws = new AwsStack('dbsg-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.3.0.0/16' });
  const subnet = (name: string, n: number, zone: string) =>
    vpc.addSubnet({ name, cidrBlock: `10.3.${n}.0/24`, availabilityZone: `us-east-1${zone}` }).id;
  const s = { a: subnet('db-a', 1, 'a'), b: subnet('db-b', 2, 'b'), c: subnet('db-c', 3, 'c') };
  aws.add(DbSubnetGroup, { name: label, subnetIds: [s.a, s.b], ...overrides(s) });
  return aws;
}

interface BotoGroup {
  DBSubnetGroupName: string;
  DBSubnetGroupDescription: string;
  DBSubnetGroupArn: string;
  Subnets: { SubnetIdentifier: string; SubnetAvailabilityZone: { Name: string } }[];
}

async function group(name = NAME): Promise<BotoGroup | undefined> {
  try {
    return (await t.boto.call('rds', 'DescribeDBSubnetGroups', { DBSubnetGroupName: name }))
      .DBSubnetGroups[0];
  } catch (err) {
    if ((err as { code?: string }).code === 'DBSubnetGroupNotFoundFault') return undefined;
    throw err;
  }
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const { TagList } = await t.boto.call('rds', 'ListTagsForResource', { ResourceName: arn });
  return Object.fromEntries((TagList as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

const zones = (g: BotoGroup) => g.Subnets.map((s) => s.SubnetAvailabilityZone.Name).sort();

describe('DbSubnetGroup', () => {
  it('is created across two zones with its tags in the create call; a second plan shows no changes', async () => {
    const plan = await t.apply(network(() => ({ tags: { team: 'data' } })));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const g = await group();
    assert.ok(g, 'the group exists under its derived name');
    assert.deepEqual(zones(g), ['us-east-1a', 'us-east-1b']);
    assert.equal(g.DBSubnetGroupDescription, 'Managed by Touchdown');
    assert.deepEqual(await tagsOf(g.DBSubnetGroupArn), {
      'touchdown:stack': 'dbsg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'data',
    });
    // Subnets compare as a set: listing them in another order is no change.
    assertNoChanges(await t.plan(network((s) => ({ subnetIds: [s.b, s.a], tags: { team: 'data' } }))));
  });

  // moto 5.2.5's ModifyDBSubnetGroup pops the group from its store and never puts it back (the group
  // vanishes), so description and subnet changes are checked as far as the plan; tags are applied and read back.
  it('changes its description, subnets and tags in place', async () => {
    await t.apply(network());
    const change = (s: Subnets) => ({ description: 'PostgreSQL subnets', subnetIds: [s.a, s.b, s.c] });
    const plan = await t.plan(network(change));
    const planned = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(planned.action, 'update');
    assert.deepEqual(planned.changes.map((c) => c.name).sort(), ['description', 'subnetIds']);

    await t.apply(network(() => ({ tags: { env: 'prod' } })));
    const g = (await group())!;
    assert.equal((await tagsOf(g.DBSubnetGroupArn)).env, 'prod');
    assertNoChanges(await t.plan(network(() => ({ tags: { env: 'prod' } }))));
  });

  // No argument forces a replacement (AWS changes description and subnets in place); a new label is a new group.
  it('is replaced by a new group when its label changes', async () => {
    await t.apply(network());
    const plan = await t.plan(network(() => ({}), 'postgres'));
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal(actions(plan)['db-subnet-group.postgres'], 'create');
    await t.apply(network(() => ({}), 'postgres'));
    assert.equal(await group(), undefined);
    assert.ok(await group('dbsg-test-postgres'));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(network());
    await t.boto.call('rds', 'DeleteDBSubnetGroup', { DBSubnetGroupName: NAME });
    assert.equal(actions(await t.plan(network()))[ADDRESS], 'create');
    await t.apply(network());
    assert.ok(await group());
  });

  // Tags stand for the attributes here: moto loses a group that ModifyDBSubnetGroup touches (see above).
  it('is put back after its tags are changed outside Touchdown', async () => {
    await t.apply(network(() => ({ tags: { team: 'data' } })));
    const g = (await group())!;
    await t.boto.call('rds', 'AddTagsToResource', {
      ResourceName: g.DBSubnetGroupArn,
      Tags: [{ Key: 'team', Value: 'edited by hand' }],
    });
    const plan = await t.plan(network(() => ({ tags: { team: 'data' } })));
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'tags', before: { team: 'edited by hand' }, after: { team: 'data' } },
    ]);
    await t.apply(network(() => ({ tags: { team: 'data' } })));
    assert.equal((await tagsOf(g.DBSubnetGroupArn)).team, 'data');
  });

  it('is deleted by destroy', async () => {
    await t.apply(network());
    const plan = await t.destroy(network());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal(await group(), undefined);
  });

  it('refuses a single subnet before any AWS call, naming the two-zone rule', () => {
    const aws = new AwsStack('dbsg-test');
    aws.add(DbSubnetGroup, { name: 'db', subnetIds: ['subnet-0abc'] });
    assert.throws(
      () => aws.check(),
      (err: unknown) =>
        err instanceof ConfigError &&
        /db-subnet-group\.db: subnetIds: .*at least two availability zones/.test(err.message),
    );
  });
});
