// .touchdown/local/<stack>/state.json: what runs (pids, ports, URL) and what the stack uses, so that `down`,
// `logs --local` and another `up` know about a stack started elsewhere (in another terminal, or detached).
// It holds no secret: service addresses are kept without passwords.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessState } from './events.js';
import type { PostgresServer } from './postgres.js';

export interface LocalState {
  stack: string;
  /** The touchdown process that runs the stack. */
  pid: number;
  detached: boolean;
  status: 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
  startedAt: string;
  region: string;
  url?: string;
  port?: number;
  python?: string;
  localAws?: { endpoint: string; startedByTouchdown: boolean };
  buckets?: { static?: string; media?: string };
  processes: Record<string, { pid?: number; state: ProcessState; restarts: number; port?: number }>;
  services: {
    postgres?: PostgresServer & { database: string };
    redis?: { url: string; database: number };
    rabbitmq?: { url: string; queue: string };
    memcached?: string;
  };
  /** Why it stopped, when it failed: a message and the failing command's last lines. */
  error?: { message: string; output?: string[] };
}

/** Set in every process of a stack, so a recorded pid can be told apart from a reused one. */
export const STACK_VARIABLE = 'TOUCHDOWN_LOCAL_STACK';

export const statePath = (dir: string) => join(dir, 'state.json');
export const logDir = (dir: string) => join(dir, 'logs');

export async function readState(dir: string): Promise<LocalState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(dir), 'utf8')) as LocalState;
  } catch {
    return undefined;
  }
}

export async function writeState(dir: string, state: LocalState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = `${statePath(dir)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, statePath(dir));
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The stack's touchdown process, when one runs it now. */
export function runningStack(state: LocalState | undefined): LocalState | undefined {
  return state && state.status !== 'stopped' && state.status !== 'failed' && isAlive(state.pid)
    ? state
    : undefined;
}

/** Removes the password from a service URL before it is written down. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}
