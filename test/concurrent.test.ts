// Two applies of one stack at once, as two people (or two CI jobs) would start them: they never interleave.
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { S3Lock } from '../src/aws/s3/lock.js';
import { type CliResult, collect, copyOfExample, runCli, startCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { counts, inventory } from './support/inventory.js';

const t = useLocalAws();
// A private copy: the stack's lock file lives beside the configuration.
const cwd = await copyOfExample('walkthrough', ['touchdown.config.ts']);

/** Starts an apply and resolves once it has started changing things, with its eventual result. */
async function firstApply(): Promise<{ pid: number; result: Promise<CliResult> }> {
  // One at a time, so that it is still running when the second starts.
  const child = startCli(['apply', '--yes', '--concurrency', '1'], { cwd, aws: t.aws });
  const result = collect(child);
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stderr! }).on('line', (l) => {
      if (l.startsWith('creating ')) resolve();
    });
  });
  return { pid: child.pid!, result };
}

describe('two applies of one stack at once', () => {
  it('stops the second with a message naming the first', async () => {
    const first = await firstApply();
    const second = await runCli(['apply', '--yes'], { cwd, aws: t.aws });
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      new RegExp(`stack "radpress" is being changed by another run \\(touchdown apply, pid ${first.pid} on `),
    );
    assert.doesNotMatch(second.stderr, /creating /, 'the second run changed nothing');
    assert.equal((await first.result).code, 0);
    assert.equal(counts(await inventory(t.boto, 'radpress', { prefix: 'radpress' })).subnet, 3);
  });

  it('makes the second wait with --lock-timeout, then find nothing left to do', async () => {
    const first = await firstApply();
    const second = startCli(['apply', '--yes', '--lock-timeout', '2m'], { cwd, aws: t.aws });
    const [a, b] = await Promise.all([first.result, collect(second)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /waiting for another run to finish: touchdown apply/);
    assert.doesNotMatch(b.stderr, /creating /);
    assert.match(b.stdout, /no changes/);
    const c = counts(await inventory(t.boto, 'radpress', { prefix: 'radpress' }));
    assert.deepEqual([c.vpc, c.subnet, c['security-group'], c.bucket], [1, 3, 3, 1]);
  });

  it('keeps apart machines sharing an S3 lock bucket: another machine holds it, then lets go', async () => {
    await t.boto.call('s3', 'CreateBucket', { Bucket: 'team-locks' });
    // Another machine's run, holding the stack's lock in the shared bucket.
    const other = new S3Lock(t.aws.clients(), {
      bucket: 'team-locks',
      stack: 'radpress',
      region: t.aws.region,
      command: 'touchdown deploy',
    });
    await other.acquire({ timeoutMs: 0 });
    const refused = await runCli(['apply', '--yes', '--lock-bucket', 'team-locks'], { cwd, aws: t.aws });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /stack "radpress" is being changed by another run \(touchdown deploy, pid \d+ on /,
    );
    assert.doesNotMatch(refused.stderr, /creating /, 'it changed nothing');

    await other.release();
    const applied = await runCli(['apply', '--yes'], {
      cwd,
      aws: t.aws,
      env: { TOUCHDOWN_LOCK_BUCKET: 'team-locks' },
    });
    assert.equal(applied.code, 0, applied.stderr);
    const { Contents } = await t.boto.call('s3', 'ListObjectsV2', { Bucket: 'team-locks' });
    assert.equal(Contents, undefined, 'the lock is released at the end');
  });
});
