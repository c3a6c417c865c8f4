// The resources an estimate prices, read from a stack (what is declared) or from a plan (what exists before, what
// will exist after). References become links between addresses, so a service is priced with its task definition.
import type { Plan, World } from '../core/plan.js';
import { collectSources, resolveDeep } from '../core/ref.js';
import type { Resource } from '../core/resource.js';
import type { Stack } from '../core/stack.js';
import type { PricedResource } from './estimate.js';

/** Every declared resource, as declared (`touchdown cost`). */
export function declaredResources(stack: Stack): PricedResource[] {
  return stack.resources.map(declared);
}

/** What exists now and what will exist once the plan is applied, for the plan's monthly difference. */
export function plannedResources(
  plan: Plan,
  world: World,
  stack: Stack,
): { before: PricedResource[]; after: PricedResource[] } {
  const index = foundIndex(world);
  const before: PricedResource[] = [];
  const after: PricedResource[] = [];
  for (const change of plan.resources) {
    const found = world.found.get(change.address)?.found;
    const now = found && {
      address: change.address,
      kind: change.kind,
      args: found.args as Record<string, unknown>,
      links: foundLinks(found.args as Record<string, unknown>, index, change.address),
    };
    if (now && change.action !== 'create') before.push(now);
    if (change.action === 'noop') {
      if (now) after.push(now);
      continue;
    }
    const resource = stack.get(change.address);
    if (change.action !== 'delete' && resource) after.push(declared(resource));
  }
  return { before, after };
}

function declared(r: Resource): PricedResource {
  const args = resolveDeep(r.args, () => undefined) as Record<string, unknown>;
  const links: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.args)) {
    const sources = [...collectSources(value)];
    if (sources.length === 1) links[name] = sources[0]!.address;
  }
  return { address: r.address, kind: r.type.kind, args, links };
}

/** Every id, ARN and name AWS reported, and its short form (after the last "/", without a ":revision"), → address. */
function foundIndex(world: World): Map<string, string> {
  const index = new Map<string, string>();
  for (const [address, { found }] of world.found) {
    for (const value of [found.id, ...Object.values(found.outputs)]) {
      if (typeof value !== 'string' || value === '') continue;
      index.set(value, address);
      index.set(short(value), address);
    }
  }
  return index;
}

function foundLinks(args: Record<string, unknown>, index: Map<string, string>, self: string) {
  const links: Record<string, string> = {};
  for (const [name, value] of Object.entries(args)) {
    // A reference may sit inside an argument (a queue's deadLetter.targetArn): one match links the argument.
    const matches = new Set(strings(value).map((v) => index.get(v) ?? index.get(short(v))));
    matches.delete(undefined);
    matches.delete(self);
    if (matches.size === 1) links[name] = [...matches][0]!;
  }
  return links;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

const short = (value: string) => value.slice(value.lastIndexOf('/') + 1).replace(/:\d+$/, '');
