// The engine's front door: plan, apply, destroy and outputs for one stack. It emits events and never prints.
import { type ApplyReport, executePlan, refusedForData } from './apply.js';
import { SENSITIVE } from './diff.js';
import { type EventSink, ignoreEvents } from './events.js';
import type { Lease, StackLock } from './lock.js';
import {
  buildPlan,
  findAll,
  hasChanges,
  keyOf,
  type Plan,
  type ResourceChange,
  referencedBy,
  topological,
  uniqueTypes,
  type World,
} from './plan.js';
import { collectSources, containsUnknown, resolveDeep } from './ref.js';
import type { AnyResourceType, CloudClients, FindContext, Found } from './resource.js';
import type { Stack } from './stack.js';
import type { WaitTiming } from './wait.js';

export interface EngineOptions {
  stack: Stack;
  /** Every resource type the engine should look for (to find what is no longer declared). */
  registry: readonly AnyResourceType[];
  aws: CloudClients;
  concurrency?: number;
  /**
   * Finds run at once, for a plan: reads are cheap and AWS allows bursts of them (EC2's describe bucket holds
   * 100 requests; https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html). Default 32.
   */
  readConcurrency?: number;
  /** Reads every resource type on each plan, as before the tag index was asked first (for benchmarks). */
  readEveryType?: boolean;
  events?: EventSink;
  signal?: AbortSignal;
  timing?: WaitTiming;
  lock?: StackLock;
  lockTimeoutMs?: number;
  /** A lock taken by the caller (deploy holds it across several applies): checked before each change. */
  lease?: Lease;
}

export interface RunOptions {
  /** Shown the plan before anything changes; return false to stop. */
  confirm?: (plan: Plan, context: { world: World; stack: Stack }) => Promise<boolean>;
  force?: boolean;
  /** Applies changes to these resources alone (see PlanOptions.only). */
  only?: (address: string) => boolean;
}

export interface RunResult {
  plan: Plan;
  /** What exists after the run: found resources and their outputs, by address. */
  world: World;
  /** Absent when there was nothing to do or the plan was not confirmed. */
  report?: ApplyReport;
  confirmed: boolean;
}

export class Engine {
  readonly stack: Stack;
  private readonly events: EventSink;
  private readonly signal: AbortSignal;

  constructor(private readonly options: EngineOptions) {
    this.stack = options.stack;
    this.events = options.events ?? ignoreEvents;
    this.signal = options.signal ?? new AbortController().signal;
  }

  get concurrency(): number {
    return this.options.concurrency ?? 10;
  }

  private get ctx(): FindContext {
    const aws = this.options.aws;
    return { stack: this.stack.name, region: aws.region, aws, account: () => aws.account() };
  }

  plan(only?: (address: string) => boolean): Promise<{ plan: Plan; world: World }> {
    this.stack.check();
    return buildPlan({
      only,
      stack: this.stack,
      registry: this.options.registry,
      ctx: this.ctx,
      concurrency: this.options.readEveryType ? this.concurrency : (this.options.readConcurrency ?? 32),
      readEveryType: this.options.readEveryType,
      events: this.events,
      apiCalls: () => this.options.aws.calls.length,
    });
  }

  /** Plans, asks, applies: under the stack's lock, so two runs never interleave. */
  apply(run: RunOptions = {}): Promise<RunResult> {
    return this.locked(async () => {
      const { plan, world } = await this.plan(run.only);
      return this.carryOut(plan, world, run);
    });
  }

  /** Deletes everything the stack owns, dependents first. Data stores holding data need force. */
  destroy(run: RunOptions = {}): Promise<RunResult> {
    return this.locked(async () => {
      const { plan, world } = await this.planDestroy();
      return this.carryOut(plan, world, run);
    });
  }

  async planDestroy(): Promise<{ plan: Plan; world: World }> {
    this.stack.check();
    const before = this.options.aws.calls.length;
    const types = uniqueTypes(this.options.registry, this.stack);
    // Every type is read, not only those the tag index lists: the index lags, and destroy leaves nothing behind.
    const byType = await findAll(types, this.stack, this.ctx, this.concurrency);
    const world: World = { found: new Map(), outputs: new Map() };
    // Match found resources to declarations in dependency order, resolving references with what was
    // found, so names built from other resources' outputs (a record in a zone) match their declaration.
    const declaredAs = new Map<Found, string>();
    const read = (s: { address: string }) => world.outputs.get(s.address);
    for (const r of topological(this.stack)) {
      const key = keyOf(r, resolveDeep(r.args, read) as Record<string, unknown>);
      const found = byType.get(r.type as AnyResourceType)?.find((f) => f.key === key && !declaredAs.has(f));
      if (!found) continue;
      declaredAs.set(found, r.address);
      world.outputs.set(r.address, found.outputs);
    }
    const all: { address: string; type: AnyResourceType; found: Found }[] = [];
    for (const [type, list] of byType) {
      for (const found of list) {
        let address =
          declaredAs.get(found) ??
          (found.key.startsWith(`${type.kind}.`) ? found.key : `${type.kind}.${found.key}`);
        if (world.found.has(address)) address = `${address}#${found.id}`;
        world.found.set(address, { type, found });
        all.push({ address, type, found });
      }
    }
    const resources: ResourceChange[] = all.map(({ address, type, found }) => {
      const declared = this.stack.get(address);
      const dependsOn = new Set(referencedBy(found, all));
      for (const d of declared ? this.stack.dependencies(declared) : [])
        if (world.found.has(d.address)) dependsOn.add(d.address);
      return {
        address,
        kind: type.kind,
        noun: type.noun,
        path: address.slice(type.kind.length + 1),
        action: 'delete',
        id: found.id,
        changes: [],
        dependsOn: [...dependsOn],
      };
    });
    const summary = { create: 0, update: 0, replace: 0, delete: resources.length, noop: 0 };
    const plan: Plan = {
      format: 'touchdown.plan/1',
      stack: this.stack.name,
      region: this.ctx.region,
      createdAt: new Date().toISOString(),
      resources,
      outputs: {},
      summary,
      apiCalls: this.options.aws.calls.length - before,
    };
    return { plan, world };
  }

  /** The stack's declared outputs, read from what exists now. Sensitive ones only when asked. */
  async outputs(options: { reveal?: boolean } = {}): Promise<Record<string, unknown>> {
    // Only what the outputs name is read, with what it references (names may be built from it).
    const named = new Set<string>();
    for (const o of this.stack.outputs.values())
      for (const s of collectSources(o.value)) named.add(s.address);
    const { world } = await this.plan((address) => named.has(address));
    return this.outputsOf(world, options);
  }

  /** The stack's declared outputs from what a plan found (no second look at AWS). */
  outputsOf(world: World, options: { reveal?: boolean } = {}): Record<string, unknown> {
    const read = (s: { address: string }) => world.found.get(s.address)?.found.outputs;
    const out: Record<string, unknown> = {};
    for (const [name, o] of this.stack.outputs) {
      const v = resolveDeep(o.value, read);
      out[name] = containsUnknown(v) ? null : o.sensitive && !options.reveal ? SENSITIVE : v;
    }
    return out;
  }

  private async carryOut(plan: Plan, world: World, run: RunOptions): Promise<RunResult> {
    if (!hasChanges(plan)) return { plan, world, confirmed: true };
    // Refused before asking: the report says which data stores hold data, once.
    if (!run.force) {
      const refused = await refusedForData(plan, world, this.ctx, this.signal);
      if (refused) return { plan, world, report: refused, confirmed: true };
    }
    const confirmed = run.confirm ? await run.confirm(plan, { world, stack: this.stack }) : true;
    if (!confirmed) return { plan, world, confirmed };
    const report = await executePlan(plan, world, {
      stack: this.stack,
      ctx: this.ctx,
      concurrency: this.concurrency,
      events: this.events,
      signal: this.signal,
      timing: this.options.timing,
      force: run.force,
      lease: this.options.lease ?? this.options.lock,
    });
    return { plan, world, report, confirmed };
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = this.options.lock;
    if (!lock) return fn();
    await lock.acquire({
      timeoutMs: this.options.lockTimeoutMs ?? 0,
      signal: this.signal,
      onWait: (holder) =>
        this.events({
          type: 'lock.waiting',
          holder: `${holder.command} (pid ${holder.pid} on ${holder.host})`,
        }),
    });
    this.events({ type: 'lock.acquired' });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }
}
