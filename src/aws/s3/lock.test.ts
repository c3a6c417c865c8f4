// A conditional write whose answer is lost after S3 made it: the SDK sends it again, and that retry fails its
// own condition. The lock (and a release claim) must know its own write, not mistake it for another run's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Fault } from '../../../test/support/aws-model/faults.js';
import type { Call } from '../../../test/support/aws-model/operations.js';
import { useLocalAws } from '../../../test/support/harness.js';
import { ReleaseHistory } from '../../django/releases.js';
import { S3Lock } from './lock.js';

/** Which call next loses its answer after the local AWS carried it out; one call, then none. */
let loseAnswerOf: string | undefined;
const lost: string[] = [];
const t = useLocalAws({
  declaredTypesOnly: true,
  model: {
    times: false,
    latencyMs: 1,
    faultOf: (call: Call): Fault | undefined => {
      if (`${call.service}:${call.operation}` !== loseAnswerOf) return undefined;
      loseAnswerOf = undefined;
      lost.push(`${call.service}:${call.operation}`);
      return { kind: 'reset', afterForwarding: true };
    },
  },
});

const opts = { stack: 'web', region: 'us-east-1', command: 'touchdown deploy' };
const Bucket = 'touchdown-locks-123456789012-us-east-1';
const Key = 'touchdown/locks/web/us-east-1.json';

describe('a lock write whose answer was lost', () => {
  it('takes the lock, when the taking write was made', async () => {
    const aws = t.aws.clients();
    // A first run made the account's lock bucket and let go: the write that loses its answer takes the lock.
    const first = new S3Lock(aws, opts);
    await first.acquire({ timeoutMs: 0 });
    await first.release();
    lost.length = 0;
    loseAnswerOf = 's3:PutObject';
    const lock = new S3Lock(aws, opts);
    await lock.acquire({ timeoutMs: 0 });
    assert.deepEqual(lost, ['s3:PutObject'], 'the answer was lost');
    await lock.ensureHeld();
    await lock.release();
    assert.equal(
      await t.boto.errorOf('s3', 'HeadObject', { Bucket, Key }),
      '404',
      'and it let go at the end',
    );
  });

  it('keeps the lease, when the renewing write was made', async () => {
    const lock = new S3Lock(t.aws.clients(), opts);
    await lock.acquire({ timeoutMs: 0 });
    lost.length = 0;
    loseAnswerOf = 's3:PutObject';
    await lock.ensureHeld();
    assert.deepEqual(lost, ['s3:PutObject']);
    await lock.ensureHeld();
    await lock.release();
    assert.equal(await t.boto.errorOf('s3', 'HeadObject', { Bucket, Key }), '404');
  });
});

describe('a release claim whose answer was lost', () => {
  it('keeps the number it claimed, and claims no second one', async () => {
    const history = new ReleaseHistory(t.aws.clients(), 'web-production');
    lost.length = 0;
    loseAnswerOf = 'ssm:PutParameter';
    const claimed = await history.claim({ image: 'web:v1', taskDefinitions: {}, time: 'now', who: 'me' });
    assert.deepEqual(lost, ['ssm:PutParameter']);
    assert.equal(claimed.number, 1);
    const { Parameters } = await t.boto.call('ssm', 'GetParametersByPath', {
      Path: '/touchdown/web-production/releases/',
    });
    assert.deepEqual(
      Parameters.map((p: { Name: string }) => p.Name),
      ['/touchdown/web-production/releases/000001'],
    );
  });
});
