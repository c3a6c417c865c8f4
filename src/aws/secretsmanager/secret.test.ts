import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { ConfigError } from '../../core/errors.js';
import type { Stack } from '../../core/stack.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { Secret } from './secret.js';

const t = useLocalAws({ declaredTypesOnly: true });

type SecretArgs = ArgsInput<typeof Secret.fields>;
const NAME = 'xkcd/prod/db-password';
const ADDRESS = `secret.${NAME}`;

function config(overrides: Partial<SecretArgs> = {}) {
  const aws = new AwsStack('secret-test');
  aws.add(Secret, { name: NAME, value: 'first-secret', description: 'database password', ...overrides });
  return aws;
}

// Destroy finds only registered types: until src/aws/registry.ts lists Secret, name it here.
async function destroy(stack: Stack) {
  const registry = [...new Set([...resourceTypes, Secret])];
  const { plan, report } = await t.engine(stack, { registry }).destroy();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

async function describeSecret(id = NAME) {
  return (await t.boto.call('secretsmanager', 'DescribeSecret', { SecretId: id })) as {
    ARN: string;
    Description?: string;
    DeletedDate?: string;
    Tags?: { Key: string; Value: string }[];
  };
}

async function secretValue(id = NAME): Promise<string> {
  return (await t.boto.call('secretsmanager', 'GetSecretValue', { SecretId: id })).SecretString;
}

async function tagsOf(id = NAME): Promise<Record<string, string>> {
  return Object.fromEntries(((await describeSecret(id)).Tags ?? []).map((x) => [x.Key, x.Value]));
}

async function stackSecrets(): Promise<string[]> {
  const { SecretList } = await t.boto.call('secretsmanager', 'ListSecrets', {
    Filters: [{ Key: 'tag-key', Values: ['touchdown:stack'] }],
  });
  return (SecretList as { Name: string }[]).map((s) => s.Name).sort();
}

describe('Secrets Manager secret', () => {
  it('is created with its tags in the create call, and a second plan shows no changes', async () => {
    const plan = await t.apply(config({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    assert.ok(!JSON.stringify(plan).includes('first-secret'), 'the value stays out of the plan');
    assert.equal(await secretValue(), 'first-secret');
    assert.equal((await describeSecret()).Description, 'database password');
    assert.deepEqual(await tagsOf(), {
      'touchdown:stack': 'secret-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      'touchdown:recovery-window-days': '7',
      team: 'web',
    });
    assertNoChanges(await t.plan(config({ tags: { team: 'web' } })));
  });

  it('updates the value, description, tags and recovery window in place', async () => {
    await t.apply(config({ tags: { team: 'web', old: 'x' } }));
    const before = await describeSecret();
    const changed = config({
      value: 'second-secret',
      description: 'the new password',
      recoveryWindowDays: 30,
      tags: { team: 'api' },
    });
    const plan = await t.plan(changed);
    assert.equal(actions(plan)[ADDRESS], 'update');
    assert.ok(!JSON.stringify(plan).includes('second-secret'));
    await t.apply(changed);
    const after = await describeSecret();
    assert.equal(after.ARN, before.ARN);
    assert.equal(after.Description, 'the new password');
    assert.equal(await secretValue(), 'second-secret');
    assert.deepEqual(await tagsOf(), {
      'touchdown:stack': 'secret-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      'touchdown:recovery-window-days': '30',
      team: 'api',
    });
    assertNoChanges(await t.plan(changed));
  });

  // The name is also the resource's label, so a new name is a new address: a create and a delete,
  // which is how a replacement by name shows (nothing else about a secret forces one).
  it('is replaced by a new secret when its name changes, the old one scheduled for deletion', async () => {
    await t.apply(config());
    const aws = new AwsStack('secret-test');
    aws.add(Secret, {
      name: 'xkcd/prod/db-password-2',
      value: 'first-secret',
      description: 'database password',
    });
    const plan = await t.plan(aws);
    assert.equal(actions(plan)['secret.xkcd/prod/db-password-2'], 'create');
    assert.equal(actions(plan)[ADDRESS], 'delete');
    await t.apply(aws);
    assert.deepEqual(await stackSecrets(), ['xkcd/prod/db-password-2']);
    assert.ok((await describeSecret()).DeletedDate, 'the old one waits out its recovery window');
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(config());
    await t.boto.call('secretsmanager', 'DeleteSecret', { SecretId: NAME, ForceDeleteWithoutRecovery: true });
    assert.equal(actions(await t.plan(config()))[ADDRESS], 'create');
    await t.apply(config());
    assert.equal(await secretValue(), 'first-secret');
  });

  it('is restored, value kept, when it was scheduled for deletion outside Touchdown', async () => {
    const generated = config({ value: undefined, tags: { team: 'web' } });
    await t.apply(generated);
    const { ARN } = await describeSecret();
    const value = await secretValue();
    await t.boto.call('secretsmanager', 'DeleteSecret', { SecretId: NAME, RecoveryWindowInDays: 7 });
    assert.equal(actions(await t.plan(generated))[ADDRESS], 'create');
    await t.apply(generated);
    const restored = await describeSecret();
    assert.equal(restored.ARN, ARN);
    assert.equal(restored.DeletedDate, undefined);
    assert.equal(await secretValue(), value, 'a generated value is never regenerated');
    assertNoChanges(await t.plan(generated));
  });

  it('refuses a name held by a deleted secret this stack does not own', async () => {
    await t.boto.call('secretsmanager', 'CreateSecret', {
      Name: NAME,
      SecretString: 'theirs',
      Tags: [{ Key: 'touchdown:stack', Value: 'other-stack' }],
    });
    await t.boto.call('secretsmanager', 'DeleteSecret', { SecretId: NAME, RecoveryWindowInDays: 7 });
    const { report } = await t.engine(config()).apply();
    assert.match(report!.failed[0]!.error!, /held by a deleted secret this stack does not own/);
    assert.ok((await describeSecret()).DeletedDate, 'the other one is left as it was');
  });

  it('is put back after its value and description are changed outside Touchdown, with the value masked', async () => {
    await t.apply(config());
    await t.boto.call('secretsmanager', 'PutSecretValue', {
      SecretId: NAME,
      SecretString: 'tampered-secret',
    });
    await t.boto.call('secretsmanager', 'UpdateSecret', { SecretId: NAME, Description: 'changed by hand' });
    const plan = await t.plan(config());
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes, [
      { name: 'description', before: 'changed by hand', after: 'database password' },
      { name: 'value', before: { sensitive: true }, after: { sensitive: true } },
    ]);
    const text = JSON.stringify(plan);
    assert.ok(!text.includes('tampered-secret') && !text.includes('first-secret'));
    await t.apply(config());
    assert.equal(await secretValue(), 'first-secret');
    assert.equal((await describeSecret()).Description, 'database password');
  });

  it('is deleted by destroy, within its recovery window', async () => {
    await t.apply(config());
    const plan = await destroy(config());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.deepEqual(await stackSecrets(), []);
    assert.ok((await describeSecret()).DeletedDate);
  });

  it('is deleted for good by destroy when its recovery window is 0', async () => {
    await t.apply(config({ recoveryWindowDays: 0 }));
    await destroy(config({ recoveryWindowDays: 0 }));
    assert.equal(
      await t.boto.errorOf('secretsmanager', 'DescribeSecret', { SecretId: NAME }),
      'ResourceNotFoundException',
    );
  });

  it('reads a stack of secrets in one list, values twenty at a time', async () => {
    const aws = new AwsStack('secret-test');
    for (let i = 0; i < 22; i++) aws.add(Secret, { name: `xkcd/s${i}`, value: `v${i}` });
    aws.add(Secret, { name: 'xkcd/generated' });
    await t.apply(aws);
    const clients = t.aws.clients();
    assertNoChanges((await t.engine(aws, { aws: clients }).plan()).plan);
    const count = (op: string) =>
      clients.calls.filter((c) => c.service === 'secretsManager' && c.operation === op).length;
    assert.equal(count('ListSecrets'), 1);
    // ListSecrets may lag five minutes on AWS: each declared secret is described afresh.
    assert.equal(count('DescribeSecret'), 23);
    assert.equal(count('BatchGetSecretValue'), 2);
    assert.equal(count('GetSecretValue'), 0);
  });

  it('rejects names and arguments AWS would refuse, before calling AWS', async () => {
    const cases: [SecretArgs, RegExp][] = [
      [{ name: 'has space' }, /only letters, digits/],
      [{ name: 'x', recoveryWindowDays: 3 }, /recoveryWindowDays/],
      [{ name: 'x', generate: { length: 8 } }, /generate\.length/],
    ];
    for (const [args, message] of cases) {
      const aws = new AwsStack('secret-test');
      aws.add(Secret, args);
      await assert.rejects(t.plan(aws), (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, message);
        return true;
      });
    }
  });
});
