// Killing a deploy at a chosen point of what it prints, as a crash, a lost machine or `kill -9` would.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { type CliResult, collect, startCli } from '../support/cli.js';

export interface KillPoint {
  /** The event line (1-based) of the deploy's plain output after which the signal is sent. */
  line: number;
  /** Milliseconds after that line, so kills also land inside calls, not only between them. */
  afterMs: number;
}

export interface Killed {
  result: CliResult;
  /** The line the kill was aimed after, as printed. */
  at: string;
  killed: boolean;
}

/** Runs `touchdown <args>` and kills it (SIGKILL) once `point` is reached. */
export async function runUntil(
  args: string[],
  options: Parameters<typeof startCli>[1],
  point: KillPoint,
): Promise<Killed> {
  const child: ChildProcess = startCli(args, options);
  const done = collect(child);
  let count = 0;
  let at = '';
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (line.trim() === '' || ++count !== point.line) return;
    at = line.trim();
    void delay(point.afterMs).then(() => child.kill('SIGKILL'));
  });
  const result = await done;
  return { result, at, killed: result.signal === 'SIGKILL' };
}
