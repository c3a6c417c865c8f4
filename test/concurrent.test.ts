// Two applies of one stack at once, as two people (or two CI jobs) would start them, from two checkouts of
// one project: they never interleave. A run that loses its lock stops before its next change.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { S3Lock } from '../src/aws/s3/lock.js';
import { type AwsModel, startAwsModel } from './support/aws-model/proxy.js';
import { type CliResult, collect, copyOfExample, runCli, startCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { counts, inventory } from './support/inventory.js';
import { anotherRun, takeOverLock } from './support/lock.js';

const t = useLocalAws();
// Checkouts of one project (folders, as people or CI runners have them).
const cwd = await copyOfExample('walkthrough', ['touchdown.config.ts']);
const otherCheckout = await copyOfExample('walkthrough', ['touchdown.config.ts']);
const thirdCheckout = await copyOfExample('walkthrough', ['touchdown.config.ts']);

/** When each line of the run's progress was read. */
function timed(child: ChildProcess): { line: string; at: number }[] {
  const lines: { line: string; at: number }[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push({ line, at: performance.now() }));
  return lines;
}

/** Starts an apply and resolves once it has started changing things, with its eventual result. */
async function firstApply(
  ...more: string[]
): Promise<{ pid: number; result: Promise<CliResult>; lines: { line: string; at: number }[] }> {
  // One at a time, each call 300 ms long (through the AWS model), so that it is still running when
  // the second starts: the walkthrough applies in about a second on the local AWS alone.
  slow ??= startAwsModel({ upstream: t.aws.endpoint, speedup: 1, latencyMs: 300, times: false });
  const aws = { ...t.aws, env: { ...t.aws.env, AWS_ENDPOINT_URL: (await slow).endpoint } };
  const child = startCli(['apply', '--yes', '--concurrency', '1', ...more], { cwd, aws });
  const result = collect(child);
  const lines = timed(child);
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stderr! }).on('line', (l) => {
      if (l.startsWith('creating ')) resolve();
    });
  });
  return { pid: child.pid!, result, lines };
}

let slow: Promise<AwsModel> | undefined;
after(async () => (await slow)?.stop());

describe('two applies of one stack at once', () => {
  // Both second runs start while the first holds the lock: one apply of the stack shows both behaviours.
  it('stops a second run, from another checkout, with a message naming the first; makes a third wait with --lock-timeout, then find nothing left to do', async () => {
    const first = await firstApply();
    const waiting = collect(
      startCli(['apply', '--yes', '--lock-timeout', '2m'], { cwd: thirdCheckout, aws: t.aws }),
    );
    const second = await runCli(['apply', '--yes'], { cwd: otherCheckout, aws: t.aws });
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      new RegExp(`stack "radpress" is being changed by another run \\(touchdown apply, pid ${first.pid} on `),
    );
    assert.doesNotMatch(second.stderr, /creating /, 'the second run changed nothing');

    const [a, b] = await Promise.all([first.result, waiting]);
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

  it('stops a run before its next change once another run took its lock, naming that run', async () => {
    await t.boto.call('s3', 'CreateBucket', { Bucket: 'team-locks' });
    const first = await firstApply('--lock-bucket', 'team-locks');
    // Another machine's run takes the lock over (as one would after this run's lease ran out).
    await takeOverLock(
      t.boto,
      { bucket: 'team-locks', stack: 'radpress' },
      anotherRun('another-machine', 'touchdown apply'),
    );
    const Key = 'touchdown/locks/radpress/us-east-1.json';
    const takenAt = performance.now();

    const result = await first.result;
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /lost the lock of stack "radpress": touchdown apply, pid 4242 on another-machine holds it now\. Stopped before the next change/,
    );
    // At most the change already past its check when the lock was taken: none is started after that.
    const startedAfter = first.lines.filter(
      (l) => l.at > takenAt && /^(creating|updating|deleting) /.test(l.line),
    );
    assert.ok(
      startedAfter.length <= 1,
      `changes started after the lock was taken: ${JSON.stringify(startedAfter)}`,
    );
    const held = await t.boto.call('s3', 'GetObject', { Bucket: 'team-locks', Key });
    assert.equal(JSON.parse(held.Body).token, 'theirs', "the other run's lock is left as it is");

    // The other run ends; the next apply finds the rest of the stack still to make.
    const partial = total(await inventory(t.boto, 'radpress', { prefix: 'radpress' }));
    await t.boto.call('s3', 'DeleteObject', { Bucket: 'team-locks', Key });
    const again = await runCli(['apply', '--yes', '--lock-bucket', 'team-locks'], { cwd, aws: t.aws });
    assert.equal(again.code, 0, again.stderr);
    const whole = total(await inventory(t.boto, 'radpress', { prefix: 'radpress' }));
    assert.ok(partial < whole, `the lost run stopped with ${partial} of ${whole} resources made`);
  });
});

const total = (found: Record<string, string[]>) => Object.values(found).reduce((n, ids) => n + ids.length, 0);
