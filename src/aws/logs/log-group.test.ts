import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { LogGroup } from './log-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'log-group.web';
const NAME = '/lg-test/web';

type Overrides = Partial<{
  logGroupName: string;
  retentionDays: number | null;
  kmsKeyId: string;
  tags: Record<string, string>;
  extra: number;
}>;

function logs(overrides: Overrides = {}) {
  const aws = new AwsStack('lg-test');
  const { extra = 0, ...rest } = overrides;
  const web = aws.add(LogGroup, { name: 'web', ...rest });
  for (let i = 1; i <= extra; i++) aws.add(LogGroup, { name: `worker-${i}`, retentionDays: 7 });
  aws.output('awslogsGroup', web.name);
  return aws;
}

interface BotoLogGroup {
  logGroupName: string;
  logGroupArn: string;
  retentionInDays?: number;
}

async function stackGroups(): Promise<BotoLogGroup[]> {
  const { logGroups } = await t.boto.call('logs', 'DescribeLogGroups', { logGroupNamePrefix: '/lg-test/' });
  return logGroups;
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  return (await t.boto.call('logs', 'ListTagsForResource', { resourceArn: arn })).tags;
}

describe('LogGroup', () => {
  it('is created as /<stack>/<path> with its retention and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(logs({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [g, ...others] = await stackGroups();
    assert.equal(others.length, 0);
    assert.equal(g!.logGroupName, NAME);
    assert.equal(g!.retentionInDays, 30);
    assert.deepEqual(await tagsOf(g!.logGroupArn), {
      'touchdown:stack': 'lg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assert.deepEqual(await t.engine(logs({ tags: { team: 'web' } })).outputs(), { awslogsGroup: NAME });
    assertNoChanges(await t.plan(logs({ tags: { team: 'web' } })));
    await assert.rejects(
      t.plan(logs({ retentionDays: 10 })),
      /CloudWatch keeps logs for one of 1, 3, 5, .*3653 days; pick one, or null to keep them forever/,
    );
  });

  it('finds the stack’s groups with one tagging call and one DescribeLogGroups', async () => {
    await t.apply(logs({ extra: 3 }));
    const aws = t.aws.clients();
    // Log groups alone: other types of the service (metric filters) make their own calls.
    assertNoChanges((await t.engine(logs({ extra: 3 }), { aws, registry: [LogGroup] }).plan()).plan);
    const calls = aws.calls.filter((c) => c.service === 'logs').map((c) => c.operation);
    assert.deepEqual(calls, ['DescribeLogGroups']);
  });

  it('changes retention and tags in place', async () => {
    await t.apply(logs({ tags: { team: 'web' } }));
    await t.apply(logs({ retentionDays: 365, tags: { env: 'prod' } }));
    let [g] = await stackGroups();
    assert.equal(g!.retentionInDays, 365);
    assert.deepEqual(await tagsOf(g!.logGroupArn), {
      'touchdown:stack': 'lg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      env: 'prod',
    });
    await t.apply(logs({ retentionDays: null, tags: { env: 'prod' } }));
    [g] = await stackGroups();
    assert.equal(g!.retentionInDays, undefined);
    assertNoChanges(await t.plan(logs({ retentionDays: null, tags: { env: 'prod' } })));
    // moto lacks AssociateKmsKey: a key added later is only planned (as an update), not applied.
    const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const change = (await t.plan(logs({ kmsKeyId: key }))).resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.ok(change.changes.some((c) => c.name === 'kmsKeyId' && c.after === key));
  });

  it('is replaced when its name changes, and the plan says why', async () => {
    await t.apply(logs());
    const plan = await t.plan(logs({ logGroupName: '/ecs/lg-test/web' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['logGroupName']);
    await t.apply(logs({ logGroupName: '/ecs/lg-test/web' }));
    assert.deepEqual(await stackGroups(), []);
    const { logGroups } = await t.boto.call('logs', 'DescribeLogGroups', {
      logGroupNamePrefix: '/ecs/lg-test/',
    });
    assert.deepEqual(
      logGroups.map((g: BotoLogGroup) => g.logGroupName),
      ['/ecs/lg-test/web'],
    );
    assertNoChanges(await t.plan(logs({ logGroupName: '/ecs/lg-test/web' })));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(logs());
    await t.boto.call('logs', 'DeleteLogGroup', { logGroupName: NAME });
    assert.equal(actions(await t.plan(logs()))[ADDRESS], 'create');
    await t.apply(logs());
    assert.equal((await stackGroups()).length, 1);
  });

  it('is put back after its retention is changed outside Touchdown', async () => {
    await t.apply(logs());
    await t.boto.call('logs', 'PutRetentionPolicy', { logGroupName: NAME, retentionInDays: 7 });
    const change = (await t.plan(logs())).resources.find((r) => r.address === ADDRESS)!;
    assert.deepEqual(change.changes, [{ name: 'retentionDays', before: 7, after: 30 }]);
    await t.apply(logs());
    assert.equal((await stackGroups())[0]!.retentionInDays, 30);
  });

  it('is deleted by destroy; logs kept forever need --force', async () => {
    await t.apply(logs({ retentionDays: null }));
    await t.boto.call('logs', 'CreateLogStream', { logGroupName: NAME, logStreamName: 'web/1' });
    await t.boto.call('logs', 'PutLogEvents', {
      logGroupName: NAME,
      logStreamName: 'web/1',
      logEvents: [{ timestamp: Date.now(), message: 'GET / 200' }],
    });
    const { report } = await t.engine(logs({ retentionDays: null })).destroy();
    assert.match(
      report!.failed[0]!.error!,
      /refused: it holds logs kept without expiry \(\d+ bytes stored\)/,
    );
    assert.equal((await stackGroups()).length, 1);
    const plan = await t.destroy(logs({ retentionDays: null }), { force: true });
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.deepEqual(await stackGroups(), []);
  });
});
