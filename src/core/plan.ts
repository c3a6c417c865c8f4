// Planning: what exists (found live, by tag or name; there is no state file) against what is declared.
// The result is a plain, serialisable value; sensitive values never enter it.
import pLimit from 'p-limit';
import { objectSchema } from './args.js';
import { type AttributeChange, creationAttributes, diffArgs, SENSITIVE } from './diff.js';
import { ConfigError, ResourceError } from './errors.js';
import type { EventSink } from './events.js';
import {
  containsUnknown,
  isUnknown,
  type OutputReader,
  type RefSource,
  resolveDeep,
  UNKNOWN,
} from './ref.js';
import type { AnyResourceType, FindContext, Found, Resource } from './resource.js';
import type { Stack } from './stack.js';
import { describeIssues } from './stack.js';

export type Action = 'create' | 'update' | 'replace' | 'delete' | 'noop';

export interface ResourceChange {
  address: string;
  kind: string;
  noun: string;
  /** The name the user gave, with its parents: `radpress/lb`. */
  path: string;
  action: Action;
  /** What AWS calls it now, when it exists. */
  id?: string;
  /** Why a delete is planned: no longer declared, or a duplicate left by an interrupted run. */
  reason?: string;
  /** The arguments whose change forces a replacement. */
  replaceBecause?: string[];
  changes: AttributeChange[];
  /** Addresses this resource references; deletes run in the opposite order. */
  dependsOn: string[];
}

export interface Plan {
  format: 'touchdown.plan/1';
  stack: string;
  region: string;
  createdAt: string;
  resources: ResourceChange[];
  outputs: Record<string, unknown>;
  summary: Record<Action, number>;
  /** AWS API calls the plan made to read what exists. */
  apiCalls: number;
}

/** What the planner learnt that a plan must not carry: the found resources themselves. */
export interface World {
  found: Map<string, { type: AnyResourceType; found: Found }>;
  /** Outputs known now, by address: from resources that exist and are not being replaced. */
  outputs: Map<string, Record<string, unknown>>;
}

export interface PlanOptions {
  stack: Stack;
  /** Every resource type Touchdown knows, so resources of types no longer declared are found too. */
  registry: readonly AnyResourceType[];
  ctx: FindContext;
  concurrency: number;
  events: EventSink;
  apiCalls: () => number;
  /** Plans changes to these resources alone (a release's task definition); the rest is left as it is. */
  only?: (address: string) => boolean;
  /** Reads every type of the registry, as before the tag index was asked first (benchmarks compare both). */
  readEveryType?: boolean;
}

/**
 * Everything that exists for the stack, by type, in one batched pass per type. With `present`, a type the
 * stack does not declare is read only when the cloud's index lists something of the stack where it lives:
 * that index is asked while the declared types are read, so it costs no extra round trip.
 */
export async function findAll(
  types: readonly AnyResourceType[],
  stack: Stack,
  ctx: FindContext,
  concurrency: number,
  options: { present?: boolean } = {},
): Promise<Map<AnyResourceType, Found[]>> {
  const limit = pLimit(concurrency);
  const noOutputs: OutputReader = () => undefined;
  const read = (type: AnyResourceType) =>
    limit(async () => {
      const wanted = stack.resources
        .filter((r) => r.type === type)
        .map((r) => {
          const args = resolveDeep(r.args, noOutputs) as Record<string, unknown>;
          return { address: r.address, key: keyOf(r, args), args };
        });
      try {
        return [type, await type.find(ctx, wanted as never)] as const;
      } catch (err) {
        throw new ResourceError(
          'reading',
          `${plural(type.noun)} of stack`,
          stack.name,
          err,
          ctx.aws.hintFor(err),
        );
      }
    });
  const declared = new Set(stack.resources.map((r) => r.type as AnyResourceType));
  const onlyIfListed = (t: AnyResourceType) => Boolean(options.present && t.listedAs && !declared.has(t));
  const maybe = types.filter(onlyIfListed);
  // The declared types' requests leave first: theirs are the reads that find something and read on.
  const ours = types.filter((t) => declared.has(t)).map(read);
  const listings = [...new Set(maybe.map((t) => t.listedAs!))];
  const present =
    listings.length === 0
      ? Promise.resolve(new Set<string>())
      : ctx.aws.listed(stack.name, listings).catch((err: unknown) => {
          throw new ResourceError('reading', 'resources of stack', stack.name, err, ctx.aws.hintFor(err));
        });
  const others = types.filter((t) => !declared.has(t) && !onlyIfListed(t)).map(read);
  const [first, then] = await Promise.all([
    Promise.all([...ours, ...others]),
    present.then((found) => Promise.all(maybe.filter((t) => found.has(t.listedAs!)).map(read))),
  ]);
  return new Map([...first, ...then]);
}

export async function buildPlan(options: PlanOptions): Promise<{ plan: Plan; world: World }> {
  const { stack, ctx, events } = options;
  // A partial plan (a release's task definition) reads only its resources' types and those they reference.
  const types = options.only ? typesNeeded(stack, options.only) : uniqueTypes(options.registry, stack);
  const started = Date.now();
  const callsBefore = options.apiCalls();
  events({ type: 'find.start', kinds: types.length });
  const byType = await findAll(types, stack, ctx, options.concurrency, { present: !options.readEveryType });
  const foundCount = [...byType.values()].reduce((n, list) => n + list.length, 0);
  events({
    type: 'find.done',
    found: foundCount,
    apiCalls: options.apiCalls() - callsBefore,
    ms: Date.now() - started,
  });

  // Found resources by type and key: a stack of thousands matches each declaration in one look.
  const byKey = new Map<AnyResourceType, Map<string, Found[]>>();
  for (const [type, list] of byType) {
    const keyed = new Map<string, Found[]>();
    for (const f of list) keyed.set(f.key, [...(keyed.get(f.key) ?? []), f]);
    byKey.set(type, keyed);
  }
  const world: World = { found: new Map(), outputs: new Map() };
  const claimed = new Set<Found>();
  const changes: ResourceChange[] = [];
  const read: OutputReader = (source: RefSource) => world.outputs.get(source.address);
  const problems: string[] = [];

  for (const resource of topological(stack)) {
    const type = resource.type as AnyResourceType;
    const desired = resolveDeep(resource.args, read) as Record<string, unknown>;
    if (!containsUnknown(desired)) {
      const checked = objectSchema(type.fields).safeParse(desired, { reportInput: true });
      if (!checked.success) problems.push(...describeIssues(resource.address, type, checked.error.issues));
    }
    const key = keyOf(resource, desired);
    const candidates = key === undefined ? [] : (byKey.get(type)?.get(key) ?? []);
    const [existing, ...duplicates] = candidates;
    const dependsOn = stack.dependencies(resource).map((d) => d.address);
    const base = {
      address: resource.address,
      kind: type.kind,
      noun: type.noun,
      path: resource.path,
      dependsOn,
    };
    for (const f of candidates) claimed.add(f);
    if (options.only && !options.only(resource.address)) {
      // Left as it is: what exists lends its outputs to the resources this plan does change.
      if (existing) {
        world.found.set(resource.address, { type, found: existing });
        world.outputs.set(resource.address, existing.outputs);
      }
      changes.push({ ...base, action: 'noop', ...(existing ? { id: existing.id } : {}), changes: [] });
      continue;
    }
    for (const dup of duplicates) {
      const address = `${resource.address}#${dup.id}`;
      world.found.set(address, { type, found: dup });
      changes.push({
        ...base,
        address,
        action: 'delete',
        id: dup.id,
        reason: `duplicate of ${resource.address}`,
        changes: [],
        dependsOn: [],
      });
    }
    if (!existing) {
      changes.push({ ...base, action: 'create', changes: creationAttributes(type.fields, desired) });
      continue;
    }
    world.found.set(resource.address, { type, found: existing });
    const attrs = [
      ...diffArgs(type.fields, desired, existing.args as Record<string, unknown>).filter(
        (a) => !resource.ignoredChanges.has(a.name),
      ),
      ...(type.update ? (existing.pending ?? []) : []),
    ];
    const forcing = attrs.filter((a) => a.forcesReplacement).map((a) => a.name);
    const action: Action =
      attrs.length === 0 ? 'noop' : forcing.length > 0 || !type.update ? 'replace' : 'update';
    if (action === 'noop') world.outputs.set(resource.address, existing.outputs);
    if (action === 'update') {
      const changing = Object.fromEntries((type.updatedOutputs ?? []).map((k: string) => [k, UNKNOWN]));
      world.outputs.set(resource.address, { ...existing.outputs, ...changing });
    }
    const change: ResourceChange = { ...base, action, id: existing.id, changes: attrs };
    if (action === 'replace') change.replaceBecause = forcing.length > 0 ? forcing : attrs.map((a) => a.name);
    changes.push(change);
  }
  if (problems.length > 0) throw new ConfigError(problems[0]!, problems);

  // What the stack owns but no longer declares is deleted, dependents first (not in a partial plan).
  const orphans: { address: string; type: AnyResourceType; found: Found }[] = [];
  for (const [type, list] of options.only ? [] : byType) {
    for (const found of list) {
      if (claimed.has(found)) continue;
      const address = found.key.startsWith(`${type.kind}.`) ? found.key : `${type.kind}.${found.key}`;
      orphans.push({ address: world.found.has(address) ? `${address}#${found.id}` : address, type, found });
    }
  }
  for (const o of orphans) world.found.set(o.address, { type: o.type, found: o.found });
  for (const o of orphans) {
    changes.push({
      address: o.address,
      kind: o.type.kind,
      noun: o.type.noun,
      path: o.address.slice(o.type.kind.length + 1),
      action: 'delete',
      id: o.found.id,
      reason: 'no longer declared',
      changes: [],
      dependsOn: referencedBy(o.found, orphans),
    });
  }

  const summary = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 } satisfies Record<Action, number>;
  for (const c of changes) summary[c.action]++;
  const plan: Plan = {
    format: 'touchdown.plan/1',
    stack: stack.name,
    region: ctx.region,
    createdAt: new Date().toISOString(),
    resources: changes,
    outputs: planOutputs(stack, read),
    summary,
    apiCalls: options.apiCalls() - callsBefore,
  };
  return { plan, world };
}

export function hasChanges(plan: Plan): boolean {
  return plan.resources.some((r) => r.action !== 'noop');
}

/** Addresses of the other resources whose id or ARN appears in this one's attributes. */
export function referencedBy(found: Found, others: readonly { address: string; found: Found }[]): string[] {
  const values = new Set<string>();
  collectStrings(found.args, values);
  return others
    .filter((o) => o.found !== found)
    .filter((o) => values.has(o.found.id) || values.has(String(o.found.outputs.arn ?? '\0')))
    .map((o) => o.address);
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, into);
  else if (typeof value === 'object' && value !== null)
    for (const v of Object.values(value)) collectStrings(v, into);
}

function planOutputs(stack: Stack, read: OutputReader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, o] of stack.outputs) {
    const v = resolveDeep(o.value, read);
    out[name] = o.sensitive && !containsUnknown(v) ? SENSITIVE : v;
  }
  return out;
}

export function keyOf(resource: Resource, args: Record<string, unknown>): string | undefined {
  const identity = resource.type.identity;
  if (identity.by === 'address') return resource.address;
  const name = identity.name(args as never);
  return typeof name === 'string' && !isUnknown(name) ? name : undefined;
}

/** The types of the resources `only` selects and of everything they reference, however indirectly. */
function typesNeeded(stack: Stack, only: (address: string) => boolean): AnyResourceType[] {
  const seen = new Set<Resource>();
  const visit = (r: Resource) => {
    if (seen.has(r)) return;
    seen.add(r);
    for (const d of stack.dependencies(r)) visit(d);
  };
  for (const r of stack.resources) if (only(r.address)) visit(r);
  return [...new Set([...seen].map((r) => r.type as AnyResourceType))];
}

export function uniqueTypes(registry: readonly AnyResourceType[], stack: Stack): AnyResourceType[] {
  const types = new Set<AnyResourceType>(registry);
  for (const r of stack.resources) types.add(r.type as AnyResourceType);
  return [...types];
}

/** Resources in an order where each comes after everything it references. */
export function topological(stack: Stack): Resource[] {
  const done = new Set<Resource>();
  const order: Resource[] = [];
  const visit = (r: Resource) => {
    if (done.has(r)) return;
    done.add(r);
    for (const d of stack.dependencies(r)) visit(d);
    order.push(r);
  };
  for (const r of stack.resources) visit(r);
  return order;
}

function plural(noun: string): string {
  return noun.endsWith('s') ? `${noun}es` : `${noun}s`;
}

export { UNKNOWN };
