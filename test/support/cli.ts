// Runs the real touchdown command (the built bin) as a user would, against the local AWS.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalAws } from './local-aws.js';
import { repoRoot } from './paths.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const touchdownBin = join(repoRoot, 'bin', 'touchdown.js');

export function startCli(
  args: string[],
  options: { cwd: string; aws: LocalAws; env?: Record<string, string> },
): ChildProcess {
  return spawn(process.execPath, [touchdownBin, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.aws.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

export function runCli(
  args: string[],
  options: { cwd: string; aws: LocalAws; env?: Record<string, string> },
): Promise<CliResult> {
  return collect(startCli(args, options));
}

/**
 * A private copy of an example project's configuration: Touchdown writes beside it (.touchdown/), so test
 * files running at once must not share one folder; two copies are two checkouts of one project.
 */
export async function copyOfExample(example: string, files: string[]): Promise<string> {
  const { copyFile } = await import('node:fs/promises');
  const dir = await mkdtemp(join(tmpdir(), `touchdown-${example}-`));
  for (const f of files) await copyFile(join(repoRoot, 'examples', example, f), join(dir, f));
  return dir;
}

/** A project directory holding one touchdown.config.ts. */
export async function projectWith(config: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-'));
  await writeFile(join(dir, 'touchdown.config.ts'), config);
  return dir;
}
