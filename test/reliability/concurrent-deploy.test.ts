// Two deploys of one xkcd stack at once, as two people or two CI jobs would start them: they never interleave.
// Without --lock-timeout the second stops at once, naming the first; with it, the second waits, then runs.
// (test/concurrent.test.ts does the same for `apply` of a touchdown.config.ts.)
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { collect, runCli, startCli } from '../support/cli.js';
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

    const refused = await runCli(deploy(v2), { cwd: a.cwd, aws: t.aws });
    assert.equal(first.exitCode, null, 'the first deploy was still running');
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(
        `stack "${a.stack}" is being changed by another run \\(touchdown deploy, pid ${first.pid} on .*pass --lock-timeout`,
      ),
    );
    assert.doesNotMatch(refused.stderr, /==> /, 'the refused deploy did nothing');

    const second = startCli(deploy(v2, '--lock-timeout', '3m'), { cwd: a.cwd, aws: t.aws });
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
});
