import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { remainingPaths, type WalkNode, walk } from './walk.js';

/** Nodes that record when they run; `ms` is how long each takes. */
function recorder() {
  const log: string[] = [];
  let inFlight = 0;
  let peak = 0;
  const node = (id: string, deps: string[] = [], ms = 20, fail = false): WalkNode => ({
    id,
    deps,
    run: async () => {
      log.push(`start ${id}`);
      peak = Math.max(peak, ++inFlight);
      await delay(ms);
      inFlight--;
      log.push(`end ${id}`);
      if (fail) throw new Error(`${id} failed`);
    },
  });
  return { log, node, peak: () => peak };
}

describe('walk', () => {
  it('starts a node only after its own dependencies, not after a whole level', async () => {
    const r = recorder();
    // b needs a (fast); d needs c (slow). b must not wait for c.
    await walk([r.node('a', [], 10), r.node('b', ['a'], 10), r.node('c', [], 200), r.node('d', ['c'], 10)], {
      concurrency: 10,
    });
    assert.ok(r.log.indexOf('end a') < r.log.indexOf('start b'));
    assert.ok(r.log.indexOf('end c') < r.log.indexOf('start d'));
    assert.ok(r.log.indexOf('end b') < r.log.indexOf('end c'), 'b finished while c was still running');
  });

  it('runs independent nodes at once, up to the cap', async () => {
    const r = recorder();
    await walk(
      Array.from({ length: 8 }, (_, i) => r.node(`n${i}`, [], 30)),
      { concurrency: 3 },
    );
    assert.equal(r.peak(), 3);
  });

  it('skips what depends on a failure, and lets independent work finish', async () => {
    const r = recorder();
    const out = await walk(
      [
        r.node('bad', [], 5, true),
        r.node('child', ['bad']),
        r.node('grandchild', ['child']),
        r.node('other', [], 50),
      ],
      { concurrency: 10 },
    );
    assert.equal(out.get('bad')?.state, 'failed');
    assert.deepEqual(out.get('child'), { state: 'skipped', because: 'bad' });
    assert.deepEqual(out.get('grandchild'), { state: 'skipped', because: 'bad' });
    assert.equal(out.get('other')?.state, 'done');
    assert.ok(!r.log.includes('start child'));
  });

  it('starts nothing new once stopped, and lets what runs finish', async () => {
    const r = recorder();
    const controller = new AbortController();
    const nodes = [r.node('first', [], 60), r.node('second', ['first'])];
    const running = walk(nodes, { concurrency: 10, signal: controller.signal });
    await delay(10);
    controller.abort();
    const out = await running;
    assert.equal(out.get('first')?.state, 'done');
    assert.equal(out.get('second')?.state, 'not-started');
    assert.deepEqual(r.log, ['start first', 'end first']);
  });

  it('fails nodes caught in a cycle instead of hanging', async () => {
    const r = recorder();
    const out = await walk([r.node('x', ['y']), r.node('y', ['x']), r.node('free')], { concurrency: 2 });
    assert.equal(out.get('free')?.state, 'done');
    const x = out.get('x');
    assert.equal(x?.state, 'failed');
    assert.match(String((x as { error: Error }).error.message), /cycle/);
    assert.notEqual(out.get('y')?.state, 'done');
  });
  it('starts the longest remaining path first when the cap leaves a choice', async () => {
    const r = recorder();
    // Plan order lists the short branch first; the database chain (6 min, then 2 min) decides the walk's end.
    const nodes = [
      { ...r.node('role', [], 5), weight: 1 },
      { ...r.node('policy', ['role'], 5), weight: 1 },
      { ...r.node('database', [], 5), weight: 360 },
      { ...r.node('service', ['database'], 5), weight: 120 },
    ];
    await walk(nodes, { concurrency: 1 });
    assert.deepEqual(
      r.log.filter((l) => l.startsWith('start')),
      ['start database', 'start service', 'start role', 'start policy'],
    );
  });

  it('ranks a node by the whole chain behind it, not its own weight', async () => {
    const r = recorder();
    // "subnet" is quick but heads the chain to the database; "bucket" is slower on its own and ends there.
    const nodes = [
      { ...r.node('bucket', [], 50), weight: 30 },
      { ...r.node('idle', [], 5), weight: 1 },
      { ...r.node('subnet', [], 5), weight: 1 },
      { ...r.node('database', ['subnet'], 5), weight: 360 },
    ];
    await walk(nodes, { concurrency: 2 });
    const starts = r.log.filter((l) => l.startsWith('start'));
    assert.deepEqual(starts.slice(0, 2).sort(), ['start bucket', 'start subnet']);
    assert.ok(starts.indexOf('start database') < starts.indexOf('start idle'), starts.join(', '));
    assert.deepEqual(Object.fromEntries(remainingPaths(nodes)), {
      bucket: 30,
      subnet: 361,
      database: 360,
      idle: 1,
    });
  });
});
