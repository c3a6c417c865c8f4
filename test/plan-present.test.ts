// A plan reads the types the stack declares, the types AWS's tag index cannot list, and of the rest only
// those the index lists something of the stack for: checked by the calls it makes and by what it deletes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceTypes } from '../src/aws/registry.js';
import { AwsStack } from '../src/aws/stack.js';
import { Engine } from '../src/core/engine.js';
import { actions, useLocalAws } from './support/harness.js';

const t = useLocalAws();

function network(withQueue: boolean) {
  const aws = new AwsStack('present-test');
  aws.addVpc({ name: 'main', cidrBlock: '10.8.0.0/16' });
  if (withQueue) aws.addQueue({ name: 'jobs' });
  return aws;
}

/** The services a plan called, and the engine that made it. */
async function planned(stack: AwsStack, readEveryType = false, only?: (address: string) => boolean) {
  const aws = t.aws.clients();
  const engine = new Engine({ stack, registry: resourceTypes, aws, readEveryType });
  const { plan } = await engine.plan(only);
  return { plan, services: new Set(aws.calls.map((c) => c.service)), calls: aws.calls.length };
}

describe('a plan reads the resource types present', () => {
  it('skips listed types the stack neither declares nor holds, and still reads the unlisted ones', async () => {
    await t.apply(network(false));
    const { plan, services, calls } = await planned(network(false));
    assert.deepEqual(plan.summary, { create: 0, update: 0, replace: 0, delete: 0, noop: 1 });
    // The approach before: every type read, so KMS, RDS and SSM were asked even with nothing there.
    const every = await planned(network(false), true);
    for (const skipped of ['kms', 'rds', 'ssm']) {
      assert.ok(every.services.has(skipped), `reading every type asks ${skipped}`);
      assert.ok(!services.has(skipped), `${skipped} was called though nothing of the stack is there`);
    }
    assert.ok(calls < every.calls, `${calls} calls, against ${every.calls} reading every type`);
    // IAM and Route 53 are not in the tag index: their types are read on every plan.
    for (const read of ['ec2', 'tagging', 'iam', 'route53'])
      assert.ok(services.has(read), `${read} not read`);
  });

  it('finds and deletes a resource of a type no longer declared, through the tag index', async () => {
    await t.apply(network(true));
    const queues = await t.boto.call<{ QueueUrls?: string[] }>('sqs', 'list_queues', {});
    assert.equal(queues.QueueUrls?.length, 1, 'boto3 sees the queue');

    const { plan, services } = await planned(network(false));
    assert.deepEqual(actions(plan), { 'queue.jobs': 'delete', 'vpc.main': 'noop' });
    assert.ok(services.has('sqs'), 'the queue service was read because the index lists the stack there');

    await t.apply(network(false));
    const after = await t.boto.call<{ QueueUrls?: string[] }>('sqs', 'list_queues', {});
    assert.equal(after.QueueUrls?.length ?? 0, 0, 'boto3 sees the queue deleted');
  });

  it('reads, for a partial plan, only the types of its resources and of what they reference', async () => {
    const stack = () => {
      const aws = new AwsStack('present-test');
      aws.addVpc({ name: 'main', cidrBlock: '10.8.0.0/16' }).addSecurityGroup({ name: 'app' });
      aws.addQueue({ name: 'jobs' });
      return aws;
    };
    await t.apply(stack());
    const { plan, services } = await planned(stack(), false, (a) => a === 'security-group.main/app');
    assert.equal(plan.resources.find((r) => r.address === 'security-group.main/app')?.action, 'noop');
    assert.ok(services.has('ec2'), 'the group and the VPC it references are read');
    assert.ok(!services.has('sqs'), 'the queue, neither selected nor referenced, is not');
    assert.ok((await planned(stack())).services.has('sqs'), 'a whole plan reads the queue');
  });
});
