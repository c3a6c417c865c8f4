// `touchdown status` and `touchdown logs` for web.compute: lambda (issue 11, point 4): the function's versions, the
// version its live alias serves, recent invocations and errors; and status says when SES is still in the sandbox.
// The function, its versions and alias are made with boto3 as a release leaves them, and the lines Lambda writes
// per invocation are written with boto3 (moto runs Lambda code only in Docker, which this machine lacks).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { copyOfExample, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
const FUNCTION = 'xkcd-production-web';
const GROUP = `/aws/lambda/${FUNCTION}`;

/** examples/xkcd on Lambda, sending mail from its domain. */
async function project(): Promise<string> {
  const dir = await copyOfExample('xkcd', ['touchdown.yml']);
  const path = join(dir, 'touchdown.yml');
  const manifest = parse(await readFile(path, 'utf8'));
  manifest.web = { compute: 'lambda', memory: 512, timeout: 20 };
  manifest.network = { nat: 'gateway' };
  manifest.email = { from: 'noreply@xkcd.example.com' };
  delete manifest.stages;
  await writeFile(path, stringify(manifest));
  return dir;
}

/** The function after two releases: versions 1 and 2 published, the live alias on 2. */
async function releasedTwice(): Promise<void> {
  const { Role } = await t.boto.call('iam', 'CreateRole', {
    RoleName: `${FUNCTION}-role`,
    AssumeRolePolicyDocument: JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    }),
  });
  // An empty zip archive: the end-of-directory record alone (base64, as boto_peer passes bytes).
  const ZipFile = Buffer.concat([Buffer.from('PK\x05\x06'), Buffer.alloc(18)]).toString('base64');
  await t.boto.call('lambda', 'CreateFunction', {
    FunctionName: FUNCTION,
    Role: Role.Arn,
    Runtime: 'python3.12',
    Handler: 'touchdown_handler.handler',
    Code: { ZipFile },
  });
  await t.boto.call('lambda', 'PublishVersion', { FunctionName: FUNCTION, Description: 'release 1' });
  await t.boto.call('lambda', 'UpdateFunctionCode', { FunctionName: FUNCTION, ZipFile });
  await t.boto.call('lambda', 'PublishVersion', { FunctionName: FUNCTION, Description: 'release 2' });
  await t.boto.call('lambda', 'CreateAlias', { FunctionName: FUNCTION, Name: 'live', FunctionVersion: '2' });
}

/** What Lambda writes for three invocations, the second failing in the handler. */
async function invoked(): Promise<void> {
  await t.boto.call('logs', 'CreateLogGroup', { logGroupName: GROUP });
  const logStreamName = '2026/12/06/[2]0123456789abcdef';
  await t.boto.call('logs', 'CreateLogStream', { logGroupName: GROUP, logStreamName });
  const now = Date.now() - 60_000;
  const ids = [
    '11111111-1111-4111-8111-111111111111',
    '22222222-2222-4222-8222-222222222222',
    '33333333-3333-4333-8333-333333333333',
  ];
  const lines = ids.flatMap((id, i) => [
    `START RequestId: ${id} Version: 2`,
    ...(i === 1
      ? [`[ERROR]\t2026-12-06T22:00:00.000Z\t${id}\tOperationalError: could not connect to server`]
      : []),
    `END RequestId: ${id}`,
    `REPORT RequestId: ${id}\tDuration: 12.3 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB`,
  ]);
  await t.boto.call('logs', 'PutLogEvents', {
    logGroupName: GROUP,
    logStreamName,
    logEvents: lines.map((message, i) => ({ timestamp: now + i, message })),
  });
}

describe('operating a Lambda app', () => {
  it('status shows the versions, the live alias, recent invocations and errors, and the SES sandbox; logs reads the function', async () => {
    const cwd = await project();
    await releasedTwice();
    await invoked();

    const json = await runCli(['status', '--json'], { cwd, aws: t.aws });
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout);
    assert.equal(status.lambda.function, FUNCTION);
    assert.equal(status.lambda.live, '2');
    assert.deepEqual(
      status.lambda.versions.map((v: { version: string }) => v.version),
      ['2', '1'],
    );
    assert.equal(status.lambda.recent.invocations, 3);
    assert.equal(status.lambda.recent.errors, 1);
    assert.match(status.lambda.recent.lastError, /^OperationalError: could not connect to server/);
    // A new account's SES is in the sandbox until AWS grants production access.
    assert.equal(status.email.sandbox, true);

    const text = await runCli(['status'], { cwd, aws: t.aws });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /web: Lambda function xkcd-production-web, live alias on version 2/);
    assert.match(text.stdout, /versions: 2 \(live\), 1/);
    assert.match(text.stdout, /3 invocation\(s\), 1 error\(s\)/);
    assert.match(
      text.stdout,
      /SES in us-east-1 is still in the sandbox: .*aws sesv2 put-account-details --production-access-enabled/,
    );

    const logs = await runCli(['logs', '--since', '1h'], { cwd, aws: t.aws });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, / web \[ERROR\]\t.*OperationalError: could not connect to server/);
    assert.equal((logs.stdout.match(/ web REPORT RequestId:/g) ?? []).length, 3);
    const filtered = await runCli(['logs', '--since', '1h', '--process', 'worker'], { cwd, aws: t.aws });
    assert.notEqual(filtered.code, 0, 'a Lambda app has no worker logs');
  });
});
