// Two deploys of one xkcd stack at once from two checkouts of the project, as two people or two CI jobs would
// start them: they never interleave. Without --lock-timeout the second stops at once, naming the first; with
// it, the second waits, then runs. Even two deploys kept apart by nothing (each given its own lock bucket)
// never share a release number nor overwrite each other's record.
// (test/concurrent.test.ts does the same for `apply` of a touchdown.config.ts.)
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { collect, runCli, startCli } from '../support/cli.js';
import { anotherRun, takeOverLock } from '../support/lock.js';
import { assertServes, declared, deployArgs as deploy, found, releases, useAppAws, xkcdApp } from './app.js';

const t = useAppAws();

/** When each line of the run's progress was read, to order two runs' steps. */
function timed(child: ChildProcess): { line: string; at: number }[] {
  const lines: { line: string; at: number }[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => lines.push({ line, at: performance.now() }));
  return lines;
}

describe('two deploys of one stack at once', () => {
  it('stops the second with a message naming the first, or makes it wait with --lock-timeout', {
    timeout: 240_000,
  }, async () => {
    const a = await xkcdApp('twice');
    // Another checkout of the same project, in a folder of its own.
    const b = await xkcdApp('twice');
    assert.notEqual(a.cwd, b.cwd);
    const [v1, v2] = [a.image('v1'), a.image('v2')];

    const first = startCli(deploy(v1), { cwd: a.cwd, aws: t.aws });
    const firstDone = collect(first);
    const firstLines = timed(first);
    await new Promise<void>((resolve) =>
      createInterface({ input: first.stderr! }).on(
        'line',
        (l) => l.startsWith('==> infrastructure') && resolve(),
      ),
    );

    const refused = await runCli(deploy(v2), { cwd: b.cwd, aws: t.aws });
    assert.equal(first.exitCode, null, 'the first deploy was still running');
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `stack "${a.stack}" is being changed by another run \\(touchdown deploy, pid ${first.pid} on .*pass --lock-timeout`,
      ),
    );
    assert.doesNotMatch(refused.stderr, /==> /, 'the refused deploy did nothing');

    const second = startCli(deploy(v2, '--lock-timeout', '3m'), { cwd: b.cwd, aws: t.aws });
    const secondLines = timed(second);
    const [one, two] = await Promise.all([firstDone, collect(second)]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    assert.match(
      two.stderr,
      new RegExp(`waiting for another run to finish: touchdown deploy \\(pid ${first.pid} on `),
    );
    const firstEnded = firstLines.find((l) => /^ {4}traffic done/.test(l.line))!.at;
    const secondBegan = secondLines.find((l) => l.line.startsWith('==> infrastructure'))!.at;
    assert.ok(secondBegan > firstEnded, 'the second began after the first had moved traffic');

    assert.deepEqual(
      (await releases(t.boto, a.stack)).map((r) => [r.number, r.status, r.image]),
      [
        [1, 'superseded', v1],
        [2, 'live', v2],
      ],
    );
    await assertServes(t.boto, a.stack, v2);
    assert.deepEqual(await found(t.boto, a), await declared(a, v2));
  });

  it('gives two deploys that nothing keeps apart their own release numbers, and overwrites no record', {
    timeout: 240_000,
  }, async () => {
    const a = await xkcdApp('apart');
    const b = await xkcdApp('apart');
    const [v1, v2, v3] = [a.image('v1'), a.image('v2'), a.image('v3')];
    const first = await runCli(deploy(v1), { cwd: a.cwd, aws: t.aws });
    assert.equal(first.code, 0, first.stdout + first.stderr);

    // Each names a lock bucket of its own, so neither lock keeps the other out.
    await t.boto.call('s3', 'CreateBucket', { Bucket: 'locks-of-a' });
    await t.boto.call('s3', 'CreateBucket', { Bucket: 'locks-of-b' });
    const [two, three] = await Promise.all([
      runCli(deploy(v2, '--lock-bucket', 'locks-of-a'), { cwd: a.cwd, aws: t.aws }),
      runCli(deploy(v3, '--lock-bucket', 'locks-of-b'), { cwd: b.cwd, aws: t.aws }),
    ]);
    const history = await releases(t.boto, a.stack);
    assert.deepEqual(
      history.map((r) => r.number),
      [1, 2, 3],
      `one record per deploy, each number once: ${JSON.stringify(history)}`,
    );
    assert.deepEqual(history.map((r) => r.image).sort(), [v1, v2, v3].sort(), 'no record was overwritten');
    for (const [run, img] of [
      [two, v2],
      [three, v3],
    ] as const) {
      const said = /Release (\d+) of /.exec(run.stdout)?.[1];
      if (run.code !== 0) continue;
      assert.equal(history.find((r) => r.number === Number(said))?.image, img, `release ${said} is ${img}`);
    }
    assert.ok(two.code === 0 || three.code === 0, two.stderr + three.stderr);
  });

  it('stops a deploy whose lock another run took before its next change, and the previous release serves', {
    timeout: 240_000,
  }, async () => {
    const a = await xkcdApp('taken');
    const [v1, v2] = [a.image('v1'), a.image('v2')];
    const first = await runCli(deploy(v1), { cwd: a.cwd, aws: t.aws });
    assert.equal(first.code, 0, first.stdout + first.stderr);

    const run = startCli(deploy(v2), { cwd: a.cwd, aws: t.aws });
    const done = collect(run);
    const lines = timed(run);
    await new Promise<void>((resolve) =>
      createInterface({ input: run.stderr! }).on(
        'line',
        (l) => l.startsWith('==> release task') && resolve(),
      ),
    );
    // Another machine's run takes the lock over, in the account's lock bucket.
    await takeOverLock(
      t.boto,
      { bucket: 'touchdown-locks-123456789012-us-east-1', stack: a.stack },
      anotherRun('ci-runner-7', 'touchdown deploy'),
    );

    const result = await done;
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `lost the lock of stack "${a.stack}": touchdown deploy, pid 4242 on ci-runner-7 holds it now\\. Stopped before the next change`,
      ),
    );
    assert.ok(
      !lines.some((l) => /^ {2}(updating|creating) ecs-service\./.test(l.line)),
      'no service was moved to the new release',
    );
    await assertServes(t.boto, a.stack, v1);
    const history = await releases(t.boto, a.stack);
    assert.deepEqual(
      history.map((r) => [r.number, r.status]),
      [
        [1, 'live'],
        [2, 'started'],
      ],
      'release 2 keeps the number it claimed, and says it never finished',
    );
  });
});
