// The engine reports what it does as typed events; only the CLI decides how they look.
import type { Action } from './plan.js';

export type EngineEvent =
  | { type: 'lock.waiting'; holder: string }
  | { type: 'lock.acquired' }
  | { type: 'find.start'; kinds: number }
  | { type: 'find.done'; found: number; apiCalls: number; ms: number }
  | { type: 'op.start'; address: string; action: Action | 'delete-before-replace' | 'create-after-delete' }
  | { type: 'op.progress'; address: string; message: string; elapsedMs: number }
  | { type: 'op.done'; address: string; action: string; ms: number; id?: string }
  | { type: 'op.failed'; address: string; action: string; error: string; hint?: string }
  | { type: 'op.skipped'; address: string; action: string; because: string }
  | { type: 'interrupt'; inFlight: string[] }
  /** A step of a deploy or an operation (image, migrate, traffic), above the resource level. */
  | {
      type: 'step';
      step: string;
      state: 'start' | 'done' | 'failed' | 'skipped';
      message?: string;
      ms?: number;
    }
  /** A line of output from something the step runs (a build, a one-off task's logs). */
  | { type: 'output'; step: string; line: string };

export type EventSink = (event: EngineEvent) => void;

export const ignoreEvents: EventSink = () => {};
