// One apply or destroy of a stack at a time. The lock holds no state: it only keeps runs apart.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { sleep } from './wait.js';

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface StackLock {
  /** Takes the lock, waiting up to timeoutMs for another run to finish; throws LockHeld past that. */
  acquire(options: {
    timeoutMs: number;
    onWait?: (holder: LockHolder) => void;
    signal?: AbortSignal;
  }): Promise<void>;
  release(): Promise<void>;
}

export class LockHeld extends Error {
  override readonly name = 'LockHeld';
  constructor(
    readonly stackName: string,
    readonly holder: LockHolder,
  ) {
    super(
      `stack "${stackName}" is being changed by another run (${holder.command}, pid ${holder.pid} on ${holder.host}, since ${holder.since}). ` +
        'Wait for it to finish, or pass --lock-timeout 10m to wait here.',
    );
  }
}

/** A lock file beside the project: right for one person on one machine (the default). */
export class FileLock implements StackLock {
  private held = false;

  constructor(
    readonly path: string,
    readonly stack: string,
    readonly command: string,
  ) {}

  async acquire(options: { timeoutMs: number; onWait?: (holder: LockHolder) => void; signal?: AbortSignal }) {
    await mkdir(dirname(this.path), { recursive: true });
    const me: LockHolder = {
      pid: process.pid,
      host: hostname(),
      command: this.command,
      since: new Date().toISOString(),
    };
    const deadline = Date.now() + options.timeoutMs;
    let told = false;
    for (;;) {
      try {
        await writeFile(this.path, JSON.stringify(me), { flag: 'wx' });
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await this.readHolder();
      if (holder && this.isStale(holder)) {
        // The holder died (killed, crashed): move its lock aside atomically, then try again.
        await rename(this.path, `${this.path}.stale-${process.pid}`).catch(() => undefined);
        await rm(`${this.path}.stale-${process.pid}`, { force: true });
        continue;
      }
      if (!holder) continue;
      if (Date.now() >= deadline) throw new LockHeld(this.stack, holder);
      if (!told) options.onWait?.(holder);
      told = true;
      await sleep(250, options.signal);
    }
  }

  async release() {
    if (!this.held) return;
    this.held = false;
    const holder = await this.readHolder();
    if (holder?.pid === process.pid) await rm(this.path, { force: true });
  }

  private async readHolder(): Promise<LockHolder | undefined> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as LockHolder;
    } catch {
      return undefined;
    }
  }

  private isStale(holder: LockHolder): boolean {
    if (holder.host !== hostname()) return false;
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}
