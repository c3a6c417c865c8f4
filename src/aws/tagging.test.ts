// The tag index's listings: asks made together share one GetResources call, and each gets only its types.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useLocalAws } from '../../test/support/harness.js';
import type { FindContext } from '../core/resource.js';
import { listedOf, stackResources } from './tagging.js';
import { STACK_TAG } from './tags.js';

const t = useLocalAws();

describe('the tag index', () => {
  it('answers asks made together with one call, each with the types it asked for', async () => {
    const queue = async (name: string, stack: string) =>
      (await t.boto.call('sqs', 'CreateQueue', { QueueName: name, tags: { [STACK_TAG]: stack } })).QueueUrl;
    await queue('ours', 'tagging-test');
    await queue('theirs', 'another-stack');
    const key = (
      await t.boto.call('kms', 'CreateKey', { Tags: [{ TagKey: STACK_TAG, TagValue: 'tagging-test' }] })
    ).KeyMetadata.Arn as string;

    const aws = t.aws.clients();
    let calls = 0;
    (await aws.tagging()).middlewareStack.add(
      (next) => (args) => {
        calls++;
        return next(args);
      },
      { step: 'initialize' },
    );
    const ctx = { stack: 'tagging-test', aws } as FindContext;
    const arns = async (asked: Promise<{ arn: string }[]>) => (await asked).map((r) => r.arn).sort();
    const [queues, keys, everything, listed] = await Promise.all([
      arns(stackResources(ctx, ['sqs'])),
      arns(stackResources(ctx, ['kms:key'])),
      arns(stackResources(ctx, [])),
      listedOf(aws, 'tagging-test', ['sqs', 'kms:key', 'lambda:function']),
    ]);
    assert.equal(calls, 1);
    assert.deepEqual(queues, ['arn:aws:sqs:us-east-1:123456789012:ours']);
    assert.deepEqual(keys, [key]);
    assert.deepEqual(everything, [...queues, key].sort());
    assert.deepEqual([...listed].sort(), ['kms:key', 'sqs']);

    // An ask made later is a call of its own: the index is read again, not remembered.
    await queue('later', 'tagging-test');
    assert.equal((await stackResources(ctx, ['sqs'])).length, 2);
    assert.equal(calls, 2);
  });
});
