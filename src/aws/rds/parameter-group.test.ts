import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { AwsStack } from '../stack.js';
import { DbParameterGroup } from './parameter-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'db-parameter-group.postgres';
const NAME = 'dbpg-test-postgres';
const SETTINGS = { work_mem: '16384', log_min_duration_statement: '500' };

type GroupArgs = ArgsInput<typeof DbParameterGroup.fields>;

function settings(overrides: Partial<GroupArgs> = {}) {
  const aws = new AwsStack('dbpg-test');
  aws.add(DbParameterGroup, { name: 'postgres', family: 'postgres16', parameters: SETTINGS, ...overrides });
  return aws;
}

interface BotoGroup {
  DBParameterGroupName: string;
  DBParameterGroupFamily: string;
  Description: string;
  DBParameterGroupArn: string;
}

async function group(): Promise<BotoGroup | undefined> {
  try {
    const answer = await t.boto.call('rds', 'DescribeDBParameterGroups', { DBParameterGroupName: NAME });
    return answer.DBParameterGroups[0];
  } catch (err) {
    if ((err as { code?: string }).code === 'DBParameterGroupNotFound') return undefined;
    throw err;
  }
}

async function parameters(): Promise<Record<string, string>> {
  const { Parameters } = await t.boto.call('rds', 'DescribeDBParameters', {
    DBParameterGroupName: NAME,
    Source: 'user',
  });
  return Object.fromEntries(
    (Parameters as { ParameterName: string; ParameterValue: string }[]).map((p) => [
      p.ParameterName,
      p.ParameterValue,
    ]),
  );
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const { TagList } = await t.boto.call('rds', 'ListTagsForResource', { ResourceName: arn });
  return Object.fromEntries((TagList as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

describe('DbParameterGroup', () => {
  it('is created with its parameters and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(settings({ tags: { team: 'data' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const g = (await group())!;
    assert.equal(g.DBParameterGroupFamily, 'postgres16');
    assert.equal(g.Description, 'Managed by Touchdown');
    assert.deepEqual(await parameters(), SETTINGS);
    assert.deepEqual(await tagsOf(g.DBParameterGroupArn), {
      'touchdown:stack': 'dbpg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'data',
    });
    assertNoChanges(await t.plan(settings({ tags: { team: 'data' } })));
  });

  it('changes parameters in place, 20 a call, and tags', async () => {
    await t.apply(settings());
    // 25 settings: two ModifyDBParameterGroup calls (AWS takes at most 20 a call).
    const many: Record<string, string> = { ...SETTINGS, work_mem: '32768' };
    for (let i = 0; i < 23; i++) many[`touchdown_test.setting_${i}`] = String(i);
    const plan = await t.plan(settings({ parameters: many, tags: { env: 'prod' } }));
    assert.equal(actions(plan)[ADDRESS], 'update');
    const clients = t.aws.clients();
    const { report } = await t
      .engine(settings({ parameters: many, tags: { env: 'prod' } }), { aws: clients })
      .apply();
    assert.deepEqual(report?.failed, []);
    const writes = clients.calls.filter((c) => c.operation === 'ModifyDBParameterGroup');
    assert.equal(writes.length, 2, 'the 24 changed parameters go in two calls');
    assert.deepEqual(await parameters(), many);
    assert.equal((await tagsOf((await group())!.DBParameterGroupArn)).env, 'prod');
    assertNoChanges(await t.plan(settings({ parameters: many, tags: { env: 'prod' } })));
    // A parameter left out is reset with ResetDBParameterGroup, which moto 5.2.5 lacks: not applied here.
  });

  it('is replaced when its family changes, and the plan says why', async () => {
    await t.apply(settings());
    const plan = await t.plan(settings({ family: 'postgres17' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['family']);
    await t.apply(settings({ family: 'postgres17' }));
    assert.equal((await group())!.DBParameterGroupFamily, 'postgres17');
    assert.deepEqual(await parameters(), SETTINGS);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(settings());
    await t.boto.call('rds', 'DeleteDBParameterGroup', { DBParameterGroupName: NAME });
    assert.equal(actions(await t.plan(settings()))[ADDRESS], 'create');
    await t.apply(settings());
    assert.deepEqual(await parameters(), SETTINGS);
  });

  it('is put back after a parameter is changed outside Touchdown', async () => {
    await t.apply(settings());
    await t.boto.call('rds', 'ModifyDBParameterGroup', {
      DBParameterGroupName: NAME,
      Parameters: [{ ParameterName: 'work_mem', ParameterValue: '4096', ApplyMethod: 'immediate' }],
    });
    const plan = await t.plan(settings());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'parameters', before: { ...SETTINGS, work_mem: '4096' }, after: SETTINGS },
    ]);
    await t.apply(settings());
    assert.deepEqual(await parameters(), SETTINGS);
  });

  it('is deleted by destroy', async () => {
    await t.apply(settings());
    const plan = await t.destroy(settings());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal(await group(), undefined);
  });
});
