// Errors as the user sees them: what went wrong and what to do; a stack trace only when asked.
import pc from 'picocolors';
import { ConfigError, ResourceError } from '../core/errors.js';

export function reportError(err: unknown): number {
  const c = pc.createColors(pc.isColorSupported && process.stderr.isTTY);
  const write = (s: string) => process.stderr.write(`${s}\n`);
  if (err instanceof ConfigError) {
    if (err.problems.length > 1) {
      write(c.red(`error: ${err.message}:`));
      for (const p of err.problems) write(`  - ${p}`);
    } else {
      write(c.red(`error: ${err.message}`));
    }
    write(c.dim('Nothing was changed in AWS.'));
    return 1;
  }
  if (err instanceof ResourceError) {
    write(c.red(`error: ${err.message}`));
    if (err.hint) write(c.dim(`what to do: ${err.hint}`));
    return 1;
  }
  const e = err as Error;
  write(c.red(`error: ${e?.message ?? String(err)}`));
  if (process.env.TOUCHDOWN_DEBUG) write(e?.stack ?? '');
  else write(c.dim('Set TOUCHDOWN_DEBUG=1 for the stack trace.'));
  return 1;
}
