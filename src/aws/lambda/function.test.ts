import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { venvPython } from '../../../test/support/paths.js';
import { until } from '../../../test/support/until.js';
import { ConfigError } from '../../core/errors.js';
import { AwsStack } from '../stack.js';
import { LambdaFunction } from './function.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'lambda-function.web';
const NAME = 'fn-test-web';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/fn-test-app';
const TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

// Zips are built with Python's zipfile through the project's venv: no npm dependency for a test fixture.
const dir = mkdtempSync(join(tmpdir(), 'touchdown-lambda-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ZIP_MODULE = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr(zipfile.ZipInfo("touchdown_lambda.py", date_time=(2020, 1, 1, 0, 0, 0)), sys.argv[2])
`;
const ZIP_FILLER = `
import os, sys, zipfile
size, method = int(sys.argv[2]), int(sys.argv[3])
with zipfile.ZipFile(sys.argv[1], "w", method) as z:
    with z.open(zipfile.ZipInfo("filler.bin", date_time=(2020, 1, 1, 0, 0, 0)), "w") as f:
        for _ in range(size // (1 << 20)):
            f.write(os.urandom(1 << 20) if method == zipfile.ZIP_STORED else bytes(1 << 20))
`;

function moduleZip(file: string, source: string): string {
  const path = join(dir, file);
  execFileSync(venvPython, ['-c', ZIP_MODULE, path, source]);
  return path;
}

/** A zip of `mb` MB: random bytes stored (big on disk), or zeros deflated (small on disk, big unpacked). */
function fillerZip(file: string, mb: number, how: 'stored' | 'deflated'): string {
  const path = join(dir, file);
  execFileSync(venvPython, ['-c', ZIP_FILLER, path, String(mb << 20), how === 'stored' ? '0' : '8']);
  return path;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('base64');

const V1 = moduleZip('v1.zip', 'def handler(event, context):\n    return {"statusCode": 200}\n');
const V2 = moduleZip('v2.zip', 'def handler(event, context):\n    return {"statusCode": 204}\n');

interface Options {
  zip?: string;
  code?: { s3Bucket: string; s3Key: string };
  uploadBucket?: string;
  memoryMb?: number;
  environment?: Record<string, string>;
  reservedConcurrency?: number | null;
  logRetentionDays?: number;
  tags?: Record<string, string>;
  roleArn?: string;
  /** More functions beside `web`, by label. */
  more?: string[];
}

function stack(o: Options = {}) {
  const aws = new AwsStack('fn-test');
  const fn = aws.add(LambdaFunction, {
    name: 'web',
    handler: 'touchdown_lambda.handler',
    code: o.code ?? { zipFile: o.zip ?? V1 },
    uploadBucket: o.uploadBucket,
    roleArn: o.roleArn ?? ROLE_ARN,
    memoryMb: o.memoryMb,
    environment: o.environment ?? { DJANGO_SETTINGS_MODULE: 'xkcd.settings' },
    secretsPath: '/fn-test/prod/',
    reservedConcurrency: o.reservedConcurrency,
    logRetentionDays: o.logRetentionDays,
    tags: o.tags ?? { team: 'web' },
  });
  for (const name of o.more ?? []) {
    aws.add(LambdaFunction, {
      name,
      handler: 'touchdown_lambda.handler',
      code: { zipFile: V1 },
      roleArn: ROLE_ARN,
    });
  }
  aws.output('invokeArn', fn.invokeArn);
  return aws;
}

async function role() {
  await t.boto.call('iam', 'CreateRole', {
    RoleName: 'fn-test-app',
    AssumeRolePolicyDocument: JSON.stringify(TRUST),
  });
}

async function getFunction(name = NAME) {
  return t.boto.call('lambda', 'GetFunction', { FunctionName: name }).catch(() => undefined);
}

async function logGroup(name = NAME) {
  const { logGroups } = await t.boto.call('logs', 'DescribeLogGroups', {
    logGroupNamePrefix: `/aws/lambda/${name}`,
  });
  return logGroups[0] as { logGroupName: string; retentionInDays?: number; arn: string } | undefined;
}

function problems(build: () => AwsStack): readonly string[] {
  try {
    build().check();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.problems;
  }
  return [];
}

describe('LambdaFunction', () => {
  it('is created with its log group, tags and code hash; a second plan shows no changes and few calls', async () => {
    await role();
    const plan = await t.apply(stack());
    assert.equal(actions(plan)[ADDRESS], 'create');
    const fn = await getFunction();
    const c = fn.Configuration;
    assert.equal(c.Runtime, 'python3.12');
    assert.equal(c.Handler, 'touchdown_lambda.handler');
    assert.equal(c.MemorySize, 512);
    assert.equal(c.Timeout, 30);
    assert.deepEqual(c.Architectures, ['arm64']);
    assert.equal(c.Role, ROLE_ARN);
    assert.equal(c.CodeSha256, sha256(V1));
    assert.deepEqual(c.Environment.Variables, {
      DJANGO_SETTINGS_MODULE: 'xkcd.settings',
      TOUCHDOWN_SSM_PATH: '/fn-test/prod/',
    });
    assert.deepEqual(fn.Tags, {
      'touchdown:stack': 'fn-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    const group = await logGroup();
    assert.equal(group?.retentionInDays, 30);
    const { tags } = await t.boto.call('logs', 'ListTagsLogGroup', { logGroupName: `/aws/lambda/${NAME}` });
    assert.deepEqual(tags, { team: 'web', 'touchdown:part-of': `fn-test/${ADDRESS}` });
    const again = await t.plan(stack());
    assertNoChanges(again);
    assert.equal(
      again.outputs.invokeArn,
      `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${c.FunctionArn}/invocations`,
    );

    // The stack's functions are found in one tagging call, one GetFunction each and one log group listing.
    const three = { more: ['worker', 'nightly'] };
    await t.apply(stack(three));
    const { plan: found } = await t.engine(stack(three), { registry: [] }).plan();
    assertNoChanges(found);
    assert.equal(found.apiCalls, 1 + 3 + 1);
  });

  it('updates memory, variables, concurrency, retention and tags in place', async () => {
    await role();
    await t.apply(stack());
    const changed = {
      memoryMb: 1024,
      environment: { DJANGO_SETTINGS_MODULE: 'xkcd.settings.prod' },
      reservedConcurrency: 5,
      logRetentionDays: 14,
      tags: { team: 'platform' },
    };
    const plan = await t.plan(stack(changed));
    assert.equal(actions(plan)[ADDRESS], 'update');
    assert.deepEqual(plan.resources[0]!.changes.map((c) => c.name).sort(), [
      'environment',
      'logRetentionDays',
      'memoryMb',
      'reservedConcurrency',
      'tags',
    ]);
    await t.apply(stack(changed));
    const fn = await getFunction();
    assert.equal(fn.Configuration.MemorySize, 1024);
    assert.equal(fn.Configuration.Environment.Variables.DJANGO_SETTINGS_MODULE, 'xkcd.settings.prod');
    assert.equal(fn.Configuration.Environment.Variables.TOUCHDOWN_SSM_PATH, '/fn-test/prod/');
    assert.equal(fn.Concurrency.ReservedConcurrentExecutions, 5);
    assert.equal(fn.Tags.team, 'platform');
    assert.equal((await logGroup())?.retentionInDays, 14);
    assertNoChanges(await t.plan(stack(changed)));
  });

  it('shows a changed zip as a change of its code hash, uploads it, then plans no changes', async () => {
    await role();
    await t.apply(stack());
    const plan = await t.plan(stack({ zip: V2 }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(
      change.changes.map((c) => c.name),
      ['code'],
    );
    const code = change.changes[0]!;
    assert.equal((code.before as { sha256: string }).sha256, sha256(V1));
    assert.equal((code.after as { sha256: string }).sha256, sha256(V2));
    await t.apply(stack({ zip: V2 }));
    assert.equal((await getFunction()).Configuration.CodeSha256, sha256(V2));
    assertNoChanges(await t.plan(stack({ zip: V2 })));
  });

  // No replacement case: every argument changes in place (UpdateFunctionCode, UpdateFunctionConfiguration).

  it('is created again after being deleted outside Touchdown, and deleted by destroy', async () => {
    await role();
    await t.apply(stack());
    await t.boto.call('lambda', 'DeleteFunction', { FunctionName: NAME });
    assert.equal(actions(await t.plan(stack()))[ADDRESS], 'create');
    // The log group Lambda left behind is adopted, not a failure.
    await t.apply(stack());
    assert.equal((await getFunction())?.Configuration.CodeSha256, sha256(V1));
    assertNoChanges(await t.plan(stack()));

    // Destroy deletes the function and its log group.
    const plan = await t.destroy(stack());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal(await getFunction(), undefined);
    assert.equal(await logGroup(), undefined);
  });

  it('is put back after its memory and its log group are changed outside Touchdown', async () => {
    await role();
    await t.apply(stack());
    await t.boto.call('lambda', 'UpdateFunctionConfiguration', { FunctionName: NAME, MemorySize: 2048 });
    await t.boto.call('logs', 'DeleteLogGroup', { logGroupName: `/aws/lambda/${NAME}` });
    const plan = await t.plan(stack());
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.deepEqual(change.changes, [
      { name: 'memoryMb', before: 2048, after: 512 },
      { name: 'logRetentionDays', before: undefined, after: 30 },
    ]);
    await t.apply(stack());
    assert.equal((await getFunction()).Configuration.MemorySize, 512);
    assert.equal((await logGroup())?.retentionInDays, 30);
    assertNoChanges(await t.plan(stack()));
  });

  it('waits for a new role to become usable, and says what to check when it never does', async () => {
    // Lambda refuses a role it cannot assume yet (IAM is eventually consistent); here the role is missing.
    const fast = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000, timeoutFactor: 0.001 };
    const { report } = await t.engine(stack(), { timing: fast }).apply();
    const [failed] = report!.failed;
    assert.match(failed!.error!, /IAM role of Lambda function "web" to be usable by Lambda/);
    assert.match(failed!.hint!, /trust policy lets lambda\.amazonaws\.com assume it/);
    // The failed create leaves no log group behind.
    assert.equal(await logGroup(), undefined);

    // With the role appearing while apply waits, the function is made.
    t.events.length = 0;
    const applying = t.apply(stack());
    const waiting = () =>
      t.events.some((e) => e.type === 'op.progress' && e.message.startsWith('waiting: role not assumable'));
    await until('the apply to wait for the role', waiting, applying);
    await role();
    await applying;
    assert.equal((await getFunction())?.Configuration.State, 'Active');
  });

  it('sends a zip over 50 MB through the upload bucket and a zip in S3 by its key', async () => {
    await role();
    await t.boto.call('s3', 'CreateBucket', { Bucket: 'fn-test-builds' });
    const big = fillerZip('big.zip', 51, 'stored');
    const hex = createHash('sha256').update(readFileSync(big)).digest('hex');
    await t.apply(stack({ zip: big, uploadBucket: 'fn-test-builds' }));
    const head = await t.boto.call('s3', 'HeadObject', {
      Bucket: 'fn-test-builds',
      Key: `touchdown/lambda/${NAME}/${hex}.zip`,
    });
    assert.ok(head.ContentLength > 50 * 1024 * 1024);
    assert.equal((await getFunction()).Configuration.CodeSha256, sha256(big));
    assertNoChanges(await t.plan(stack({ zip: big, uploadBucket: 'fn-test-builds' })));

    // A zip already in S3 is told apart by its key, kept in a tag since Lambda does not report it.
    await t.boto.call('s3', 'PutObject', { Bucket: 'fn-test-builds', Key: 'app-2.zip', Body: 'v2' });
    const s3 = { code: { s3Bucket: 'fn-test-builds', s3Key: 'app-2.zip' } };
    assert.deepEqual(
      (await t.plan(stack(s3))).resources[0]!.changes.map((c) => c.name),
      ['code'],
    );
    await t.apply(stack(s3));
    const fn = await getFunction();
    assert.equal(fn.Configuration.CodeSha256, createHash('sha256').update('v2').digest('base64'));
    assert.equal(fn.Tags['touchdown:code-source'], 's3://fn-test-builds/app-2.zip');
    assertNoChanges(await t.plan(stack(s3)));
    // Back to a local zip: the source tag goes.
    await t.apply(stack());
    assert.equal((await getFunction()).Tags['touchdown:code-source'], undefined);
    assertNoChanges(await t.plan(stack()));
  });

  it('refuses secrets in variables, reserved names, old runtimes and packages Lambda cannot take', () => {
    assert.deepEqual(
      problems(() =>
        stack({
          environment: {
            SECRET_KEY: 'django-insecure-9a8sd7f9a8s7df',
            DATABASE_URL: 'postgres://app:hunter22@db.internal/app',
            AWS_REGION: 'eu-west-1',
            TOUCHDOWN_SSM_PATH: '/x/',
            API_KEY_PARAMETER: '/fn-test/prod/API_KEY',
            DEBUG: 'false',
          },
        }),
      ),
      [
        'lambda-function.web: environment.SECRET_KEY: looks like a secret written into the stack; store it in SSM as a SecureString under secretsPath, which the function reads at start',
        'lambda-function.web: environment.DATABASE_URL: looks like a secret written into the stack; store it in SSM as a SecureString under secretsPath, which the function reads at start',
        'lambda-function.web: environment.AWS_REGION: Lambda sets this variable itself; pick another name',
        'lambda-function.web: environment.TOUCHDOWN_SSM_PATH: set by Touchdown from secretsPath; use secretsPath',
      ],
    );
    const old = problems(() => {
      const aws = new AwsStack('fn-test');
      aws.add(LambdaFunction, {
        name: 'web',
        // @ts-expect-error: a deprecated runtime is the point
        runtime: 'python3.9',
        handler: 'touchdown_lambda.handler',
        code: { zipFile: V1 },
        roleArn: ROLE_ARN,
      });
      return aws;
    });
    assert.deepEqual(old, [
      'lambda-function.web: argument "runtime": "python3.9" is not a Python runtime AWS Lambda supports; use one of python3.12, python3.13, python3.14, python3.15',
    ]);
    const big = fillerZip('big-direct.zip', 51, 'stored');
    assert.match(
      problems(() => stack({ zip: big })).join('\n'),
      /MB, over the 50 MB Lambda takes directly; give an uploadBucket/,
    );
    const huge = fillerZip('huge.zip', 260, 'deflated');
    assert.match(problems(() => stack({ zip: huge })).join('\n'), /unpacks to 260 MB; Lambda allows 250 MB/);
    assert.match(
      problems(() => stack({ zip: join(dir, 'missing.zip') })).join('\n'),
      /cannot read ".*missing\.zip" \(ENOENT\): build the package first/,
    );
    assert.match(
      problems(() => stack({ roleArn: 'fn-test-app' })).join('\n'),
      /pass the role's ARN \(role\.arn\), not its name/,
    );
  });
});
