// Creates that survive a lost answer. A dropped connection, a timeout or a server error after AWS did the
// work leaves the create done and its answer lost: sent again blindly, it makes a second one (a VPC) or fails
// on the first ("already exists", then blamed on someone else). Inside createOnce the SDK retries only what
// AWS surely refused (throttling, a refused connection); after a lost answer the thing is looked for, adopted
// when it is this stack's own, and the create sent again only when nothing is there.
//   const role = await createOnce(() => iam.createRole({...}).then((r) => r.Role!), async () => {
//     const r = await describeRole(name);
//     return r && { value: r, ours: ownedHere(ctx, tagMap(r.Tags)) };
//   });
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OpContext } from '../core/resource.js';
import { errorCode, httpStatus, type MiddlewareStack } from './errors.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap } from './tags.js';

/** What is there under the create's name or tags, and whether this stack's resource at this address made it. */
export interface Existing<T> {
  value: T;
  ours: boolean;
}

/** A create sent this many times at most, each after a look found nothing. */
const SENDS = 4;

/** Set while a create runs inside createOnce: its calls' lost answers come back here, not to the SDK's retry. */
const guarded = new AsyncLocalStorage<true>();

/** The answer of a call that may have taken effect was lost: the SDK must not send it again blindly. */
export class AnswerLost extends Error {
  constructor(readonly lost: unknown) {
    super(`its answer was lost (${(lost as Error)?.message ?? String(lost)})`);
    this.name = 'AnswerLost';
  }
}

/** "Already exists" in each API's words: DBInstanceAlreadyExists, InvalidGroup.Duplicate, ConflictException... */
export function isAlreadyExists(err: unknown): boolean {
  return /AlreadyExists|Duplicate|AlreadyOwnedByYou|AlreadyAssociated|Conflict/.test(errorCode(err));
}

/** Carries this stack's ownership tags for the resource being created (see OpContext.tags). */
export function ownedHere(ctx: Pick<OpContext, 'tags'>, tags: TagMap | undefined): boolean {
  const mine = ctx.tags();
  return tags?.[STACK_TAG] === mine[STACK_TAG] && tags?.[RESOURCE_TAG] === mine[RESOURCE_TAG];
}

/**
 * Sends a create and returns what it made, once: when its answer is lost or it finds the thing already
 * there, `existing` looks, and what this stack made is adopted. Anything else that is there fails the create
 * with AWS's own "already exists" error (its hint says it is not this stack's).
 */
export async function createOnce<T>(
  send: () => Promise<T>,
  existing: () => Promise<Existing<T> | undefined>,
): Promise<T> {
  for (let sent = 1; ; sent++) {
    try {
      return await guarded.run(true, send);
    } catch (err) {
      const lost = err instanceof AnswerLost;
      if (!lost && !isAlreadyExists(err)) throw err;
      const there = await existing();
      if (there?.ours) return there.value;
      if (!lost || there || sent >= SENDS) throw err;
      // Nothing there: the call never took effect, and sending it again is safe.
      await sleep(100 * 2 ** sent * Math.random());
    }
  }
}

/** The first of what a look by this stack's ownership tags found: ours by how it was found. */
export function foundOurs<T>(list: readonly T[] | undefined): Existing<T> | undefined {
  const [first] = list ?? [];
  return first === undefined ? undefined : { value: first, ours: true };
}

/** Network failures after the request may have reached AWS (a refused connection or bad DNS never did). */
const AMBIGUOUS_NETWORK = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

/** A failure after which AWS may have carried the call out: a dropped connection, a timeout, a 5xx answer. */
function mayHaveTakenEffect(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $retryable?: { throttling?: boolean } };
  if (
    e?.$retryable?.throttling ||
    /Throttl|RequestLimitExceeded|SlowDown|TooManyRequests/.test(errorCode(err))
  )
    return false;
  if (AMBIGUOUS_NETWORK.has(e?.code ?? '') || e?.name === 'TimeoutError') return true;
  return (httpStatus(err) ?? 0) >= 500;
}

/** Inside the SDK's retry loop: a guarded call's ambiguous failure ends the call as AnswerLost. */
export function addLostAnswerGuard(stack: MiddlewareStack): void {
  stack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (guarded.getStore() && mayHaveTakenEffect(err)) throw new AnswerLost(err);
        throw err;
      }
    },
    { step: 'finalizeRequest', name: 'touchdownLostAnswerGuard', priority: 'low' },
  );
}
