import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { S3Lock } from '../src/aws/s3/lock.js';
import { FileLock, LeaseLost, LockHeld, type StackLock } from '../src/core/lock.js';
import { useLocalAws } from './support/harness.js';
import { anotherRun, takeOverLock } from './support/lock.js';

const t = useLocalAws();

/** Runs the same contract against each lock kind. */
function contract(name: string, make: () => Promise<[StackLock, StackLock]>) {
  describe(name, () => {
    it('lets one run in and stops the second with a message naming the holder', async () => {
      const [a, b] = await make();
      await a.acquire({ timeoutMs: 0 });
      await assert.rejects(b.acquire({ timeoutMs: 0 }), (err: unknown) => {
        assert.ok(err instanceof LockHeld);
        assert.match(err.message, /being changed by another run \(touchdown apply, pid \d+/);
        assert.match(err.message, /--lock-timeout/);
        return true;
      });
      await a.release();
      await b.acquire({ timeoutMs: 0 });
      await b.release();
    });

    it('makes a waiting run wait until the holder releases', async () => {
      const [a, b] = await make();
      await a.acquire({ timeoutMs: 0 });
      let waitedFor = '';
      // The holder lets go once the second run says it waits: a condition, not a guess at how long that takes.
      let released: Promise<void> | undefined;
      await b.acquire({
        timeoutMs: 5 * 60_000,
        onWait: (h) => {
          waitedFor = h.command;
          released ??= a.release();
        },
      });
      await released;
      assert.equal(waitedFor, 'touchdown apply');
      await b.release();
    });

    it("says the lease is lost once another run took the lock, and then leaves that run's lock alone", async () => {
      const [a, b] = await make();
      await a.acquire({ timeoutMs: 0 });
      await a.ensureHeld();
      await stealFrom(a);
      await assert.rejects(a.ensureHeld(), (err: unknown) => {
        assert.ok(err instanceof LeaseLost, String(err));
        assert.match(
          err.message,
          /lost the lock of stack "web": touchdown deploy, pid 4242 on another-machine holds it now\. Stopped before the next change/,
        );
        return true;
      });
      await a.release();
      await assert.rejects(b.acquire({ timeoutMs: 0 }), /touchdown deploy, pid 4242 on another-machine/);
    });
  });
}

/** Another machine's run writes the lock over `lock`'s, as a run that took it over would. */
async function stealFrom(lock: StackLock): Promise<void> {
  const other = anotherRun('another-machine', 'touchdown deploy');
  if (lock instanceof FileLock) await writeFile(lock.path, JSON.stringify(other));
  else await takeOverLock(t.boto, { bucket: 'team-locks', stack: 'web' }, other);
}

contract('file lock', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'td-lock-'));
  const path = join(dir, 'stack.lock');
  return [new FileLock(path, 'web', 'touchdown apply'), new FileLock(path, 'web', 'touchdown apply')];
});

contract('S3 lock', async () => {
  const aws = t.aws.clients();
  await (await aws.s3()).createBucket({ Bucket: 'team-locks' });
  const opts = { bucket: 'team-locks', stack: 'web', region: 'us-east-1', command: 'touchdown apply' };
  return [new S3Lock(aws, opts), new S3Lock(aws, opts)];
});

describe('a lock left by a killed run', () => {
  it('is taken over at once from a dead process (file lock)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'td-lock-'));
    const path = join(dir, 'stack.lock');
    const dead = await deadPid();
    await writeFile(
      path,
      JSON.stringify({ pid: dead, host: hostname(), command: 'touchdown apply', since: '' }),
    );
    const lock = new FileLock(path, 'web', 'touchdown apply');
    await lock.acquire({ timeoutMs: 0 });
    await lock.release();
  });

  it('is taken over once its lease expired (S3 lock), and is checked with boto3', async () => {
    const aws = t.aws.clients();
    await (await aws.s3()).createBucket({ Bucket: 'team-locks' });
    const key = 'touchdown/locks/web/us-east-1.json';
    const stale = {
      pid: 1,
      host: 'another-machine',
      command: 'touchdown apply',
      since: '',
      expires: new Date(Date.now() - 1000).toISOString(),
    };
    await t.boto.call('s3', 'PutObject', { Bucket: 'team-locks', Key: key, Body: JSON.stringify(stale) });
    const lock = new S3Lock(aws, {
      bucket: 'team-locks',
      stack: 'web',
      region: 'us-east-1',
      command: 'touchdown apply',
    });
    await lock.acquire({ timeoutMs: 0 });
    const held = await t.boto.call('s3', 'GetObject', { Bucket: 'team-locks', Key: key });
    assert.equal(JSON.parse(held.Body).pid, process.pid);
    await lock.release();
    assert.equal(await t.boto.errorOf('s3', 'HeadObject', { Bucket: 'team-locks', Key: key }), '404');
  });
});

describe("two runs taking over a dead holder's lock at the same moment", () => {
  it('let exactly one of them in (file lock), round after round', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'td-lock-'));
    const path = join(dir, 'stack.lock');
    const dead = await deadPid();
    for (let round = 0; round < 60; round++) {
      await writeFile(
        path,
        JSON.stringify({ pid: dead, host: hostname(), command: 'touchdown apply', since: `${round}` }),
      );
      const takers = Array.from({ length: 6 }, () => new FileLock(path, 'web', 'touchdown apply'));
      // Each starts a turn of the event loop after the last, so their reads and takeovers interleave.
      const results = await Promise.allSettled(
        takers.map(async (l, i) => {
          for (let k = 0; k < i; k++) await new Promise((resolve) => setImmediate(resolve));
          return l.acquire({ timeoutMs: 0 });
        }),
      );
      const won = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(won, 1, `round ${round}: ${won} runs hold the lock at once`);
      for (const r of results)
        if (r.status === 'rejected') assert.ok(r.reason instanceof LockHeld, String(r.reason));
      for (const l of takers) await l.release();
      assert.deepEqual(await readdir(dir), [], 'no lock, marker or draft file is left behind');
    }
  });

  it('let exactly one of them in (S3 lock, an expired lease)', async () => {
    const aws = t.aws.clients();
    await (await aws.s3()).createBucket({ Bucket: 'team-locks' });
    const opts = { bucket: 'team-locks', stack: 'web', region: 'us-east-1', command: 'touchdown apply' };
    for (let round = 0; round < 10; round++) {
      const expired = {
        pid: 1,
        host: 'gone',
        command: 'touchdown apply',
        since: '',
        expires: new Date(0).toISOString(),
      };
      await t.boto.call('s3', 'PutObject', {
        Bucket: 'team-locks',
        Key: 'touchdown/locks/web/us-east-1.json',
        Body: JSON.stringify(expired),
      });
      const takers = [1, 2, 3, 4].map(() => new S3Lock(aws, opts));
      const results = await Promise.allSettled(takers.map((l) => l.acquire({ timeoutMs: 0 })));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${round}`);
      for (const l of takers) await l.release();
    }
  });
});

describe('the S3 lock without a bucket named', () => {
  it("lives in the account's own lock bucket, made private on first use, and is shared by every run", async () => {
    const aws = t.aws.clients();
    const opts = { stack: 'web', region: 'us-east-1', command: 'touchdown deploy' };
    const first = new S3Lock(aws, opts);
    await first.acquire({ timeoutMs: 0 });
    const Bucket = 'touchdown-locks-123456789012-us-east-1';
    const held = await t.boto.call('s3', 'GetObject', { Bucket, Key: 'touchdown/locks/web/us-east-1.json' });
    assert.equal(JSON.parse(held.Body).command, 'touchdown deploy');
    const { PublicAccessBlockConfiguration: block } = await t.boto.call('s3', 'GetPublicAccessBlock', {
      Bucket,
    });
    assert.equal(block.BlockPublicAcls && block.RestrictPublicBuckets, true, 'the bucket is private');
    await assert.rejects(new S3Lock(aws, opts).acquire({ timeoutMs: 0 }), LockHeld);
    await first.release();
    await new S3Lock(aws, opts).acquire({ timeoutMs: 0 });
  });
});

/** A process id that existed and is now gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}
