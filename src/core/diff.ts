// Attribute-level comparison of what the user declared with what AWS has.
import type { Field, Fields } from './args.js';
import { containsUnknown, isPlainObject, isUnknown, UNKNOWN } from './ref.js';

export const SENSITIVE = Object.freeze({ sensitive: true as const });

export interface AttributeChange {
  name: string;
  /** Absent on create. */
  before?: unknown;
  /** UNKNOWN when known only after apply; SENSITIVE when masked. */
  after?: unknown;
  forcesReplacement?: boolean;
}

/** Compares desired arguments (possibly holding UNKNOWN) with those AWS reports. */
export function diffArgs(
  fields: Fields,
  desired: Record<string, unknown>,
  actual: Record<string, unknown>,
): AttributeChange[] {
  const changes: AttributeChange[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const want = desired[name];
    if (field.writeOnly || want === undefined || !(name in actual)) continue;
    const have = actual[name];
    if (containsUnknown(want)) {
      changes.push(change(name, field, have, UNKNOWN));
    } else if (!sameValue(field, want, have)) {
      changes.push(change(name, field, have, want));
    }
  }
  return changes;
}

/** Every argument of a resource about to be created, as the plan shows it. */
export function creationAttributes(fields: Fields, desired: Record<string, unknown>): AttributeChange[] {
  return Object.entries(fields)
    .filter(([name]) => desired[name] !== undefined && !isEmpty(desired[name]))
    .map(([name, field]) => ({ name, after: mask(field, desired[name]) }));
}

/** Empty lists and maps are defaults nobody needs to read in a plan. */
function isEmpty(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
}

function change(name: string, field: Field, before: unknown, after: unknown): AttributeChange {
  const c: AttributeChange = { name, before: mask(field, before), after: mask(field, after) };
  if (field.replace) c.forcesReplacement = true;
  return c;
}

function mask(field: Field, value: unknown): unknown {
  if (value === undefined) return undefined;
  if (field.sensitive && !isUnknown(value)) return SENSITIVE;
  return value;
}

export function sameValue(field: Field, a: unknown, b: unknown): boolean {
  // The same string, number or list is the same value: a no-op plan compares thousands of them.
  if (a === b) return true;
  const norm = (v: unknown) => {
    const n = field.normalize ? field.normalize(v) : v;
    return field.unordered && Array.isArray(n) ? [...n].map(stableJson).sort() : n;
  };
  return stableJson(norm(a)) === stableJson(norm(b));
}

/** JSON with object keys sorted and undefined members dropped, for order-insensitive comparison. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .filter((k) => value[k] !== undefined)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}
