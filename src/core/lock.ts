// One apply or destroy of a stack at a time. The lock holds no state: it only keeps runs apart.
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { sleep } from './wait.js';

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
  /** Unique to one taking of the lock, so a holder knows the lock is still its own. */
  token?: string;
}

/** What a run checks before each change it makes: that the lock it took is still its own. */
export interface Lease {
  /** Throws LeaseLost when another run holds the lock now, or it could not be kept. */
  ensureHeld(): Promise<void>;
}

export interface StackLock extends Lease {
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
      `stack "${stackName}" is being changed by another run (${describeHolder(holder)}, since ${holder.since}). ` +
        'Wait for it to finish, or pass --lock-timeout 10m to wait here.',
    );
  }
}

/** The run no longer holds the stack's lock: it must not change anything more. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
  constructor(
    readonly stackName: string,
    why: string,
  ) {
    super(
      `lost the lock of stack "${stackName}": ${why}. Stopped before the next change; ` +
        'changes already made stay. Run the command again once the other run has finished.',
    );
  }
}

export function describeHolder(holder: LockHolder): string {
  return `${holder.command}, pid ${holder.pid} on ${holder.host}`;
}

export function newHolder(command: string): Required<LockHolder> {
  return {
    pid: process.pid,
    host: hostname(),
    command,
    since: new Date().toISOString(),
    token: randomUUID(),
  };
}

/** True when the holder ran on this machine and its process is gone. */
export function deadHere(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A lock file: for stacks that live on this machine (`touchdown up`); AWS stacks use the S3 lock. */
export class FileLock implements StackLock {
  private me?: Required<LockHolder>;

  constructor(
    readonly path: string,
    readonly stack: string,
    readonly command: string,
  ) {}

  async acquire(options: { timeoutMs: number; onWait?: (holder: LockHolder) => void; signal?: AbortSignal }) {
    await mkdir(dirname(this.path), { recursive: true });
    const me = newHolder(this.command);
    const deadline = Date.now() + options.timeoutMs;
    let told = false;
    for (;;) {
      if (await createWhole(this.path, me)) {
        this.me = me;
        return;
      }
      const holder = await readHolder(this.path);
      if (!holder) continue;
      if (deadHere(holder)) {
        // The holder died (killed, crashed): exactly one of the runs that saw it dead removes its lock.
        if (!(await removeDead(this.path, holder, me))) await sleep(50, options.signal);
        continue;
      }
      if (Date.now() >= deadline) throw new LockHeld(this.stack, holder);
      if (!told) options.onWait?.(holder);
      told = true;
      await sleep(250, options.signal);
    }
  }

  async ensureHeld() {
    if (!this.me) throw new LeaseLost(this.stack, 'this run never took it');
    const holder = await readHolder(this.path);
    if (holder?.token === this.me.token) return;
    throw new LeaseLost(
      this.stack,
      holder ? `${describeHolder(holder)} holds it now` : 'its lock file was removed',
    );
  }

  async release() {
    if (!this.me) return;
    const token = this.me.token;
    this.me = undefined;
    // Only a dead holder's lock is ever removed by another run, so ours is still ours after this read.
    if ((await readHolder(this.path))?.token === token) await rm(this.path, { force: true });
  }
}

/** Creates `path` holding `holder`, whole or not at all (a reader never sees it half written); false if it exists. */
async function createWhole(path: string, holder: LockHolder): Promise<boolean> {
  const draft = `${path}.${holder.token}.draft`;
  await writeFile(draft, JSON.stringify(holder));
  try {
    await link(draft, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(draft, { force: true });
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/**
 * Removes `path`, held by the dead `holder`, so that of all runs racing to take over exactly one does: the
 * taker first creates a marker named after that holder's token, which only one run can create. A taker that
 * dies holding the marker is itself taken over the same way.
 */
async function removeDead(path: string, holder: LockHolder, me: Required<LockHolder>): Promise<boolean> {
  const marker = `${path}.takeover-${holder.token ?? `${holder.pid}-${holder.since}`}`;
  for (;;) {
    if (await createWhole(marker, me)) break;
    const taker = await readHolder(marker);
    if (taker && deadHere(taker) && (await removeDead(marker, taker, me))) continue;
    return false;
  }
  try {
    // Still that holder's lock? Another taker may have finished before this marker was made.
    const now = await readHolder(path);
    if (!now || now.token !== holder.token || now.pid !== holder.pid || now.since !== holder.since)
      return false;
    await rm(path, { force: true });
    return true;
  } finally {
    await rm(marker, { force: true });
  }
}
