import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Engine } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import { AwsClients } from './clients.js';
import { resourceTypes } from './registry.js';
import { AwsStack } from './stack.js';

/** Plans a stack with clients that would fail if used, and returns the problems reported. */
async function problemsOf(build: (aws: AwsStack) => void): Promise<readonly string[]> {
  const stack = new AwsStack('bad-input');
  build(stack);
  // Nothing listens on port 9: a call to AWS would fail with a connection error, not a ConfigError.
  const aws = new AwsClients({ region: 'us-east-1', endpoint: 'http://localhost:9', maxAttempts: 1 });
  const engine = new Engine({ stack, registry: resourceTypes, aws });
  try {
    await engine.plan();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    assert.equal(aws.calls.length, 0, 'no AWS call was made');
    return err.problems;
  }
  assert.fail('the plan should have been refused');
}

describe('bad input is refused before any AWS call', () => {
  it('names an unknown argument and suggests the right one', async () => {
    // @ts-expect-error: the misspelling is the point
    const problems = await problemsOf((aws) => aws.addVpc({ name: 'main', cidr: '10.0.0.0/16' }));
    assert.deepEqual(problems, [
      'vpc.main: argument "cidrBlock" is required (string)',
      'vpc.main: unknown argument "cidr"; did you mean "cidrBlock"?',
    ]);
  });

  it('names an argument of the wrong type', async () => {
    const wrong = { name: 'main', cidrBlock: '10.0.0.0/16', enableDnsSupport: 'yes' };
    // @ts-expect-error: the wrong type is the point
    const problems = await problemsOf((aws) => aws.addVpc(wrong));
    assert.deepEqual(problems, [
      'vpc.main: argument "enableDnsSupport": Invalid input: expected boolean, received string',
    ]);
  });

  it('explains an invalid CIDR block and how to write one', async () => {
    const problems = await problemsOf((aws) => {
      aws.addVpc({ name: 'a', cidrBlock: '10.0.0/16' });
      aws.addVpc({ name: 'b', cidrBlock: '10.0.0.1/16' });
      aws.addVpc({ name: 'c', cidrBlock: '10.0.0.0/8' });
    });
    assert.deepEqual(problems, [
      'vpc.a: argument "cidrBlock": "10.0.0/16" is not an IPv4 CIDR block; write it like 10.0.0.0/16',
      'vpc.b: argument "cidrBlock": "10.0.0.1/16" has host bits set; did you mean 10.0.0.0/16?',
      'vpc.c: argument "cidrBlock": "10.0.0.0/8" has a /8 prefix; AWS allows /16 to /28 here',
    ]);
  });

  it('shows a reference cycle as the path around it', async () => {
    const problems = await problemsOf((aws) => {
      const a = aws.addVpc({ name: 'a', cidrBlock: '10.0.0.0/16' });
      const b = aws.addVpc({ name: 'b', cidrBlock: '10.1.0.0/16' });
      a.dependsOn(b);
      b.dependsOn(a);
    });
    assert.deepEqual(problems, ['reference cycle: vpc.a → vpc.b → vpc.a; break one of these references']);
  });

  it('refuses two resources with one address', async () => {
    const problems = await problemsOf((aws) => {
      aws.addVpc({ name: 'main', cidrBlock: '10.0.0.0/16' });
      aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
    });
    assert.deepEqual(problems, ['vpc.main: declared twice; give one of them another name']);
  });

  it('refuses reserved tag keys and bad stack names', async () => {
    const stack = new AwsStack('Bad_Name');
    stack.addVpc({ name: 'main', cidrBlock: '10.0.0.0/16', tags: { 'touchdown:stack': 'x' } });
    assert.throws(
      () => stack.check(),
      (err: ConfigError) => {
        assert.deepEqual(err.problems, [
          'stack name "Bad_Name": use 1 to 40 lower-case letters, digits and hyphens, starting with a letter',
          'vpc.main: argument "tags": tag key "touchdown:stack" is reserved; pick a key without that prefix',
        ]);
        return true;
      },
    );
  });
});
