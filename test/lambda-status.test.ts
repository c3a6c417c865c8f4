// `touchdown status` and `touchdown logs` for web.compute: lambda (issue 11, point 4): the function's versions, the
// version its live alias serves, recent invocations and errors; and status says when SES is still in the sandbox.
// The function, its versions and alias are made with boto3 as a release leaves them; its handler runs for real in
// the local AWS, which writes what Lambda writes per invocation to the function's log group.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { copyOfExample, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { venvPython } from './support/paths.js';

// Lambda runs the handler here (no ECS image: nothing else runs).
const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0' }, apps: { images: {} } });
const FUNCTION = 'xkcd-production-web';

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

/** A package whose handler answers, or logs an error as Django logs a failed request (through `logging`). */
async function handlerZip(): Promise<string> {
  const handler = [
    'import logging',
    'def handler(event, context):',
    '    if event.get("crash"):',
    '        logging.getLogger("django.request").error("OperationalError: could not connect to server")',
    '        raise ValueError("the app crashed")',
    '    if event.get("fail"):',
    '        logging.getLogger("django.request").error("OperationalError: could not connect to server")',
    '        return {"statusCode": 500}',
    '    return {"statusCode": 200}',
  ].join('\n');
  const { stdout } = await promisify(execFile)(venvPython, [
    '-c',
    'import base64, io, sys, zipfile\nb = io.BytesIO()\nz = zipfile.ZipFile(b, "w")\nz.writestr("touchdown_lambda.py", sys.argv[1])\nz.close()\nprint(base64.b64encode(b.getvalue()).decode())',
    handler,
  ]);
  return stdout.trim();
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
  // The SDK sends the zip's bytes (the boto3 peer would send base64 text as the blob).
  await (await t.aws.clients().lambda()).createFunction({
    FunctionName: FUNCTION,
    Role: Role.Arn,
    Runtime: 'python3.12',
    // Lambda's 3 s default would time out a cold start on a loaded machine.
    Timeout: 60,
    Handler: 'touchdown_lambda.handler',
    MemorySize: 512,
    Code: { ZipFile: Buffer.from(await handlerZip(), 'base64') },
  });
  await t.boto.call('lambda', 'PublishVersion', { FunctionName: FUNCTION, Description: 'release 1' });
  await t.boto.call('lambda', 'UpdateFunctionConfiguration', { FunctionName: FUNCTION, MemorySize: 1024 });
  await t.boto.call('lambda', 'PublishVersion', { FunctionName: FUNCTION, Description: 'release 2' });
  await t.boto.call('lambda', 'CreateAlias', { FunctionName: FUNCTION, Name: 'live', FunctionVersion: '2' });
}

/** Four requests to the live alias: the second fails in the app, the last logs an error and crashes. */
async function invoked(): Promise<void> {
  for (const fail of [false, true, false]) {
    const answer = await t.boto.call('lambda', 'Invoke', {
      FunctionName: FUNCTION,
      Qualifier: 'live',
      Payload: JSON.stringify({ fail }),
    });
    assert.equal(answer.FunctionError, undefined);
    assert.equal(JSON.parse(answer.Payload).statusCode, fail ? 500 : 200);
  }
  const crashed = await t.boto.call('lambda', 'Invoke', {
    FunctionName: FUNCTION,
    Qualifier: 'live',
    Payload: JSON.stringify({ crash: true }),
  });
  assert.ok(crashed.FunctionError, "the error is the function's");
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
    assert.equal(status.lambda.recent.invocations, 4);
    assert.equal(status.lambda.recent.errors, 2, 'the crash and the error it logged first are one request');
    // The runtime's own line for the unhandled error, without its "[ERROR]" and traceback.
    assert.equal(status.lambda.recent.lastError, 'ValueError: the app crashed');
    // A new account's SES is in the sandbox until AWS grants production access.
    assert.equal(status.email.sandbox, true);

    const text = await runCli(['status'], { cwd, aws: t.aws });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /web: Lambda function xkcd-production-web, live alias on version 2/);
    assert.match(text.stdout, /versions: 2 \(live\), 1/);
    assert.match(text.stdout, /4 invocation\(s\), 2 error\(s\)/);
    assert.match(
      text.stdout,
      /SES in us-east-1 is still in the sandbox: .*aws sesv2 put-account-details --production-access-enabled/,
    );

    const logs = await runCli(['logs', '--since', '1h'], { cwd, aws: t.aws });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, / web \[ERROR\]\t.*OperationalError: could not connect to server/);
    assert.equal((logs.stdout.match(/ web REPORT RequestId:/g) ?? []).length, 4);
    const filtered = await runCli(['logs', '--since', '1h', '--process', 'worker'], { cwd, aws: t.aws });
    assert.notEqual(filtered.code, 0, 'a Lambda app has no worker logs');
  });
});
