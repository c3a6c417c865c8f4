// A named step of a longer run (a deploy, `touchdown up`), reported as it starts, ends or fails.
import type { EventSink } from './events.js';

export async function runStep<T>(events: EventSink, name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  events({ type: 'step', step: name, state: 'start' });
  try {
    const value = await run();
    events({ type: 'step', step: name, state: 'done', ms: Date.now() - started });
    return value;
  } catch (err) {
    events({
      type: 'step',
      step: name,
      state: 'failed',
      message: (err as Error).message,
      ms: Date.now() - started,
    });
    throw err;
  }
}
