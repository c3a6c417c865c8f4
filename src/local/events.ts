// What `touchdown up` reports as it runs the stack on this machine; the CLI decides how it looks.
import type { EngineEvent } from '../core/events.js';

export type ProcessState =
  | 'starting'
  | 'running'
  | 'healthy'
  | 'unhealthy'
  | 'exited'
  | 'restarting'
  | 'stopping'
  | 'stopped';

export type LocalEvent =
  /** A service the stack uses, found and ready: PostgreSQL, Redis, the local AWS, the Python interpreter. */
  | { type: 'local.service'; service: string; detail: string }
  | {
      type: 'local.process';
      name: string;
      state: ProcessState;
      pid?: number;
      port?: number;
      restarts: number;
      /** Why it is in this state: an exit code, a failed health check. */
      detail?: string;
    }
  /** A line a process wrote. */
  | { type: 'local.log'; name: string; line: string }
  | { type: 'local.schedule'; name: string; cron: string; next?: string; detail?: string }
  | { type: 'local.ready'; url: string; stack: string; localAws: string }
  | { type: 'local.stopping' }
  | { type: 'local.stopped' };

export type UpEvent = EngineEvent | LocalEvent;
export type UpEventSink = (event: UpEvent) => void;
