// A stack is the set of resources a user declares, with the references between them.
import type { z } from 'zod';
import { type ArgsInput, type Fields, objectSchema } from './args.js';
import { ConfigError } from './errors.js';
import { collectSources, type Input } from './ref.js';
import {
  type AnyResourceType,
  type Handle,
  type Outputs,
  Resource,
  type ResourceType,
  withOutputRefs,
} from './resource.js';

export interface StackOutput {
  value: Input<unknown>;
  sensitive: boolean;
  description?: string;
}

const STACK_NAME = /^[a-z][a-z0-9-]{0,39}$/;

export class Stack {
  readonly resources: Resource[] = [];
  readonly outputs = new Map<string, StackOutput>();
  private readonly byAddress = new Map<string, Resource>();
  private readonly problems: string[] = [];

  constructor(
    readonly name: string,
    readonly options: { region?: string } = {},
  ) {
    if (!STACK_NAME.test(name)) {
      this.problems.push(
        `stack name "${name}": use 1 to 40 lower-case letters, digits and hyphens, starting with a letter`,
      );
    }
  }

  /** Declares a resource; problems with its arguments are collected and reported together by check(). */
  add<F extends Fields, O extends Outputs>(
    type: ResourceType<F, O>,
    args: ArgsInput<F>,
    parent?: Resource,
  ): Handle<O> {
    const raw = (args ?? {}) as Record<string, unknown>;
    const parsed = objectSchema(type.fields).safeParse(raw, { reportInput: true });
    // The label after defaults, so that a default name (an API stage's "$default") counts.
    const name = parsed.success ? (parsed.data as Record<string, unknown>).name : raw.name;
    const label = typeof name === 'string' ? name : `${type.kind}${this.resources.length + 1}`;
    const path = parent ? `${parent.path}/${label}` : label;
    const address = `${type.kind}.${path}`;
    if (!parsed.success) {
      this.problems.push(...describeIssues(address, type as unknown as AnyResourceType, parsed.error.issues));
    }
    const values = parsed.success ? (parsed.data as Record<string, unknown>) : raw;
    if (parsed.success && type.check) {
      for (const p of type.check(values as never)) this.problems.push(`${address}: ${p}`);
    }
    const resource = withOutputRefs(new Resource<O>(type as unknown as AnyResourceType, path, values));
    if (this.byAddress.has(address)) {
      this.problems.push(`${address}: declared twice; give one of them another name`);
    }
    this.byAddress.set(address, resource);
    this.resources.push(resource);
    return resource;
  }

  output(
    name: string,
    value: Input<unknown>,
    options: { sensitive?: boolean; description?: string } = {},
  ): void {
    if (this.outputs.has(name)) this.problems.push(`output "${name}": declared twice`);
    this.outputs.set(name, {
      value,
      sensitive: options.sensitive ?? false,
      description: options.description,
    });
  }

  get(address: string): Resource | undefined {
    return this.byAddress.get(address);
  }

  /** The resources this one needs first: those its arguments reference, and explicit dependsOn. */
  dependencies(resource: Resource): Resource[] {
    const deps = new Set<Resource>(resource.explicitDeps);
    for (const source of collectSources(resource.args)) {
      const dep = this.byAddress.get(source.address);
      if (dep && dep !== resource) deps.add(dep);
    }
    return [...deps];
  }

  /** Throws one ConfigError listing every problem, before anything talks to AWS. */
  check(): void {
    const problems = [...this.problems];
    for (const resource of this.resources) {
      for (const source of collectSources([resource.args, [...resource.explicitDeps]])) {
        if (this.byAddress.get(source.address) !== source) {
          problems.push(
            `${resource.address}: references ${source.address}, which is not declared in this stack`,
          );
        }
      }
    }
    for (const [name, out] of this.outputs) {
      for (const source of collectSources(out.value)) {
        if (this.byAddress.get(source.address) !== source) {
          problems.push(
            `output "${name}": references ${source.address}, which is not declared in this stack`,
          );
        }
      }
    }
    const cycle = findCycle(this.resources, (r) => this.dependencies(r));
    if (cycle)
      problems.push(
        `reference cycle: ${cycle.map((r) => r.address).join(' → ')}; break one of these references`,
      );
    if (problems.length > 0) {
      const head =
        problems.length === 1 ? problems[0]! : `${problems.length} problems in the stack "${this.name}"`;
      throw new ConfigError(head, problems);
    }
  }
}

function findCycle<T>(nodes: readonly T[], deps: (n: T) => T[]): T[] | undefined {
  const state = new Map<T, 'visiting' | 'done'>();
  const stack: T[] = [];
  const visit = (n: T): T[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of deps(n)) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of nodes) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

/** Turns schema issues into one line each, naming the resource and the argument, with a fix where we know one. */
export function describeIssues(
  address: string,
  type: AnyResourceType,
  issues: readonly z.core.$ZodIssue[],
): string[] {
  const known = Object.keys(type.fields);
  return issues.flatMap((issue) => {
    const where = issue.path.length > 0 ? `argument "${issue.path.join('.')}"` : 'arguments';
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const near = closest(key, known);
        const suggestion = near ? `did you mean "${near}"?` : `${type.noun} takes: ${known.join(', ')}`;
        return `${address}: unknown argument "${[...issue.path, key].join('.')}"; ${suggestion}`;
      });
    }
    if (issue.code === 'invalid_union') {
      // The last branch is the value's own schema; the others only accept references.
      const own = issue.errors.at(-1) ?? [];
      const nested = own.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
      return nested.length > 0
        ? describeIssues(address, type, nested)
        : [`${address}: ${where}: ${issue.message}`];
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return [`${address}: ${where} is required (${issue.expected})`];
    }
    return [`${address}: ${where}: ${issue.message}`];
  });
}

/** The candidate a misspelt word most likely meant, if any is close enough. */
export function closest(word: string, candidates: string[]): string | undefined {
  const lower = word.toLowerCase();
  const prefixed = candidates.find(
    (c) => c.toLowerCase().startsWith(lower) || lower.startsWith(c.toLowerCase()),
  );
  if (prefixed) return prefixed;
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return best && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
