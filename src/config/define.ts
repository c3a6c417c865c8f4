// What a touchdown.config.ts exports: a stack's name and a function that declares its resources.
import { AwsStack } from '../aws/stack.js';

const DEFINITION = Symbol.for('touchdown.stack-definition');

export interface StackSettings {
  name: string;
  /** Region for this stack; --region and AWS_REGION override it. */
  region?: string;
}

export interface StackDefinition extends StackSettings {
  readonly [DEFINITION]: true;
  build(aws: AwsStack): void;
}

/**
 * Declares a stack, seed-000 style:
 *   export default defineStack('radpress', (aws) => { const vpc = aws.addVpc({ ... }); ... });
 */
export function defineStack(
  settings: string | StackSettings,
  build: (aws: AwsStack) => void,
): StackDefinition {
  const s = typeof settings === 'string' ? { name: settings } : settings;
  return { ...s, build, [DEFINITION]: true };
}

export function isStackDefinition(value: unknown): value is StackDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true
  );
}

/**
 * Runs a definition into a checked stack; `name` overrides the stack name (several copies of one stack), and
 * `region` is where it is deployed (what `aws.region` answers), the definition's own region when not given.
 */
export function instantiate(definition: StackDefinition, name?: string, region?: string): AwsStack {
  const stack = new AwsStack(name ?? definition.name, { region: region ?? definition.region });
  definition.build(stack);
  stack.check();
  return stack;
}
