import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { useLocalAws } from '../../test/support/harness.js';
import { S3Lock } from '../aws/s3/lock.js';
import { FileLock, LockHeld, type StackLock } from './lock.js';

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
      const second = b.acquire({ timeoutMs: 10_000, onWait: (h) => (waitedFor = h.command) });
      setTimeout(() => void a.release(), 300);
      await second;
      assert.equal(waitedFor, 'touchdown apply');
      await b.release();
    });
  });
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

/** A process id that existed and is now gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}
