import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { ConfigError } from '../../core/errors.js';
import type { Stack } from '../../core/stack.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { SsmParameter } from './parameter.js';

const t = useLocalAws({ declaredTypesOnly: true });

type ParamArgs = ArgsInput<typeof SsmParameter.fields>;
const HOST = '/xkcd/prod/DATABASE_HOST';
const KEY = '/xkcd/prod/SECRET_KEY';

function config(host: Partial<ParamArgs> = {}, key: Partial<ParamArgs> = {}) {
  const aws = new AwsStack('ssm-test');
  aws.add(SsmParameter, { name: HOST, value: 'db.internal', description: 'database host', ...host });
  aws.add(SsmParameter, { name: KEY, type: 'SecureString', value: 'first-secret', ...key });
  return aws;
}

async function get(name: string) {
  const { Parameter } = await t.boto.call('ssm', 'GetParameter', { Name: name, WithDecryption: true });
  return Parameter as { Type: string; Value: string; Version: number };
}

async function describeOne(name: string) {
  const { Parameters } = await t.boto.call('ssm', 'DescribeParameters', {
    ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [name] }],
  });
  return Parameters[0] as { Description?: string; Tier: string; KeyId?: string } | undefined;
}

async function tagsOf(name: string): Promise<Record<string, string>> {
  const { TagList } = await t.boto.call('ssm', 'ListTagsForResource', {
    ResourceType: 'Parameter',
    ResourceId: name,
  });
  return Object.fromEntries((TagList as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

async function stackParameters(): Promise<string[]> {
  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await t.boto.call('ssm', 'DescribeParameters', {
      ParameterFilters: [{ Key: 'tag:touchdown:stack', Values: ['ssm-test'] }],
      ...(NextToken ? { NextToken } : {}),
    });
    names.push(...(page.Parameters as { Name: string }[]).map((p) => p.Name));
    NextToken = page.NextToken;
  } while (NextToken);
  return names.sort();
}

// Destroy finds only registered types: until src/aws/registry.ts lists SsmParameter, name it here.
async function destroy(stack: Stack) {
  const registry = [...new Set([...resourceTypes, SsmParameter])];
  const { plan, report } = await t.engine(stack, { registry }).destroy();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

describe('SSM parameter', () => {
  it('is created with its tags in the create call, and a second plan shows no changes', async () => {
    const plan = await t.apply(config({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[`ssm-parameter.${HOST}`], 'create');
    const host = await get(HOST);
    assert.equal(host.Type, 'String');
    assert.equal(host.Value, 'db.internal');
    assert.equal((await describeOne(HOST))!.Description, 'database host');
    assert.deepEqual(await tagsOf(HOST), {
      'touchdown:stack': 'ssm-test',
      'touchdown:resource': `ssm-parameter.${HOST}`,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    const key = await get(KEY);
    assert.equal(key.Type, 'SecureString');
    assert.equal(key.Value, 'first-secret');
    assert.ok(!JSON.stringify(plan).includes('first-secret'), 'a SecureString value stays out of the plan');
    assertNoChanges(await t.plan(config({ tags: { team: 'web' } })));
  });

  it('updates the value, description, tier and tags in place', async () => {
    await t.apply(config({ tags: { team: 'web', old: 'x' } }));
    const before = await get(HOST);
    const changed = config({
      value: 'db2.internal',
      description: 'the new host',
      tier: 'Advanced',
      tags: { team: 'api' },
    });
    const plan = await t.plan(changed);
    assert.equal(actions(plan)[`ssm-parameter.${HOST}`], 'update');
    await t.apply(changed);
    const after = await get(HOST);
    assert.equal(after.Value, 'db2.internal');
    assert.ok(after.Version > before.Version);
    const meta = await describeOne(HOST);
    assert.equal(meta!.Description, 'the new host');
    assert.equal(meta!.Tier, 'Advanced');
    assert.deepEqual(await tagsOf(HOST), {
      'touchdown:stack': 'ssm-test',
      'touchdown:resource': `ssm-parameter.${HOST}`,
      'touchdown:region': 'us-east-1',
      team: 'api',
    });
    assertNoChanges(await t.plan(changed));
  });

  it('moves back from the Advanced tier, keeping a generated value and the tags', async () => {
    const advanced = config({}, { value: undefined, tier: 'Advanced', tags: { team: 'web' } });
    await t.apply(advanced);
    const generated = (await get(KEY)).Value;
    const standard = config({}, { value: undefined, tier: 'Standard', tags: { team: 'web' } });
    assert.equal(actions(await t.plan(standard))[`ssm-parameter.${KEY}`], 'update');
    await t.apply(standard);
    assert.equal((await describeOne(KEY))!.Tier, 'Standard');
    assert.equal((await get(KEY)).Value, generated);
    assert.equal((await tagsOf(KEY)).team, 'web');
    assertNoChanges(await t.plan(standard));
  });

  it('is replaced when its type changes, and the plan says why', async () => {
    await t.apply(config());
    const plan = await t.plan(config({ type: 'SecureString' }));
    const change = plan.resources.find((r) => r.address === `ssm-parameter.${HOST}`)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['type']);
    await t.apply(config({ type: 'SecureString' }));
    const host = await get(HOST);
    assert.equal(host.Type, 'SecureString');
    assert.equal(host.Value, 'db.internal');
    assert.deepEqual(await stackParameters(), [KEY, HOST].sort());
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(config());
    await t.boto.call('ssm', 'DeleteParameter', { Name: HOST });
    assert.equal(actions(await t.plan(config()))[`ssm-parameter.${HOST}`], 'create');
    await t.apply(config());
    assert.equal((await get(HOST)).Value, 'db.internal');
  });

  it('is put back after its value and tags are changed outside Touchdown, with the value masked', async () => {
    await t.apply(config({ tags: { team: 'web' } }));
    await t.boto.call('ssm', 'PutParameter', {
      Name: KEY,
      Value: 'tampered-secret',
      Type: 'SecureString',
      Overwrite: true,
    });
    await t.boto.call('ssm', 'RemoveTagsFromResource', {
      ResourceType: 'Parameter',
      ResourceId: HOST,
      TagKeys: ['team'],
    });
    const plan = await t.plan(config({ tags: { team: 'web' } }));
    const key = plan.resources.find((r) => r.address === `ssm-parameter.${KEY}`)!;
    assert.equal(key.action, 'update');
    assert.deepEqual(key.changes, [
      { name: 'value', before: { sensitive: true }, after: { sensitive: true } },
    ]);
    const host = plan.resources.find((r) => r.address === `ssm-parameter.${HOST}`)!;
    assert.deepEqual(host.changes, [{ name: 'tags', before: {}, after: { team: 'web' } }]);
    const text = JSON.stringify(plan);
    assert.ok(!text.includes('tampered-secret') && !text.includes('first-secret'));
    await t.apply(config({ tags: { team: 'web' } }));
    assert.equal((await get(KEY)).Value, 'first-secret');
    assert.equal((await tagsOf(HOST)).team, 'web');
  });

  it('deletes a parameter no longer declared', async () => {
    await t.apply(config());
    const aws = new AwsStack('ssm-test');
    aws.add(SsmParameter, { name: HOST, value: 'db.internal', description: 'database host' });
    const plan = await t.apply(aws);
    assert.equal(actions(plan)[`ssm-parameter.${KEY}`], 'delete');
    assert.deepEqual(await stackParameters(), [HOST]);
  });

  it('is deleted by destroy', async () => {
    await t.apply(config());
    const plan = await destroy(config());
    assert.equal(actions(plan)[`ssm-parameter.${HOST}`], 'delete');
    assert.equal(actions(plan)[`ssm-parameter.${KEY}`], 'delete');
    assert.deepEqual(await stackParameters(), []);
    assert.equal(await t.boto.errorOf('ssm', 'GetParameter', { Name: HOST }), 'ParameterNotFound');
  });

  it('reads a stack of parameters in batches: values ten at a time, tags per declared parameter', async () => {
    const aws = new AwsStack('ssm-test');
    for (let i = 0; i < 12; i++) aws.add(SsmParameter, { name: `/xkcd/prod/P${i}`, value: `v${i}` });
    await t.apply(aws);
    const clients = t.aws.clients();
    assertNoChanges((await t.engine(aws, { aws: clients }).plan()).plan);
    const count = (op: string) =>
      clients.calls.filter((c) => c.service === 'ssm' && c.operation === op).length;
    // moto pages DescribeParameters ten at a time whatever MaxResults says; AWS gives 50 a page.
    assert.equal(count('DescribeParameters'), 2);
    assert.equal(count('GetParameters'), 2);
    assert.equal(count('ListTagsForResource'), 12);
    assert.equal(count('GetParameter'), 0);
  });

  it('rejects names and arguments AWS would refuse, before calling AWS', async () => {
    const cases: [ParamArgs, RegExp][] = [
      [{ name: 'xkcd/prod/HOST', value: 'x' }, /must start with "\/"/],
      [{ name: '/xkcd//HOST', value: 'x' }, /empty level/],
      [{ name: '/aws/HOST', value: 'x' }, /reserves/],
      [{ name: 'ssm-thing', value: 'x' }, /reserves/],
      [{ name: '/xkcd/has space', value: 'x' }, /only letters, digits/],
      [{ name: `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`, value: 'x' }, /15 levels/],
      [{ name: '/xkcd/HOST' }, /String parameter needs a value/],
      [{ name: '/xkcd/HOST', value: 'x', keyId: 'alias/k' }, /only a SecureString/],
      [{ name: '/xkcd/HOST', value: 'x'.repeat(5000) }, /4 KB/],
    ];
    for (const [args, message] of cases) {
      const aws = new AwsStack('ssm-test');
      aws.add(SsmParameter, args);
      await assert.rejects(t.plan(aws), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        return true;
      });
    }
  });
});
