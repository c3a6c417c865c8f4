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

/** What is in flight, redrawn in place with elapsed times; finished steps scroll above it. */
export function liveProgress(out: NodeJS.WriteStream, c: Colors): ProgressView {
  const log = createLogUpdate(out);
  const running = new Map<string, Running>();
  let frame = 0;
  const draw = () => {
    frame = (frame + 1) % SPINNER.length;
    const now = Date.now();
    const lines = [...running].map(([address, r]) => {
      const extra = r.message ? c.dim(` ${r.message}`) : '';
      return `${c.cyan(SPINNER[frame]!)} ${r.doing} ${c.bold(address)} ${c.dim(formatDuration(now - r.started))}${extra}`;
    });
    log(lines.join('\n'));
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    handle(e) {
      if (e.type === 'op.start')
        running.set(e.address, { doing: DOING[e.action] ?? e.action, started: Date.now() });
      if (e.type === 'op.progress') {
        const r = running.get(e.address);
        if (r) r.message = e.message;
      }
      if (e.type === 'op.done' || e.type === 'op.failed' || e.type === 'op.skipped')
        running.delete(e.address);
      const line = describe(e, c);
      if (line) log.persist(line);
      draw();
    },
    stop() {
      clearInterval(timer);
      log.clear();
      log.done();
    },
  };
}

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
