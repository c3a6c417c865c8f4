// One local AWS per test file, wiped before each test; an engine wired to it; boto3 to check results.
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import type { AwsClients } from '../../src/aws/clients.js';
import { resourceTypes } from '../../src/aws/registry.js';
import { Engine, type EngineOptions } from '../../src/core/engine.js';
import type { EngineEvent } from '../../src/core/events.js';
import type { Plan } from '../../src/core/plan.js';
import type { AnyResourceType } from '../../src/core/resource.js';
import type { Stack } from '../../src/core/stack.js';
import { type AwsModel, type ModelOptions, scaledWaitTiming, startAwsModel } from './aws-model/proxy.js';
import { Boto } from './boto.js';
import { type LocalAws, type LocalAwsOptions, startLocalAws, throughModel } from './local-aws.js';

export interface TestAws {
  aws: LocalAws;
  boto: Boto;
  events: EngineEvent[];
  engine(stack: Stack, options?: Partial<EngineOptions>): Engine;
  /** Applies and fails the test on any failed operation. */
  apply(stack: Stack, options?: { force?: boolean }): Promise<Plan>;
  plan(stack: Stack): Promise<Plan>;
  destroy(stack: Stack, options?: { force?: boolean }): Promise<Plan>;
  /** The AWS model the engine and the CLI go through, when the file asked for one. */
  model?: AwsModel;
}

export interface TestAwsOptions extends LocalAwsOptions {
  /**
   * Runs the engine and the CLI through the AWS model (latency, readiness times, faults: see
   * aws-model/times.ts), with the engine's waits scaled by the same speed-up; boto3 still reads moto directly.
   */
  model?: Omit<ModelOptions, 'upstream'>;
  /**
   * The engine's plans read the resource types this file's stacks have declared so far, not every type Touchdown
   * knows (a type test's account holds nothing else: each test starts empty). A type's own test then pays for
   * its own types' reads (a VPC plan: 5 calls, not 27). @default false: every type, as the CLI reads them
   */
  declaredTypesOnly?: boolean;
}

/** Call at the top of a test file. */
export function useLocalAws(options: TestAwsOptions = {}): TestAws {
  const t = { events: [] as EngineEvent[] } as TestAws;
  // One set of SDK clients for the file's engines (a test that counts calls passes its own, fresh from
  // t.aws.clients()): each client resolves its settings and credentials once, not once per engine.
  let clients: AwsClients;
  const declared = new Set<AnyResourceType>();
  before(async () => {
    t.aws = await startLocalAws(options);
    t.boto = new Boto(t.aws.endpoint, t.aws.region);
    if (options.model) {
      t.model = await startAwsModel({ ...options.model, upstream: t.aws.endpoint });
      t.aws = throughModel(t.aws, t.model);
    }
    clients = t.aws.clients();
  });
  beforeEach(async () => {
    await t.aws.reset();
    t.events.length = 0;
  });
  after(async () => {
    t.boto?.close();
    await t.aws?.stop();
  });
  t.engine = (stack, engineOptions = {}) => {
    for (const r of stack.resources) declared.add(r.type as AnyResourceType);
    return new Engine({
      stack,
      registry: options.declaredTypesOnly ? [...declared] : resourceTypes,
      aws: clients,
      events: (e) => t.events.push(e),
      timing: t.model
        ? scaledWaitTiming(t.model.speedup)
        : { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000 },
      ...engineOptions,
    });
  };
  t.apply = async (stack, options = {}) => {
    const { plan, report } = await t.engine(stack).apply({ force: options.force });
    assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
    return plan;
  };
  t.plan = async (stack) => (await t.engine(stack).plan()).plan;
  t.destroy = async (stack, options = {}) => {
    const { plan, report } = await t.engine(stack).destroy({ force: options.force });
    assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
    return plan;
  };
  return t;
}

/** The actions of a plan by address, for compact assertions. */
export function actions(plan: Plan): Record<string, string> {
  return Object.fromEntries(plan.resources.map((r) => [r.address, r.action]));
}

/** Asserts a plan changes nothing. */
export function assertNoChanges(plan: Plan): void {
  const changing = plan.resources.filter((r) => r.action !== 'noop');
  assert.deepEqual(
    changing.map((r) => ({ address: r.address, action: r.action, changes: r.changes })),
    [],
    'a second plan shows no changes',
  );
}
