// Arguments are declared once per resource type; the declaration serves validation, diff and create.
import { z } from 'zod';
import { type Input, isRef, isRefable, type Ref, type Refable } from './ref.js';

export interface FieldOptions {
  /** Changing this argument means deleting and creating the resource again. */
  replace?: boolean;
  /** Never printed, never written to a plan. */
  sensitive?: boolean;
  /** Not read back from AWS (write-only or generated): never compared. */
  writeOnly?: boolean;
  /** Order does not matter when comparing (lists of ids, CIDRs). */
  unordered?: boolean;
  /** Brings what AWS returns and what the user wrote to one form before comparing. */
  normalize?: (value: unknown) => unknown;
}

export interface Field<S extends z.ZodType = z.ZodType> extends FieldOptions {
  schema: S;
}

export type Fields = Record<string, Field>;

export function field<S extends z.ZodType>(schema: S, options: FieldOptions = {}): Field<S> {
  return { schema, ...options };
}

const refLike = z.custom<Ref<unknown> | Refable<unknown>>((v) => isRef(v) || isRefable(v), {
  message: 'expected a reference to another resource',
});

/** Accepts a plain value or a reference to another resource's output in this position. */
export function input<S extends z.ZodType>(schema: S): z.ZodType<Input<z.output<S>>, Input<z.input<S>>> {
  return z.union([refLike as z.ZodType<Ref<z.output<S>> | Refable<z.output<S>>>, schema]) as never;
}

/** What a provider sees once references are resolved. */
export type Resolved<T> =
  T extends Ref<infer U>
    ? U
    : T extends Refable<infer U>
      ? U
      : T extends readonly (infer E)[]
        ? Resolved<E>[]
        : T extends Record<string, unknown>
          ? { [K in keyof T]: Resolved<T[K]> }
          : T;

type Shape<F extends Fields> = { [K in keyof F]: F[K]['schema'] };
/** What a user writes (optional where a default exists). */
export type ArgsInput<F extends Fields> = z.input<z.ZodObject<Shape<F>>>;
/** What a provider receives: defaults applied, references resolved. */
export type ArgsOf<F extends Fields> = Resolved<z.output<z.ZodObject<Shape<F>>>>;

// One schema per type's fields: every resource is checked when added and again when planned, and zod
// compiles each new object schema on its first parse.
const schemas = new WeakMap<Fields, z.ZodObject>();

export function objectSchema<F extends Fields>(fields: F): z.ZodObject<Shape<F>> {
  let schema = schemas.get(fields);
  if (!schema) {
    schema = z.strictObject(Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.schema])));
    schemas.set(fields, schema);
  }
  return schema as z.ZodObject<Shape<F>>;
}

// ---- argument types shared by many resources ----

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export function parseCidr(value: string): { base: number; prefix: number } | undefined {
  const m = CIDR.exec(value);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base, prefix };
}

/** An IPv4 CIDR block whose host bits are zero, e.g. 10.0.0.0/16. */
export function cidr(opts: { minPrefix?: number; maxPrefix?: number } = {}) {
  const { minPrefix = 0, maxPrefix = 32 } = opts;
  return z.string().superRefine((value, ctx) => {
    const parsed = parseCidr(value);
    if (!parsed) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not an IPv4 CIDR block; write it like 10.0.0.0/16`,
      });
      return;
    }
    if (parsed.prefix < minPrefix || parsed.prefix > maxPrefix) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" has a /${parsed.prefix} prefix; AWS allows /${minPrefix} to /${maxPrefix} here`,
      });
      return;
    }
    const size = 2 ** (32 - parsed.prefix);
    if (parsed.base % size !== 0) {
      const base = parsed.base - (parsed.base % size);
      const fixed = [24, 16, 8, 0].map((s) => (base / 2 ** s) & 255).join('.');
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" has host bits set; did you mean ${fixed}/${parsed.prefix}?`,
      });
    }
  });
}

/** The user's own tags; `touchdown:` keys are reserved for ownership. */
export const tags = () =>
  z
    .record(z.string().min(1).max(128), z.string().max(256))
    .superRefine((t, ctx) => {
      for (const key of Object.keys(t)) {
        if (key.startsWith('touchdown:') || key.startsWith('aws:')) {
          ctx.addIssue({
            code: 'custom',
            message: `tag key "${key}" is reserved; pick a key without that prefix`,
          });
        }
      }
    })
    .default({});

/** A JSON policy document (IAM, bucket, key policies). References may appear anywhere inside. */
export const policyDocument = () =>
  z.record(z.string(), z.unknown()).refine((doc) => 'Statement' in doc, {
    message: 'a policy document needs a "Statement" list',
  });

/** Canonical form of a policy document, so that AWS's rewriting does not read as a change. */
export function normalizePolicy(value: unknown): unknown {
  let doc = value;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(decodeURIComponent(doc));
    } catch {
      return value;
    }
  }
  return canonical(doc, true);
}

function canonical(value: unknown, inPolicy: boolean): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => canonical(v, inPolicy));
    // AWS collapses one-element lists to scalars in policies; compare both as scalars.
    return inPolicy && items.length === 1 ? items[0] : items;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v, inPolicy)]));
  }
  return value;
}
