// Errors as the user sees them: what went wrong and what to do, once; a stack trace only when asked. With
// --json, one JSON document on stdout (for CI), and the same non-zero exit.
import pc from 'picocolors';
import { hintFor } from '../aws/errors.js';
import { ConfigError, ResourceError } from '../core/errors.js';
import { LeaseLost, LockHeld } from '../core/lock.js';
import { streams } from './streams.js';

export interface DescribedError {
  /**
   * input: fix the configuration or command line; aws: an AWS call failed; lock: another run holds the stack;
   * internal: a fault of Touchdown.
   */
  kind: 'input' | 'aws' | 'lock' | 'internal';
  message: string;
  /** Each problem of the input, when there are several. */
  problems?: string[];
  hint?: string;
  /** True when nothing was sent to AWS that changes something. */
  nothingChanged?: boolean;
}

const isAwsError = (err: unknown) =>
  typeof err === 'object' && err !== null && ('$metadata' in err || 'explained' in err);

export function describeError(err: unknown): DescribedError {
  if (err instanceof ConfigError) {
    return {
      kind: 'input',
      message: err.message,
      // One problem that is not the message itself (a YAML error under "not valid YAML") is shown too.
      ...(err.problems.length > 1 || err.problems[0] !== err.message ? { problems: [...err.problems] } : {}),
      nothingChanged: true,
    };
  }
  // Another run holds the stack: its own words say who and what to do; a lock never taken changed nothing.
  if (err instanceof LockHeld) return { kind: 'lock', message: err.message, nothingChanged: true };
  if (err instanceof LeaseLost) return { kind: 'lock', message: err.message };
  if (err instanceof ResourceError) {
    return { kind: 'aws', message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  }
  const e = err as Error;
  const message = e?.message ?? String(err);
  if (isAwsError(err)) {
    const hint = hintFor(err);
    return { kind: 'aws', message, ...(hint ? { hint } : {}) };
  }
  return { kind: 'internal', message };
}

export function shownAlready(message: string): void {
  streams.shown.add(message);
}

export function reportError(err: unknown, options: { json?: boolean } = {}): number {
  const d = describeError(err);
  if (options.json) {
    streams.stdout.write(`${JSON.stringify({ error: d }, null, 2)}\n`);
    return 1;
  }
  const c = pc.createColors(pc.isColorSupported && streams.stderr.isTTY);
  const write = (s: string) => streams.stderr.write(`${s}\n`);
  if (streams.shown.has(d.message)) {
    // Said once, by the step that failed; what to do is still worth a line.
  } else if (d.problems) {
    write(c.red(`error: ${d.message}:`));
    for (const p of d.problems) write(`  - ${p}`);
  } else {
    write(c.red(`error: ${d.message}`));
  }
  if (d.hint) write(c.dim(`what to do: ${d.hint}`));
  if (d.nothingChanged) write(c.dim('Nothing was changed in AWS.'));
  if (d.kind === 'internal') {
    const stack = (err as Error)?.stack;
    if (process.env.TOUCHDOWN_DEBUG) write(stack ?? '');
    else write(c.dim('Set TOUCHDOWN_DEBUG=1 for the stack trace.'));
  }
  return 1;
}
