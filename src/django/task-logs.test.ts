import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useLocalAws } from '../../test/support/harness.js';
import { followLogStream } from './task-logs.js';

const t = useLocalAws();

describe("following a one-off task's output", () => {
  it('prints lines as CloudWatch receives them, each once, and what came before the stop', async () => {
    const where = { group: '/shop-production/release', stream: 'release/django/task1' };
    await t.boto.call('logs', 'CreateLogGroup', { logGroupName: where.group });
    const put = (messages: string[]) =>
      t.boto.call('logs', 'PutLogEvents', {
        logGroupName: where.group,
        logStreamName: where.stream,
        logEvents: messages.map((message, i) => ({ timestamp: Date.now() + i, message })),
      });
    const printed: string[] = [];
    const stop = new AbortController();
    // The stream does not exist yet, as while the task starts.
    const following = followLogStream(t.aws.clients(), where, (l) => printed.push(l), stop.signal, 50);
    await t.boto.call('logs', 'CreateLogStream', { logGroupName: where.group, logStreamName: where.stream });
    await put(['Operations to perform:', '  Apply all migrations: comics']);
    const deadline = Date.now() + 30_000;
    while (printed.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(printed.length, 2, 'the first lines came while the task still ran');
    await put(['Running migrations:', '  No migrations to apply.']);
    stop.abort();
    assert.equal(await following, 4);
    assert.deepEqual(printed, [
      'Operations to perform:',
      '  Apply all migrations: comics',
      'Running migrations:',
      '  No migrations to apply.',
    ]);
  });
});
