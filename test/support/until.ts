// Waits on a condition, never on a clock: it ends as soon as the condition holds, however slow the machine,
// and fails only when the work that should make it hold has ended without it (the test runner bounds the rest).
import { setTimeout as pause } from 'node:timers/promises';

/** Looks every few milliseconds until `holds()`; rejects if `during` settles first while it still does not hold. */
export async function until(
  what: string,
  holds: () => boolean | Promise<boolean>,
  during?: Promise<unknown>,
): Promise<void> {
  let ended: { how: string } | undefined;
  during?.then(
    () => {
      ended = { how: 'finished' };
    },
    (err: Error) => {
      ended = { how: `failed: ${err?.message ?? err}` };
    },
  );
  for (;;) {
    if (await holds()) return;
    // One more look after it ended: the condition may have come true in its last step.
    if (ended) {
      if (await holds()) return;
      throw new Error(`waiting for ${what}: the work it depends on ${ended.how} first`);
    }
    await pause(5);
  }
}
