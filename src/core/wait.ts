// The one waiter: polls with capped exponential backoff and jitter, reports progress, times out with advice.
import { Interrupted } from './errors.js';
import type { WaitSpec } from './resource.js';

export interface WaitTiming {
  /** First pause between looks; doubles up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Used when a wait names no timeout of its own. */
  defaultTimeoutMs: number;
  /** Scales every wait's timeout (tests of what happens at a timeout use a small factor). Default 1. */
  timeoutFactor?: number;
}

export const DEFAULT_WAIT_TIMING: WaitTiming = {
  initialDelayMs: 1_000,
  // A resource is noticed ready on average half a pause late, on every wait along a deploy's critical path
  // (bench/deploy-critical-path.ts): 5 s keeps that near 1% of a deploy, at one Describe per wait every 5 s.
  maxDelayMs: 5_000,
  defaultTimeoutMs: 30 * 60_000,
};

export class WaitTimeout extends Error {
  override readonly name = 'WaitTimeout';
  constructor(
    readonly what: string,
    readonly lastState: string,
    readonly waitedMs: number,
    readonly hint?: string,
  ) {
    super(
      `gave up waiting for ${what} after ${formatDuration(waitedMs)}; it was still "${lastState}"` +
        (hint
          ? `. ${hint}`
          : '. Run the same command again to keep waiting, or look at the resource in the AWS console'),
    );
  }
}

export async function waitFor<T>(
  spec: WaitSpec<T>,
  options: { timing: WaitTiming; signal: AbortSignal; progress: (state: string, elapsedMs: number) => void },
): Promise<T> {
  const { timing, signal, progress } = options;
  const timeout = (spec.timeoutMs ?? timing.defaultTimeoutMs) * (timing.timeoutFactor ?? 1);
  const started = Date.now();
  let delay = timing.initialDelayMs;
  for (;;) {
    const result = await spec.check();
    if (result.done) return result.value;
    const elapsed = Date.now() - started;
    progress(result.state, elapsed);
    if (elapsed >= timeout) throw new WaitTimeout(spec.what, result.state, elapsed, spec.hint);
    const pause = Math.min(delay, timeout - elapsed) * (0.8 + Math.random() * 0.4);
    await sleep(pause, signal);
    delay = Math.min(delay * 2, timing.maxDelayMs);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Interrupted('stopped while waiting'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Interrupted('stopped while waiting'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Sends `call` until AWS accepts it, waiting with the one waiter while `passing(err)` names a refusal that passes
 * by itself (IAM propagation); any other error, or the wait's timeout, ends it.
 */
export function untilAccepted<T>(
  wait: <V>(spec: WaitSpec<V>) => Promise<V>,
  spec: Omit<WaitSpec<T>, 'check'> & {
    call: () => Promise<T>;
    passing: (err: unknown) => string | undefined;
  },
): Promise<T> {
  return wait({
    what: spec.what,
    timeoutMs: spec.timeoutMs,
    hint: spec.hint,
    check: async () => {
      try {
        return { done: true, value: await spec.call() };
      } catch (err) {
        const state = spec.passing(err);
        if (state === undefined) throw err;
        return { done: false, state };
      }
    },
  });
}
