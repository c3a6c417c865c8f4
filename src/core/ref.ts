// References between resources: a value that is one resource's output, known at apply time.
// A reference carries the resources it depends on, so the graph follows the data (as Pulumi's Output does).

// Registered symbols: a config loaded through another copy of this module still interoperates.
const REF: unique symbol = Symbol.for('touchdown.ref') as never;
const REFABLE: unique symbol = Symbol.for('touchdown.refable') as never;

/** Whatever a resource exposes for others to depend on. */
export interface RefSource {
  readonly address: string;
}

/** Reads a resource's outputs at plan or apply time; `undefined` means not known yet. */
export type OutputReader = (source: RefSource) => Record<string, unknown> | undefined;

/** Marks a value that is not known until apply. Serialises as such in a plan. */
export const UNKNOWN = Object.freeze({ unknown: true as const });
export type Unknown = typeof UNKNOWN;
export const isUnknown = (v: unknown): v is Unknown =>
  typeof v === 'object' &&
  v !== null &&
  (v as { unknown?: unknown }).unknown === true &&
  Object.keys(v).length === 1;

export class Ref<T> {
  readonly [REF] = true;
  declare readonly __type?: T;

  private constructor(
    readonly sources: readonly RefSource[],
    readonly describe: string,
    private readonly compute: (read: OutputReader) => T | Unknown,
  ) {}

  /** One output of one resource, e.g. `vpc.id`. */
  static output<T>(source: RefSource, output: string): Ref<T> {
    return new Ref<T>([source], `${source.address}.${output}`, (read) => {
      const outputs = read(source);
      if (outputs === undefined || !(output in outputs) || outputs[output] === undefined) return UNKNOWN;
      return outputs[output] as T;
    });
  }

  /** Derives a value from this one once it is known: `bucket.arn.apply((arn) => `${arn}/*`)`. */
  apply<U>(fn: (value: T) => U): Ref<U> {
    return new Ref<U>(this.sources, `${this.describe} (derived)`, (read) => {
      const v = this.compute(read);
      return isUnknown(v) ? UNKNOWN : fn(v);
    });
  }

  resolve(read: OutputReader): T | Unknown {
    return this.compute(read);
  }

  /** Joins references and plain values into one reference. */
  static all<T extends readonly unknown[]>(values: { [K in keyof T]: Input<T[K]> }): Ref<T> {
    const refs = values.map(toRef).filter((r): r is Ref<unknown> => r !== undefined);
    const sources = refs.flatMap((r) => r.sources);
    return new Ref<T>(sources, refs.map((r) => r.describe).join(', '), (read) => {
      const out: unknown[] = [];
      for (const v of values) {
        const r = toRef(v);
        const resolved = r ? r.resolve(read) : v;
        if (isUnknown(resolved)) return UNKNOWN;
        out.push(resolved);
      }
      return out as unknown as T;
    });
  }

  toJSON(): string {
    return `\${${this.describe}}`;
  }
}

/** Something that stands for one of its outputs when passed as an argument (a role stands for its name). */
export interface Refable<T> {
  readonly [REFABLE]: () => Ref<T>;
}

export { REFABLE as refableSymbol };

/** An argument value: plain, a reference, or a resource standing for its default output. */
export type Input<T> = T | Ref<T> | Refable<T>;

export function isRef(v: unknown): v is Ref<unknown> {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[REF] === true;
}

export function isRefable(v: unknown): v is Refable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Record<symbol, unknown>)[REFABLE] === 'function';
}

function toRef(v: unknown): Ref<unknown> | undefined {
  if (isRef(v)) return v;
  if (isRefable(v)) return v[REFABLE]();
  return undefined;
}

/** String interpolation over references: interpolate`${bucket.arn}/*`. */
export function interpolate(strings: TemplateStringsArray, ...values: Input<unknown>[]): Ref<string> {
  return Ref.all(values).apply((resolved) =>
    strings.reduce((acc, s, i) => acc + s + (i < resolved.length ? String(resolved[i]) : ''), ''),
  );
}

/** Every resource a value depends on, found anywhere inside it. */
export function collectSources(value: unknown, into: Set<RefSource> = new Set()): Set<RefSource> {
  const r = toRef(value);
  if (r) {
    for (const s of r.sources) into.add(s);
  } else if (Array.isArray(value)) {
    for (const v of value) collectSources(v, into);
  } else if (isPlainObject(value)) {
    for (const v of Object.values(value)) collectSources(v, into);
  }
  return into;
}

/** Replaces every reference inside a value by what it resolves to (or UNKNOWN). */
export function resolveDeep(value: unknown, read: OutputReader): unknown {
  const r = toRef(value);
  if (r) return r.resolve(read);
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, read));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v, read)]));
  }
  return value;
}

/** True when a resolved value still holds something not known until apply. */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (isPlainObject(value)) return Object.values(value).some(containsUnknown);
  return false;
}

export function containsRef(value: unknown): boolean {
  if (toRef(value)) return true;
  if (Array.isArray(value)) return value.some(containsRef);
  if (isPlainObject(value)) return Object.values(value).some(containsRef);
  return false;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
