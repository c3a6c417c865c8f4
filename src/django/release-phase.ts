// The release phase of a deploy: migrate, collectstatic and release.commands, in order, each reported as a
// step of its own. Where the runner can, they run in one one-off task (one task start, ~45 s on Fargate,
// instead of one per command); otherwise one run each. Either way the first that fails stops the release.
import type { EventSink } from '../core/events.js';
import type { OneOffResult, OneOffRunner, ReleaseCommand } from './one-off.js';

export type ReleasePhaseOutcome =
  | { status: 'done' }
  | { status: 'cancelled'; step: string; message: string }
  /** `step` is the command that failed, or the whole phase when the output does not say which. */
  | { status: 'failed'; step: string; what: string; result: OneOffResult };

export interface ReleasePhaseOptions {
  events: EventSink;
  runner: OneOffRunner;
  commands: ReleaseCommand[];
  signal: AbortSignal;
  /** Checked before any command runs: a deploy that lost the stack's lock stops. */
  stillHeld: () => Promise<void>;
}

/** The step named when one task's output does not say which of its commands failed. */
export const RELEASE_PHASE_STEP = 'release phase';

export async function runReleasePhase(o: ReleasePhaseOptions): Promise<ReleasePhaseOutcome> {
  if (o.commands.length === 0) return { status: 'done' };
  if (o.runner.releasePhase && o.commands.length > 1) return inOneRun(o, o.runner.releasePhase);
  for (const [name, args] of o.commands) {
    await o.stillHeld();
    const outcome = await asStep(o, name, args.join(' '), () => o.runner.manage(args));
    if (outcome.status !== 'done') return outcome;
  }
  return { status: 'done' };
}

async function asStep(
  o: ReleasePhaseOptions,
  name: string,
  what: string,
  run: () => Promise<OneOffResult>,
): Promise<ReleasePhaseOutcome> {
  const started = Date.now();
  o.events({ type: 'step', step: name, state: 'start' });
  const ms = () => Date.now() - started;
  try {
    const result = await run();
    if (result.exitCode === 0) {
      o.events({ type: 'step', step: name, state: 'done', ms: ms() });
      return { status: 'done' };
    }
    o.events({ type: 'step', step: name, state: 'failed', message: failure(what, result), ms: ms() });
    return { status: 'failed', step: name, what, result };
  } catch (err) {
    o.events({ type: 'step', step: name, state: 'failed', message: (err as Error).message, ms: ms() });
    if (!o.signal.aborted) throw err;
    return { status: 'cancelled', step: name, message: (err as Error).message };
  }
}

/** One run for all: a step starts when the run's output announces its command, and ends when the next does. */
async function inOneRun(
  o: ReleasePhaseOptions,
  releasePhase: NonNullable<OneOffRunner['releasePhase']>,
): Promise<ReleasePhaseOutcome> {
  await o.stillHeld();
  const names = o.commands.map(([name]) => name);
  let current = 0;
  let since = Date.now();
  const end = (state: 'done' | 'failed', message?: string) => {
    const step = names[current]!;
    o.events({ type: 'step', step, state, ms: Date.now() - since, ...(message ? { message } : {}) });
  };
  // The first command's step holds the task's start, as it did when each command had its own task.
  o.events({ type: 'step', step: names[0]!, state: 'start' });
  const started = (name: string) => {
    const next = names.indexOf(name);
    // Commands its output never announced (lines lost) ran all the same: the next one started after them.
    while (current < next) {
      end('done');
      current += 1;
      since = Date.now();
      o.events({ type: 'step', step: names[current]!, state: 'start' });
    }
  };
  let result: Awaited<ReturnType<typeof releasePhase>>;
  try {
    result = await releasePhase(o.commands, started);
  } catch (err) {
    end('failed', (err as Error).message);
    if (!o.signal.aborted) throw err;
    return { status: 'cancelled', step: names[current]!, message: (err as Error).message };
  }
  if (result.exitCode === 0) {
    started(names.at(-1)!);
    end('done');
    return { status: 'done' };
  }
  if (result.failed) {
    started(result.failed[0]);
    end('failed', failure(result.failed[1].join(' '), result));
    return { status: 'failed', step: result.failed[0], what: result.failed[1].join(' '), result };
  }
  // The task's output says nothing (no log stream, or it never started the runner): the phase as a whole.
  const what = o.commands.map(([, args]) => args.join(' ')).join(', then ');
  end('failed', failure(what, result));
  return { status: 'failed', step: RELEASE_PHASE_STEP, what, result };
}

/** `migrate --noinput exited with code 1`, or why there is no exit code. */
export function failure(what: string, result: OneOffResult): string {
  const why =
    result.exitCode === undefined
      ? `stopped without an exit code (${result.reason ?? 'no reason given'})`
      : `exited with code ${result.exitCode}`;
  return `${what} ${why}`;
}
