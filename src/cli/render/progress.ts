// Engine events as a person watches them: a live view on a terminal, plain lines otherwise.
import { createLogUpdate } from 'log-update';
import type { Colors } from 'picocolors/types.js';
import type { EngineEvent } from '../../core/events.js';
import { formatDuration } from '../../core/wait.js';

const DOING: Record<string, string> = {
  create: 'creating',
  update: 'updating',
  replace: 'replacing',
  delete: 'deleting',
  'delete-before-replace': 'deleting (to replace)',
  'create-after-delete': 'creating (replacement)',
};
const DONE: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted' };
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface Running {
  doing: string;
  started: number;
  message?: string;
}

export interface ProgressView {
  handle(event: EngineEvent): void;
  stop(): void;
}

/** One line per finished step; nothing redrawn. For logs and CI. */
export function plainProgress(out: NodeJS.WritableStream, c: Colors): ProgressView {
  const write = (s: string) => out.write(`${s}\n`);
  return {
    handle(e) {
      const line = describe(e, c);
      if (line) write(line);
      if (e.type === 'op.start') write(`${DOING[e.action] ?? e.action} ${e.address}`);
      if (e.type === 'op.progress') write(`  ${e.address}: ${e.message} (${formatDuration(e.elapsedMs)})`);
    },
    stop() {},
  };
}

/**
 * What is in flight, redrawn in place with elapsed times; finished steps scroll above it. The frame exists only
 * while something runs (nothing drawn when idle), so lines others write between operations (a plan, a
 * question, a command's own output) are never erased; stop() clears it, and the view resumes on new work.
 */
export function liveProgress(out: NodeJS.WriteStream, c: Colors): ProgressView {
  const log = createLogUpdate(out);
  const running = new Map<string, Running>();
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let drawn = false;
  const draw = () => {
    frame = (frame + 1) % SPINNER.length;
    const now = Date.now();
    const lines = [...running].map(([address, r]) => {
      const extra = r.message ? c.dim(` ${r.message}`) : '';
      return `${c.cyan(SPINNER[frame]!)} ${r.doing} ${c.bold(address)} ${c.dim(formatDuration(now - r.started))}${extra}`;
    });
    if (lines.length > 0) {
      log(lines.join('\n'));
      drawn = true;
    } else clear();
  };
  const clear = () => {
    if (drawn) log.clear();
    drawn = false;
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
    clear();
    log.done();
  };
  return {
    handle(e) {
      if (e.type === 'find.start')
        running.set(READING, {
          doing: 'reading',
          started: Date.now(),
          message: `${e.kinds} kinds of resource`,
        });
      if (e.type === 'find.done') running.delete(READING);
      if (e.type === 'op.start')
        running.set(e.address, { doing: DOING[e.action] ?? e.action, started: Date.now() });
      if (e.type === 'op.progress') {
        const r = running.get(e.address);
        if (r) r.message = e.message;
      }
      if (e.type === 'op.done' || e.type === 'op.failed' || e.type === 'op.skipped')
        running.delete(e.address);
      const line = describe(e, c);
      if (line) {
        clear();
        log.persist(line);
      }
      if (running.size > 0 && !timer) {
        timer = setInterval(draw, 100);
        timer.unref();
      }
      draw();
      if (running.size === 0 && timer) stop();
    },
    stop,
  };
}

/** The live view's line while the engine reads what exists (a plan, status, outputs). */
const READING = 'what exists';

export function describe(e: EngineEvent, c: Colors): string | undefined {
  switch (e.type) {
    case 'lock.waiting':
      return c.yellow(`waiting for another run to finish: ${e.holder}`);
    case 'op.done':
      return `${c.green('✓')} ${DONE[e.action] ?? e.action} ${e.address}${e.id ? c.dim(` (${e.id})`) : ''} ${c.dim(`in ${formatDuration(e.ms)}`)}`;
    case 'op.failed':
      return `${c.red('✗')} ${e.error}${e.hint ? `\n    ${c.dim(e.hint)}` : ''}`;
    case 'op.skipped':
      return `${c.yellow('-')} skipped ${e.address}: it needs ${e.because}, which did not complete`;
    case 'step':
      if (e.state === 'start') return c.bold(`==> ${e.step}`);
      if (e.state === 'done') return c.dim(`    ${e.step} done in ${formatDuration(e.ms ?? 0)}`);
      if (e.state === 'failed') return c.red(`✗ ${e.step} failed: ${e.message ?? ''}`);
      return c.dim(`    ${e.step} skipped${e.message ? `: ${e.message}` : ''}`);
    case 'output':
      return c.dim(`    ${e.line}`);
    case 'interrupt':
      return c.yellow(
        `stopping: no new work starts; waiting for ${e.inFlight.length} call(s) in flight. Press Ctrl-C again to quit at once.`,
      );
    default:
      return undefined;
  }
}
