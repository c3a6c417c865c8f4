import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { Queue } from './queue.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'queue.celery';

type Overrides = Partial<{
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  messageRetentionSeconds: number;
  deadLetter: boolean;
  kmsMasterKeyId: string;
  sqsManagedSse: boolean;
  tags: Record<string, string>;
  extra: number;
}>;

function queues(overrides: Overrides = {}) {
  const aws = new AwsStack('sqs-test');
  const { deadLetter = true, extra = 0, fifo = false, ...rest } = overrides;
  const dlq = aws.add(Queue, { name: 'celery-failed', fifo, messageRetentionSeconds: 1_209_600 });
  const q = aws.add(Queue, {
    name: 'celery',
    fifo,
    deadLetter: deadLetter ? { targetArn: dlq.arn, maxReceiveCount: 5 } : null,
    ...rest,
  });
  for (let i = 1; i <= extra; i++) aws.add(Queue, { name: `extra-${i}` });
  aws.output('brokerQueue', q.url);
  return aws;
}

async function urlOf(name: string): Promise<string> {
  return (await t.boto.call('sqs', 'GetQueueUrl', { QueueName: name })).QueueUrl;
}

async function attributesOf(name: string): Promise<Record<string, string>> {
  const r = await t.boto.call('sqs', 'GetQueueAttributes', {
    QueueUrl: await urlOf(name),
    AttributeNames: ['All'],
  });
  return r.Attributes;
}

async function stackQueueNames(): Promise<string[]> {
  const r = await t.boto.call('sqs', 'ListQueues', { QueueNamePrefix: 'sqs-test-' });
  return ((r.QueueUrls ?? []) as string[]).map((u) => u.split('/').at(-1)!).sort();
}

describe('Queue', () => {
  it('is created with long polling, its dead-letter queue and its tags; a second plan shows no changes', async () => {
    const plan = await t.apply(queues({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    assert.deepEqual(await stackQueueNames(), ['sqs-test-celery', 'sqs-test-celery-failed']);
    const a = await attributesOf('sqs-test-celery');
    const dlq = await attributesOf('sqs-test-celery-failed');
    assert.equal(a.VisibilityTimeout, '30');
    assert.equal(a.ReceiveMessageWaitTimeSeconds, '20');
    assert.equal(a.MessageRetentionPeriod, '345600');
    assert.equal(a.SqsManagedSseEnabled, 'true');
    assert.deepEqual(JSON.parse(a.RedrivePolicy!), { deadLetterTargetArn: dlq.QueueArn, maxReceiveCount: 5 });
    assert.equal(dlq.MessageRetentionPeriod, '1209600');
    const { Tags } = await t.boto.call('sqs', 'ListQueueTags', { QueueUrl: await urlOf('sqs-test-celery') });
    assert.deepEqual(Tags, {
      'touchdown:stack': 'sqs-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    const outputs = await t.engine(queues({ tags: { team: 'web' } })).outputs();
    assert.equal(outputs.brokerQueue, await urlOf('sqs-test-celery'));
    assertNoChanges(await t.plan(queues({ tags: { team: 'web' } })));
  });

  it('finds the stack’s queues with one tagging call, one ListQueues and one read per queue', async () => {
    await t.apply(queues({ extra: 3 }));
    const aws = t.aws.clients();
    assertNoChanges((await t.engine(queues({ extra: 3 }), { aws }).plan()).plan);
    const calls = aws.calls.filter((c) => c.service === 'sqs').map((c) => c.operation);
    assert.deepEqual(calls, ['ListQueues', ...Array(5).fill('GetQueueAttributes')]);
  });

  it('changes timeouts, encryption, dead-letter queue and tags in place', async () => {
    await t.apply(queues({ tags: { team: 'web' } }));
    const before = await urlOf('sqs-test-celery');
    await assert.rejects(
      t.plan(queues({ kmsMasterKeyId: 'alias/celery' })),
      /with kmsMasterKeyId set sqsManagedSse: false/,
    );
    const changed = {
      visibilityTimeoutSeconds: 3600,
      deadLetter: false,
      kmsMasterKeyId: 'alias/celery',
      sqsManagedSse: false,
      tags: { env: 'prod' },
    };
    assert.equal(actions(await t.plan(queues(changed)))[ADDRESS], 'update');
    await t.apply(queues(changed));
    assert.equal(await urlOf('sqs-test-celery'), before);
    const a = await attributesOf('sqs-test-celery');
    assert.equal(a.VisibilityTimeout, '3600');
    assert.equal(a.RedrivePolicy, undefined);
    assert.equal(a.KmsMasterKeyId, 'alias/celery');
    assert.equal(a.SqsManagedSseEnabled, 'false');
    const { Tags } = await t.boto.call('sqs', 'ListQueueTags', { QueueUrl: before });
    assert.deepEqual(Tags, {
      'touchdown:stack': 'sqs-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      env: 'prod',
    });
    assertNoChanges(await t.plan(queues(changed)));
  });

  it('is replaced by a .fifo queue when it becomes FIFO, and the plan says why', async () => {
    await t.apply(queues());
    const plan = await t.plan(queues({ fifo: true }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['fifo']);
    await t.apply(queues({ fifo: true }));
    assert.deepEqual(await stackQueueNames(), ['sqs-test-celery-failed.fifo', 'sqs-test-celery.fifo']);
    assert.equal((await attributesOf('sqs-test-celery.fifo')).FifoQueue, 'true');
    assertNoChanges(await t.plan(queues({ fifo: true })));
  });

  // moto never answers QueueDeletedRecently, so the re-create below does not show SQS's 60-second wait.
  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(queues());
    await t.boto.call('sqs', 'DeleteQueue', { QueueUrl: await urlOf('sqs-test-celery') });
    assert.equal(actions(await t.plan(queues()))[ADDRESS], 'create');
    await t.apply(queues());
    assert.deepEqual(await stackQueueNames(), ['sqs-test-celery', 'sqs-test-celery-failed']);
  });

  it('is put back after an attribute is changed outside Touchdown', async () => {
    await t.apply(queues());
    await t.boto.call('sqs', 'SetQueueAttributes', {
      QueueUrl: await urlOf('sqs-test-celery'),
      Attributes: { VisibilityTimeout: '60', ReceiveMessageWaitTimeSeconds: '0' },
    });
    const change = (await t.plan(queues())).resources.find((r) => r.address === ADDRESS)!;
    assert.deepEqual(change.changes, [
      { name: 'visibilityTimeoutSeconds', before: 60, after: 30 },
      { name: 'receiveWaitTimeSeconds', before: 0, after: 20 },
    ]);
    await t.apply(queues());
    const a = await attributesOf('sqs-test-celery');
    assert.equal(a.VisibilityTimeout, '30');
    assert.equal(a.ReceiveMessageWaitTimeSeconds, '20');
  });

  it('is deleted by destroy, which refuses while tasks wait in it unless forced', async () => {
    await t.apply(queues());
    await t.boto.call('sqs', 'SendMessage', {
      QueueUrl: await urlOf('sqs-test-celery'),
      MessageBody: '{"task": "x"}',
    });
    const { report } = await t.engine(queues()).destroy();
    assert.match(
      report!.failed[0]!.error!,
      /refused: it holds about 1 message \(1 waiting, 0 being processed, 0 delayed\)/,
    );
    assert.deepEqual(await stackQueueNames(), ['sqs-test-celery', 'sqs-test-celery-failed']);
    const plan = await t.destroy(queues(), { force: true });
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.deepEqual(await stackQueueNames(), []);
  });
});
