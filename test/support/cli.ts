// Runs the real touchdown command as a user would, against the local AWS: the built bin in a process of its own
// (startCli), or, for a command that needs none (runCli), its main() in this process, with its own working
// folder, environment and streams, which saves the new process's start (about 0.4 s of CPU each).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
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

/**
 * Commands that start, signal or hand the terminal to processes of their own (up, down, a local manage, bench's
 * load) run as a process of their own.
 */
const OWN_PROCESS = new Set(['up', 'down', 'manage', 'bench']);
let inProcess = false;

/**
 * A touchdown.config.ts imports 'touchdown', which the built command resolves to dist/index.js; from this
 * process's bundle it would be jiti compiling the library's TypeScript sources a second time.
 */
function usesDefinitionFile(args: string[], cwd: string): boolean {
  const config = args.findIndex((a) => a === '-c' || a === '--config');
  const path = config >= 0 ? args[config + 1] : undefined;
  return path ? !/\.ya?ml$/.test(path) : existsSync(join(cwd, 'touchdown.config.ts'));
}

export function runCli(
  args: string[],
  options: { cwd: string; aws: LocalAws; env?: Record<string, string>; process?: boolean },
): Promise<CliResult> {
  // One command at a time in this process: its folder, environment and streams are the process's while it runs.
  if (options.process || inProcess || OWN_PROCESS.has(args[0] ?? '') || usesDefinitionFile(args, options.cwd))
    return collect(startCli(args, options));
  return runInProcess(args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.aws.env, NO_COLOR: '1', ...options.env } as Record<string, string>,
  });
}

/**
 * The command with exactly this environment (nothing of the test's own added), in this process when it can run
 * here (see runCli), waiting for the commands run here before it; else as a process.
 */
export async function runCliWithEnv(
  args: string[],
  options: { cwd: string; env: Record<string, string>; process?: boolean },
): Promise<CliResult> {
  const ownProcess = () =>
    collect(
      spawn(process.execPath, [touchdownBin, ...args], {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  if (options.process || OWN_PROCESS.has(args[0] ?? '') || usesDefinitionFile(args, options.cwd))
    return ownProcess();
  const turn = queue.then(() => (inProcess ? ownProcess() : runInProcess(args, options)));
  queue = turn.catch(() => undefined);
  return turn;
}
let queue: Promise<unknown> = Promise.resolve();

async function runInProcess(
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<CliResult> {
  // Taken before the first await, so a second command started meanwhile gets a process of its own.
  inProcess = true;
  const [{ main }, { streams }] = await Promise.all([
    import('../../src/cli/main.js'),
    import('../../src/cli/streams.js'),
  ]).catch((err) => {
    inProcess = false;
    throw err;
  });
  const saved = { cwd: process.cwd(), env: { ...process.env }, streams: { ...streams } };
  const text = { stdout: '', stderr: '' };
  const sink = (name: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk, _encoding, done) {
        text[name] += chunk;
        done();
      },
    }) as unknown as NodeJS.WriteStream;
  try {
    // As the child process gets it: no terminal anywhere, standard input empty, only its own environment.
    streams.stdin = Readable.from([]) as unknown as NodeJS.ReadStream;
    streams.stdout = sink('stdout');
    streams.stderr = sink('stderr');
    for (const key of Object.keys(process.env)) if (!(key in options.env)) delete process.env[key];
    Object.assign(process.env, options.env);
    process.chdir(options.cwd);
    const code = await main([process.execPath, touchdownBin, ...args]).catch((err: Error) => {
      // What Node does with the unhandled rejection that would end the child process.
      text.stderr += `${err.stack ?? err}\n`;
      return 1;
    });
    return { code, signal: null, ...text };
  } finally {
    process.chdir(saved.cwd);
    for (const key of Object.keys(process.env)) if (!(key in saved.env)) delete process.env[key];
    Object.assign(process.env, saved.env);
    Object.assign(streams, saved.streams);
    inProcess = false;
  }
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
