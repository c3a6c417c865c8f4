import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pc from 'picocolors';
import { liveProgress } from './progress.js';

const c = pc.createColors(false);
const ESC = String.fromCharCode(27);

/** A terminal screen for the escapes log-update writes: cursor up/down/left, erase line, erase to its end. */
class Screen extends Writable {
  readonly isTTY = true;
  readonly columns = 120;
  readonly rows = 40;
  lines: string[] = [''];
  row = 0;
  col = 0;

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.put(chunk.toString());
    done();
  }

  put(text: string): void {
    const parts = text.split(new RegExp(`(${ESC}\\[[?0-9;]*[A-Za-z])`));
    for (const part of parts) {
      const sequence = new RegExp(`^${ESC}\\[([?0-9;]*)([A-Za-z])$`).exec(part);
      if (sequence) this.escape(sequence[1]!, sequence[2]!);
      else for (const ch of part) this.char(ch);
    }
  }

  private escape(arg: string, code: string): void {
    const n = Number(arg || 1);
    if (code === 'A') this.row = Math.max(0, this.row - n);
    else if (code === 'B') this.row += n;
    else if (code === 'G') this.col = 0;
    else if (code === 'K')
      this.lines[this.row] = (this.lines[this.row] ?? '').slice(0, arg === '2' ? 0 : this.col);
    // ?2026h/l (synchronized output) and ?25l/h (cursor) change nothing on the screen.
  }

  private char(ch: string): void {
    if (ch === '\n') {
      this.row++;
      this.col = 0;
    } else if (ch === '\r') this.col = 0;
    else {
      const line = (this.lines[this.row] ?? '').padEnd(this.col);
      this.lines[this.row] = line.slice(0, this.col) + ch + line.slice(this.col + 1);
      this.col++;
    }
    while (this.lines.length <= this.row) this.lines.push('');
  }

  text(): string {
    return this.lines.join('\n');
  }
}

describe('the live view on a terminal', () => {
  it('keeps the lines a command prints between reads of the stack (status, outputs)', () => {
    const screen = new Screen();
    const view = liveProgress(screen as unknown as NodeJS.WriteStream, c);
    // status: a plan, the view closed, then the outputs (a second read), then its lines, then closed again.
    view.handle({ type: 'find.start', kinds: 40 });
    assert.match(screen.text(), /reading what exists .*40 kinds of resource/, 'reading shows progress');
    view.handle({ type: 'find.done', found: 33, apiCalls: 60, ms: 9000 });
    view.stop();
    view.handle({ type: 'find.start', kinds: 40 });
    view.handle({ type: 'find.done', found: 33, apiCalls: 60, ms: 9000 });
    screen.put('xkcd-production (us-east-1)\n  infrastructure: up to date\n');
    view.stop();
    assert.deepEqual(screen.lines.filter(Boolean), [
      'xkcd-production (us-east-1)',
      '  infrastructure: up to date',
    ]);
  });

  it('keeps finished steps above the operations in flight, and clears only its own frame', () => {
    const screen = new Screen();
    const view = liveProgress(screen as unknown as NodeJS.WriteStream, c);
    view.handle({ type: 'op.start', address: 'bucket.media', action: 'create' });
    view.handle({ type: 'op.start', address: 'queue.jobs', action: 'create' });
    assert.match(screen.text(), /creating bucket\.media/);
    view.handle({ type: 'op.done', address: 'bucket.media', action: 'create', ms: 1200 });
    view.handle({ type: 'op.done', address: 'queue.jobs', action: 'create', ms: 1500 });
    screen.put('Apply complete: 2 created, 0 updated, 0 deleted in 1.5s.\n');
    view.stop();
    const shown = screen.lines.filter(Boolean);
    assert.equal(shown.length, 3, shown.join('\n'));
    assert.match(shown[0]!, /✓ created bucket\.media/);
    assert.match(shown[1]!, /✓ created queue\.jobs/);
    assert.match(shown[2]!, /^Apply complete/);
  });
});
