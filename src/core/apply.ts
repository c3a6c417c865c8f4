// Carrying out a plan: one operation per change, walked in dependency order under a concurrency cap.
import { objectSchema } from './args.js';
import { diffArgs } from './diff.js';
import { DataLossRefused, Interrupted, ResourceError, type Verb } from './errors.js';
import type { EventSink } from './events.js';
import type { Lease } from './lock.js';
import type { Plan, ResourceChange, World } from './plan.js';
import { containsUnknown, type OutputReader, resolveDeep } from './ref.js';
import type { AnyResourceType, FindContext, Found, OpContext } from './resource.js';
import type { Stack } from './stack.js';
import { DEFAULT_WAIT_TIMING, formatDuration, WaitTimeout, type WaitTiming, waitFor } from './wait.js';
import { type NodeOutcome, type WalkNode, walk } from './walk.js';

export interface ExecuteOptions {
  stack: Stack;
  ctx: FindContext;
  concurrency: number;
  events: EventSink;
  signal: AbortSignal;
  timing?: WaitTiming;
  /** Delete data stores that hold data (after emptying them). */
  force?: boolean;
  /** The stack's lock, checked before each change: a run that lost it stops, and executePlan throws LeaseLost. */
  lease?: Lease;
}

export interface OperationResult {
  address: string;
  action: string;
  state: NodeOutcome['state'];
  error?: string;
  hint?: string;
  because?: string;
}

export interface ApplyReport {
  operations: OperationResult[];
  failed: OperationResult[];
  skipped: OperationResult[];
  notStarted: OperationResult[];
  interrupted: boolean;
  /** Nothing was changed: without force, data stores that hold data (the failed ones) refuse the whole plan. */
  refused?: boolean;
  ms: number;
}

type OpKind = 'create' | 'update' | 'delete';

interface Operation {
  id: string;
  change: ResourceChange;
  kind: OpKind;
  deps: string[];
}

/** Turns a plan into operations: replacements become a delete and a create, deletes run dependents first. */
export function operationsFor(plan: Plan): Operation[] {
  const byAddress = new Map(plan.resources.map((r) => [r.address, r]));
  const ops: Operation[] = [];
  const deleteId = (a: string) => `${a} (delete)`;
  const deleting = (c: ResourceChange | undefined) =>
    c !== undefined && (c.action === 'delete' || c.action === 'replace');
  const writing = (c: ResourceChange | undefined) =>
    c !== undefined && (c.action === 'create' || c.action === 'update' || c.action === 'replace');
  // Who references whom, among the resources being deleted.
  const dependentsOf = new Map<string, string[]>();
  for (const c of plan.resources) {
    for (const d of c.dependsOn) dependentsOf.set(d, [...(dependentsOf.get(d) ?? []), c.address]);
  }
  for (const c of plan.resources) {
    if (deleting(c)) {
      const after = (dependentsOf.get(c.address) ?? [])
        .filter((a) => deleting(byAddress.get(a)))
        .map(deleteId);
      ops.push({ id: deleteId(c.address), change: c, kind: 'delete', deps: after });
    }
    if (writing(c)) {
      const deps = c.dependsOn.filter((d) => writing(byAddress.get(d)));
      if (c.action === 'replace') deps.push(deleteId(c.address));
      ops.push({ id: c.address, change: c, kind: c.action === 'update' ? 'update' : 'create', deps });
    }
  }
  return breakCycles(ops);
}

/** Deletes ordered by references read from AWS can loop (two groups citing each other); drop the closing edge. */
function breakCycles(ops: Operation[]): Operation[] {
  const byId = new Map(ops.map((o) => [o.id, o]));
  const state = new Map<string, 1 | 2>();
  const visit = (op: Operation) => {
    state.set(op.id, 1);
    op.deps = op.deps.filter((d) => {
      const next = byId.get(d);
      if (!next) return false;
      if (state.get(d) === 1) return false;
      if (!state.has(d)) visit(next);
      return true;
    });
    state.set(op.id, 2);
  };
  for (const op of ops) if (!state.has(op.id)) visit(op);
  return ops;
}

export async function executePlan(plan: Plan, world: World, options: ExecuteOptions): Promise<ApplyReport> {
  const started = Date.now();
  const { stack, events, signal } = options;
  const timing = options.timing ?? DEFAULT_WAIT_TIMING;
  const read: OutputReader = (source) => world.outputs.get(source.address);
  const ops = operationsFor(plan);
  const replaced = new Set(plan.resources.filter((r) => r.action === 'replace').map((r) => r.address));

  const contextFor = (change: ResourceChange, opStarted: number): OpContext => ({
    ...options.ctx,
    address: change.address,
    path: change.path,
    signal,
    tags: (user) => options.ctx.aws.ownershipTags(stack.name, change.address.split('#')[0]!, user),
    progress: (message) =>
      events({ type: 'op.progress', address: change.address, message, elapsedMs: Date.now() - opStarted }),
    wait: (spec) =>
      waitFor(spec, {
        timing,
        signal,
        progress: (state) =>
          events({
            type: 'op.progress',
            address: change.address,
            message: `waiting: ${state}`,
            elapsedMs: Date.now() - opStarted,
          }),
      }),
  });

  // Once the lease is lost nothing new starts; what already runs finishes.
  const stopped = new AbortController();
  let lost: unknown;
  const run = async (op: Operation) => {
    const { change } = op;
    if (options.lease) {
      try {
        await options.lease.ensureHeld();
      } catch (err) {
        lost ??= err;
        stopped.abort();
        return;
      }
    }
    const opStarted = Date.now();
    events({
      type: 'op.start',
      address: change.address,
      action: op.kind === 'delete' && change.action === 'replace' ? 'delete-before-replace' : change.action,
    });
    const ctx = contextFor(change, opStarted);
    try {
      const id = await perform(op, ctx);
      events({ type: 'op.done', address: change.address, action: op.kind, ms: Date.now() - opStarted, id });
    } catch (err) {
      const wrapped = wrapError(op, err, options.ctx.aws.hintFor);
      events({
        type: 'op.failed',
        address: change.address,
        action: op.kind,
        error: wrapped.message,
        hint: wrapped.hint,
      });
      throw wrapped;
    }
  };

  const perform = async (op: Operation, ctx: OpContext): Promise<string | undefined> => {
    const { change } = op;
    if (op.kind === 'delete') {
      const entry = world.found.get(change.address);
      if (!entry) return undefined;
      await deleteResource(entry.type, entry.found, ctx, options);
      world.found.delete(change.address);
      return entry.found.id;
    }
    const resource = stack.get(change.address)!;
    const type = resource.type as AnyResourceType;
    const desired = resolveDeep(resource.args, read) as Record<string, unknown>;
    if (containsUnknown(desired)) throw new Error('an argument still refers to a value nobody produced');
    const args = objectSchema(type.fields).parse(desired) as Record<string, unknown>;
    let found: Found;
    if (op.kind === 'create') {
      found = await type.create(ctx, args);
    } else {
      let current = world.found.get(change.address)!.found;
      // Replacing a dependency can change this resource too (a role deleted leaves its instance profile): read it again.
      if (change.dependsOn.some((d) => replaced.has(d)))
        current = await reread(type, current, change.address, ctx);
      const changed = [
        ...diffArgs(type.fields, args, current.args as Record<string, unknown>).filter(
          (c) => !resource.ignoredChanges.has(c.name),
        ),
        ...(current.pending ?? []),
      ];
      if (changed.some((c) => c.forcesReplacement)) {
        throw new Error(
          `it changed since the plan was made (${changed.map((c) => c.name).join(', ')}); run the command again`,
        );
      }
      found =
        changed.length === 0
          ? current
          : await type.update!(
              ctx,
              current,
              args,
              changed.map((c) => c.name),
            );
    }
    world.found.set(change.address, { type, found });
    world.outputs.set(change.address, found.outputs);
    return found.id;
  };

  // Without force, a plan that would delete data changes nothing at all, so the stack keeps working.
  if (!options.force) {
    const refused = await refusedForData(plan, world, options.ctx, signal);
    if (refused) return refused;
  }

  const expected = (op: Operation) => {
    const type = (world.found.get(op.change.address)?.type ?? stack.get(op.change.address)?.type) as
      | AnyResourceType
      | undefined;
    return type?.expectedSeconds?.[op.kind] ?? 1;
  };
  const nodes: WalkNode[] = ops.map((op) => ({
    id: op.id,
    deps: op.deps,
    weight: expected(op),
    run: () => run(op),
  }));
  const outcomes = await walk(nodes, {
    concurrency: options.concurrency,
    signal: AbortSignal.any([signal, stopped.signal]),
    onSkip: (id, because) => {
      const op = ops.find((o) => o.id === id)!;
      events({ type: 'op.skipped', address: op.change.address, action: op.kind, because });
    },
  });
  if (lost) throw lost;
  return reportOf(ops, outcomes, signal, started);
}

function reportOf(
  ops: Operation[],
  outcomes: Map<string, NodeOutcome>,
  signal: AbortSignal,
  started: number,
): ApplyReport {
  const operations = ops.map((op): OperationResult => {
    const outcome = outcomes.get(op.id) ?? { state: 'not-started' };
    const result: OperationResult = { address: op.change.address, action: op.kind, state: outcome.state };
    if (outcome.state === 'failed') {
      const err = outcome.error as ResourceError;
      result.error = err.message;
      if (err.hint) result.hint = err.hint;
    }
    if (outcome.state === 'skipped') result.because = outcome.because;
    return result;
  });
  return {
    operations,
    failed: operations.filter((o) => o.state === 'failed'),
    skipped: operations.filter((o) => o.state === 'skipped'),
    notStarted: operations.filter((o) => o.state === 'not-started'),
    interrupted: signal.aborted,
    ms: Date.now() - started,
  };
}

async function reread(
  type: AnyResourceType,
  found: Found,
  address: string,
  ctx: FindContext,
): Promise<Found> {
  const all = await type.find(ctx, [{ address, key: found.key, args: found.args }]);
  return all.find((f) => f.key === found.key) ?? found;
}

/**
 * Without force, the report of a plan refused whole because deletes in it would lose data; undefined when
 * none would. Callers check it before asking, so nobody confirms a run that is then refused.
 */
export async function refusedForData(
  plan: Plan,
  world: World,
  ctx: FindContext,
  signal: AbortSignal,
): Promise<ApplyReport | undefined> {
  const started = Date.now();
  const ops = operationsFor(plan);
  const refused = await dataStoresHoldingData(ops, world, ctx);
  if (refused.size === 0) return undefined;
  const outcomes = new Map([...refused].map(([id, error]) => [id, { state: 'failed' as const, error }]));
  return { ...reportOf(ops, outcomes, signal, started), refused: true };
}

/** The deletes refused because what they would delete holds data, by operation id, in plan order. */
async function dataStoresHoldingData(
  ops: Operation[],
  world: World,
  ctx: FindContext,
): Promise<Map<string, ResourceError>> {
  const deletes = ops.filter((op) => op.kind === 'delete');
  const held = await Promise.all(
    deletes.map(async (op) => {
      const entry = world.found.get(op.change.address);
      if (entry?.type.holdsDataOnceDependentsGone) return undefined;
      // A look that fails is not a refusal: the delete looks again and reports the error as its own.
      return entry?.type.holdsData?.(ctx, entry.found).catch(() => undefined);
    }),
  );
  const refused = new Map<string, ResourceError>();
  deletes.forEach((op, i) => {
    const holds = held[i];
    if (holds !== undefined) {
      refused.set(
        op.id,
        wrapError(op, new DataLossRefused(op.change.noun, op.change.path, holds), ctx.aws.hintFor),
      );
    }
  });
  return refused;
}

async function deleteResource(type: AnyResourceType, found: Found, ctx: OpContext, options: ExecuteOptions) {
  if (type.holdsData) {
    const holds = await type.holdsData(ctx, found);
    if (holds !== undefined) {
      if (!options.force) throw new DataLossRefused(type.noun, ctx.path, holds);
      ctx.progress(`emptying: ${holds}`);
      await type.empty?.(ctx, found);
    }
  }
  await type.delete(ctx, found);
}

const VERBS: Record<OpKind, Verb> = { create: 'creating', update: 'updating', delete: 'deleting' };

function wrapError(
  op: Operation,
  err: unknown,
  hintFor: (err: unknown) => string | undefined,
): ResourceError {
  if (err instanceof ResourceError) return err;
  const { change } = op;
  if (err instanceof DataLossRefused) {
    return new ResourceError(
      'deleting',
      change.noun,
      change.path,
      `refused: it holds ${err.holds}; run again with --force to delete it and its data`,
      'copy out what you need, then run again with --force to delete it and its data',
    );
  }
  if (err instanceof WaitTimeout) {
    return new ResourceError(
      'waiting for',
      change.noun,
      change.path,
      err,
      err.hint ??
        `it stayed "${err.lastState}" for ${formatDuration(err.waitedMs)}; run the same command again to keep waiting`,
    );
  }
  if (err instanceof Interrupted) {
    return new ResourceError(
      VERBS[op.kind],
      change.noun,
      change.path,
      err,
      'run the same command again to continue',
    );
  }
  return new ResourceError(VERBS[op.kind], change.noun, change.path, err, hintFor(err));
}
