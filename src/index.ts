// Touchdown's library API: declare a stack in TypeScript, then plan, apply and destroy it.
export { AwsClients, type AwsOptions } from './aws/clients.js';
export { resourceTypes } from './aws/registry.js';
export { AwsStack, type KmsKeyHandle, type SubnetHandle, type VpcHandle } from './aws/stack.js';
export { defineStack, type StackDefinition } from './config/define.js';
export { cidr, field, input, policyDocument, tags } from './core/args.js';
export { Engine, type EngineOptions, type RunResult } from './core/engine.js';
export { ConfigError, DataLossRefused, ResourceError } from './core/errors.js';
export type { EngineEvent, EventSink } from './core/events.js';
export { FileLock, type StackLock } from './core/lock.js';
export type { Action, Plan, ResourceChange } from './core/plan.js';
export { type Input, interpolate, Ref } from './core/ref.js';
export { defineResourceType, type Found, type ResourceType } from './core/resource.js';
export { Stack } from './core/stack.js';
