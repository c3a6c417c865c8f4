// A resource type is one file's worth of knowledge about one kind of AWS resource:
// its arguments (declared once), how to find it, and how to create, update and delete it.
import type { ArgsOf, Fields } from './args.js';
import type { AttributeChange } from './diff.js';
import { type Ref, Ref as RefClass, type RefSource, refableSymbol } from './ref.js';

// Plain interfaces (no index signature), so that handles expose exactly their outputs.
export type Outputs = object;

/** A resource as it exists in AWS, in the same shape as its arguments. */
export interface Found<A = Record<string, unknown>, O extends Outputs = Record<string, unknown>> {
  /** Matches a declared resource: its address (from the `touchdown:resource` tag) or its physical name. */
  key: string;
  /** What AWS calls it: vpc-0abc, a bucket name, an ARN. */
  id: string;
  /** What AWS has now, for the arguments it can read back. */
  args: Partial<A>;
  outputs: O;
  /** Changes no argument shows that the next apply makes in place (an ownership tag a resource made before lacks). */
  pending?: AttributeChange[];
  /** What AWS reports that no argument sets (a service's running tasks): shown by commands, never compared. */
  state?: Record<string, unknown>;
}

/** What a finder is told about the stack's declared resources of its type. */
export interface Wanted<A = Record<string, unknown>> {
  address: string;
  /** The key the resource would be found under, when already known. */
  key: string | undefined;
  args: Partial<A>;
}

/**
 * What the engine needs of a cloud's clients. The provider (src/aws/clients.ts) merges its own client
 * accessors into this interface, so resource types call `ctx.aws.ec2()` while core/ imports nothing of it.
 */
export interface CloudClients {
  readonly region: string;
  /** Every API call made so far; plans report how many they took. */
  readonly calls: { service: string; operation: string }[];
  account(): Promise<string>;
  /** What the user can do about an error the cloud answered with, when known. */
  hintFor(err: unknown): string | undefined;
  /** The ownership tags every resource of the stack carries, with the user's own. */
  ownershipTags(stack: string, address: string, user?: Record<string, string>): Record<string, string>;
  /**
   * Which of these listings (a resource type's `listedAs`) hold anything of the stack, from the cloud's index
   * of tagged resources.
   */
  listed(stack: string, listings: readonly string[]): Promise<Set<string>>;
}

export interface FindContext {
  stack: string;
  region: string;
  aws: CloudClients;
  account(): Promise<string>;
}

export interface WaitSpec<T> {
  /** What is awaited, in the user's words: `NAT gateway "main" to become available`. */
  what: string;
  /** One look at the resource: done with a value, or still in some state. */
  check: () => Promise<{ done: true; value: T } | { done: false; state: string }>;
  timeoutMs?: number;
  /** Advice when the wait times out. */
  hint?: string;
}

export interface OpContext extends FindContext {
  address: string;
  /** The path the user gave (`radpress/lb`), used for names and messages. */
  path: string;
  /** Standard ownership tags plus the user's own. */
  tags(user?: Record<string, string>): Record<string, string>;
  progress(message: string): void;
  wait<T>(spec: WaitSpec<T>): Promise<T>;
  signal: AbortSignal;
}

export interface ResourceType<F extends Fields = Fields, O extends Outputs = Outputs> {
  /** Address prefix, e.g. `subnet` in `subnet.radpress/lb`. */
  kind: string;
  /** What people call it, for messages: `creating NAT gateway "main"`. */
  noun: string;
  fields: F;
  outputs: readonly (keyof O & string)[];
  /** The output a resource stands for when passed as an argument (a role stands for its name). */
  defaultOutput: keyof O & string;
  /** Outputs an update in place changes (a task definition's new revision ARN): unknown to dependents until applied. */
  updatedOutputs?: readonly (keyof O & string)[];
  /**
   * Where the cloud's index of tagged resources (AWS's Resource Groups Tagging API filter, `ec2:vpc` or a whole
   * service, `rds`) lists this type's resources, or the resources they live in. A plan reads a type the stack
   * does not declare only when that listing holds something of the stack. Absent when the index does not list
   * them (IAM, Route 53, ECR, ...): the type is then read on every plan.
   */
  listedAs?: string;
  /** Found by the `touchdown:resource` tag, or by a physical name derived from the arguments. */
  identity: { by: 'address' } | { by: 'name'; name(args: Partial<ArgsOf<F>>): unknown };
  /**
   * What AWS typically takes, in seconds, before the resource is ready (created, changed, gone): the walk
   * starts the longest chains first. Absent for types ready as soon as the call answers.
   */
  expectedSeconds?: { create?: number; update?: number; delete?: number };
  /** Checks that need several arguments at once; returns problems as `argument: message`. */
  check?(args: Partial<ArgsOf<F>>): string[];
  /** Everything of this type that belongs to the stack, in as few calls as the API allows. */
  find(ctx: FindContext, wanted: Wanted<ArgsOf<F>>[]): Promise<Found<ArgsOf<F>, O>[]>;
  create(ctx: OpContext, args: ArgsOf<F>): Promise<Found<ArgsOf<F>, O>>;
  /** Absent when AWS allows no change in place: every change is then a replacement. */
  update?(
    ctx: OpContext,
    found: Found<ArgsOf<F>, O>,
    args: ArgsOf<F>,
    changed: readonly (keyof ArgsOf<F> & string)[],
  ): Promise<Found<ArgsOf<F>, O>>;
  delete(ctx: OpContext, found: Found<ArgsOf<F>, O>): Promise<void>;
  /** For data stores: what data it holds (`12 objects`), or undefined when empty. */
  holdsData?(ctx: FindContext, found: Found<ArgsOf<F>, O>): Promise<string | undefined>;
  /**
   * Its data includes what its dependents put in it (a zone's records), so holdsData answers only once they
   * are deleted: it is not asked before a plan starts, only when its own delete comes.
   */
  holdsDataOnceDependentsGone?: boolean;
  /** Removes the data so the resource can be deleted; only ever called with --force. */
  empty?(ctx: OpContext, found: Found<ArgsOf<F>, O>): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds types of every shape
export type AnyResourceType = ResourceType<any, any>;

export function defineResourceType<F extends Fields, O extends Outputs>(
  type: ResourceType<F, O>,
): ResourceType<F, O> {
  return type;
}

export type OutputRefs<O extends Outputs> = { readonly [K in keyof O]: Ref<O[K]> };

/** A resource declared in a stack. Its outputs are references others can take. */
export class Resource<O extends Outputs = Outputs> implements RefSource {
  readonly address: string;
  readonly explicitDeps = new Set<Resource>();
  /** Arguments set at creation and then left to something else (autoscaling owns a service's desired count). */
  readonly ignoredChanges = new Set<string>();
  declare readonly __outputs?: O;

  constructor(
    readonly type: AnyResourceType,
    readonly path: string,
    /** Parsed arguments: defaults applied, references still unresolved. */
    readonly args: Record<string, unknown>,
  ) {
    this.address = `${type.kind}.${path}`;
  }

  /** One of this resource's outputs, as a reference. */
  ref<K extends keyof O & string>(output: K): Ref<O[K]> {
    return RefClass.output<O[K]>(this, output);
  }

  /** Stops comparing these arguments after creation, so the plan never undoes what another owner changed. */
  ignoreChanges(...args: string[]): this {
    for (const a of args) this.ignoredChanges.add(a);
    return this;
  }

  /** Orders this resource after others it does not reference (rarely needed). */
  dependsOn(...others: Resource[]): this {
    for (const o of others) this.explicitDeps.add(o);
    return this;
  }

  // Typed loosely: which output a resource stands for is known per type, not to the compiler.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  get [refableSymbol](): () => Ref<any> {
    return () => this.ref(this.type.defaultOutput as keyof O & string);
  }

  toString(): string {
    return this.address;
  }
}

export type Handle<O extends Outputs> = Resource<O> & OutputRefs<O>;

/** Gives a resource one property per output (`vpc.id`, `bucket.arn`). */
export function withOutputRefs<O extends Outputs>(resource: Resource<O>): Handle<O> {
  for (const name of resource.type.outputs as string[]) {
    // An output named like a resource's own property (address, path, args) would hide it.
    if (name in resource)
      throw new Error(`${resource.type.kind}: output "${name}" clashes with a resource property; rename it`);
    Object.defineProperty(resource, name, {
      value: resource.ref(name as keyof O & string),
      enumerable: false,
    });
  }
  return resource as Handle<O>;
}
