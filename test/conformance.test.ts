// The conformance check itself: it must refuse what AWS would refuse, and let through what AWS accepts,
// or a green suite says nothing about the calls it made.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from './support/paths.js';

// The checker is plain JavaScript, so every CLI process can load it without a TypeScript loader.
const hookPath = join(repoRoot, 'test', 'support', 'conformance', 'hook.mjs');
const { conformanceProblems } = (await import(hookPath)) as {
  conformanceProblems(service: string, operation: string, input: unknown): string[];
};
const { validatePolicy } = (await import(
  join(repoRoot, 'test', 'support', 'conformance', 'policies.mjs')
)) as {
  validatePolicy(text: string, kind: 'identity' | 'trust' | 'resource', where: string): string[];
};

const policy = (statement: Record<string, unknown>) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [statement] });

describe('requests against the API models', () => {
  test('accepts a request AWS accepts', () => {
    assert.deepEqual(
      conformanceProblems('EC2', 'CreateVpc', {
        CidrBlock: '10.0.0.0/16',
        TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'touchdown:stack', Value: 'x' }] }],
      }),
      [],
    );
    assert.deepEqual(conformanceProblems('Route 53', 'ListHostedZones', { MaxItems: 100 }), []);
  });

  test('refuses a missing required member, an unknown member, a bad enum, a range and a length', () => {
    assert.deepEqual(conformanceProblems('ECS', 'CreateService', { cluster: 'c' }), [
      'input: serviceName is required',
    ]);
    assert.match(conformanceProblems('EC2', 'DescribeVpcs', { Filter: [] }).join(), /Filter is not a member/);
    assert.match(
      conformanceProblems('EC2', 'CreateVpc', {
        CidrBlock: '10.0.0.0/16',
        TagSpecifications: [{ ResourceType: 'virtual-private-cloud' }],
      }).join(),
      /ResourceType: "virtual-private-cloud" is not one of/,
    );
    assert.match(
      conformanceProblems('EC2', 'DescribeVpcs', { MaxResults: 1 }).join(),
      /MaxResults: at least 5, not 1/,
    );
    assert.match(
      conformanceProblems('SSM', 'PutParameter', {
        Name: 'x'.repeat(2100),
        Value: 'v',
        Type: 'String',
      }).join(),
      /Name: at most 2048 characters/,
    );
  });

  test('never quotes a sensitive value', () => {
    const secret = `s3cr3t-${'x'.repeat(70_000)}`;
    const problems = conformanceProblems('Secrets Manager', 'CreateSecret', {
      Name: 'n',
      SecretString: secret,
    }).join();
    assert.match(problems, /SecretString: at most 65536 characters/);
    assert.doesNotMatch(problems, /s3cr3t/);
  });
});

describe('IAM policy documents against the action catalogue', () => {
  test('accepts what IAM accepts', () => {
    const identity = policy({
      Effect: 'Allow',
      Action: ['s3:GetObject', 'ecr:BatchGet*', 'ssm:GetParameters'],
      Resource: 'arn:aws:s3:::bucket/*',
      Condition: { StringEquals: { 'aws:ResourceTag/touchdown:stack': 'x', 'ecs:cluster': 'arn:aws:ecs:*' } },
    });
    assert.deepEqual(validatePolicy(identity, 'identity', 'p'), []);
    const trust = policy({
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Action: 'sts:AssumeRole',
    });
    assert.deepEqual(validatePolicy(trust, 'trust', 'p'), []);
    // A trust policy of an OIDC provider tests the token's claims, named after the provider's issuer.
    const federated = (issuer: string) =>
      policy({
        Effect: 'Allow',
        Principal: {
          Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
        },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${issuer}:aud`]: 'sts.amazonaws.com',
            [`${issuer}:sub`]: 'repo:o/r:ref:refs/heads/main',
          },
        },
      });
    assert.deepEqual(validatePolicy(federated('token.actions.githubusercontent.com'), 'trust', 'p'), []);
    assert.match(
      validatePolicy(federated('oidc.circleci.com/org/x'), 'trust', 'p').join(),
      /condition key oidc\.circleci\.com\/org\/x:aud names no AWS service/,
    );
    // IAM reads a policy without a Version as 2008-10-17, and takes it.
    const unversioned = JSON.stringify({ Statement: [JSON.parse(trust).Statement[0]] });
    assert.deepEqual(validatePolicy(unversioned, 'trust', 'p'), []);
  });

  test('refuses unknown actions, condition keys and operators, and misplaced elements', () => {
    const bad = policy({
      Effect: 'Allow',
      Action: ['s3:GetObjekt', 'nosuchservice:Get', 'ses:Send*Emails'],
      Resource: 'bucket/*',
      Principal: '*',
      Condition: { StringEqualz: { 'ecs:clusterName': 'x' } },
    });
    const problems = validatePolicy(bad, 'identity', 'p').join('\n');
    assert.match(problems, /s3 has no action matching "s3:GetObjekt"/);
    assert.match(problems, /no AWS service has the prefix "nosuchservice"/);
    assert.match(problems, /ses has no action matching "ses:Send\*Emails"/);
    assert.match(problems, /"bucket\/\*" is not an ARN/);
    assert.match(problems, /an identity policy takes no Principal/);
    assert.match(problems, /unknown condition operator StringEqualz/);
    assert.match(problems, /ecs has no condition key ecs:clusterName/);
    assert.match(
      validatePolicy(policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }), 'trust', 'p').join(),
      /needs a Principal/,
    );
    const misdated = JSON.stringify({ Version: '2012-10-18', Statement: [] });
    assert.match(validatePolicy(misdated, 'identity', 'p').join(), /Version must be "2012-10-17"/);
  });
});

test('a call AWS would refuse is refused before it is sent, and recorded for the test file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'conformance-'));
  const log = join(dir, 'calls.jsonl');
  // A separate process, so the refusal is recorded in its own log and not in this file's.
  const script = `
    const { EC2Client, DescribeVpcsCommand } = require('@aws-sdk/client-ec2');
    const client = new EC2Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    client.send(new DescribeVpcsCommand({ MaxResults: 2 })).then(
      () => { console.log('sent'); },
      (e) => { console.log(e.name + ': ' + e.message); });`;
  const child = spawn(process.execPath, ['--import', hookPath, '-e', script], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      TOUCHDOWN_CONFORMANCE_LOG: log,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((resolve) => child.once('close', resolve));
  assert.match(
    out,
    /^ValidationException: conformance: EC2 DescribeVpcs would be refused by AWS: input\.MaxResults: at least 5, not 2/,
  );
  const entries = (await readFile(log, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    entries.map((e) => [e.type, e.operation ?? e.calls]),
    [
      ['violation', 'DescribeVpcs'],
      ['calls', 1],
    ],
  );
});
