import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Interrupted } from './errors.js';
import { formatDuration, WaitTimeout, waitFor } from './wait.js';

const timing = { initialDelayMs: 10, maxDelayMs: 40, defaultTimeoutMs: 1_000 };

describe('waitFor', () => {
  it('polls with growing pauses until done, reporting each state it sees', async () => {
    const states: string[] = [];
    const looks: number[] = [];
    let n = 0;
    const value = await waitFor(
      {
        what: 'a thing to become ready',
        check: async () => {
          looks.push(Date.now());
          return ++n < 5 ? { done: false, state: `step ${n}` } : { done: true, value: 'ready' };
        },
      },
      { timing, signal: new AbortController().signal, progress: (s) => states.push(s) },
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

  it('stops at once when the run is interrupted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    await assert.rejects(
      waitFor(
        { what: 'x', check: async () => ({ done: false, state: 'pending' }) },
        { timing: { ...timing, initialDelayMs: 10_000 }, signal: controller.signal, progress: () => {} },
      ),
      Interrupted,
    );
    assert.ok(Date.now() - started < 1_000);
  });

  it('writes durations as people read them', () => {
    assert.equal(formatDuration(450), '450ms');
    assert.equal(formatDuration(12_400), '12s');
    assert.equal(formatDuration(372_000), '6m12s');
  });
});
