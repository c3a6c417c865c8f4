import assert from 'node:assert/strict';
import { describe, it, type mock } from 'node:test';
import { Interrupted } from './errors.js';
import { formatDuration, WaitTimeout, waitFor } from './wait.js';

const timing = { initialDelayMs: 10, maxDelayMs: 40, defaultTimeoutMs: 1_000 };

/** Runs `work` on the test's clock: a millisecond at a time, each after what it set going has run. */
async function onTestClock<T>(timers: typeof mock.timers, work: Promise<T>): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!settled) timers.tick(1);
  }
  return work;
}

describe('waitFor', () => {
  it('polls with growing pauses until done, reporting each state it sees', async (t) => {
    // The pauses are read on a clock the test moves, so a busy machine cannot stretch the first one.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const states: string[] = [];
    const looks: number[] = [];
    let n = 0;
    const value = await onTestClock(
      t.mock.timers,
      waitFor(
        {
          what: 'a thing to become ready',
          check: async () => {
            looks.push(Date.now());
            return ++n < 5 ? { done: false, state: `step ${n}` } : { done: true, value: 'ready' };
          },
        },
        { timing, signal: new AbortController().signal, progress: (s) => states.push(s) },
      ),
    );
    assert.equal(value, 'ready');
    assert.deepEqual(states, ['step 1', 'step 2', 'step 3', 'step 4']);
    const gaps = looks.slice(1).map((t, i) => t - looks[i]!);
    assert.ok(gaps.at(-1)! > gaps[0]!, `pauses grow: ${gaps.join(', ')}`);
  });

  it('gives up after its timeout, naming what it waited for, the last state and what to do', async () => {
    await assert.rejects(
      waitFor(
        {
          what: 'NAT gateway "main" to become available',
          timeoutMs: 80,
          check: async () => ({ done: false, state: 'pending' }),
        },
        { timing, signal: new AbortController().signal, progress: () => {} },
      ),
      (err: unknown) => {
        assert.ok(err instanceof WaitTimeout);
        assert.match(
          err.message,
          /^gave up waiting for NAT gateway "main" to become available after \d+ms; it was still "pending"\. Run the same command again/,
        );
        return true;
      },
    );
  });

  it('stops at once when the run is interrupted', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    await assert.rejects(
      onTestClock(
        t.mock.timers,
        waitFor(
          { what: 'x', check: async () => ({ done: false, state: 'pending' }) },
          { timing: { ...timing, initialDelayMs: 10_000 }, signal: controller.signal, progress: () => {} },
        ),
      ),
      Interrupted,
    );
    assert.ok(Date.now() - started < 1_000, `stopped ${Date.now() - started} ms in, not after its pause`);
  });

  it('writes durations as people read them', () => {
    assert.equal(formatDuration(450), '450ms');
    assert.equal(formatDuration(12_400), '12s');
    assert.equal(formatDuration(372_000), '6m12s');
  });
});
