// The model's clock, in AWS milliseconds. By default real time scaled by the speed-up (benches, deploy tests);
// or a manual clock that moves only when a test advances it, so a test of the model's timing sees each phase
// (still creating a millisecond before its time, available at it) however busy the machine is.

export type ClockKind = 'scaled' | 'manual';

export interface ModelClock {
  readonly kind: ClockKind;
  /** AWS milliseconds since the model started. */
  now(): number;
  /** Moves a manual clock on by this many AWS milliseconds; a scaled clock refuses (real time moves it). */
  advance(awsMs: number): void;
}

export function modelClock(kind: ClockKind, speedup: number): ModelClock {
  return kind === 'manual' ? manualClock() : scaledClock(speedup);
}

/** Real time times the speed-up, from a monotonic source: a change of the system's clock moves nothing. */
export function scaledClock(speedup: number): ModelClock {
  const started = performance.now();
  return {
    kind: 'scaled',
    now: () => (performance.now() - started) * speedup,
    advance: () => {
      throw new Error(
        "the AWS model's clock follows real time (times the speed-up): start the model with clock: 'manual' to advance it",
      );
    },
  };
}

export function manualClock(): ModelClock {
  let awsMs = 0;
  return {
    kind: 'manual',
    now: () => awsMs,
    advance: (by) => {
      if (!(by >= 0)) throw new Error(`the AWS model's clock only moves forward, not by ${by} ms`);
      awsMs += by;
    },
  };
}
