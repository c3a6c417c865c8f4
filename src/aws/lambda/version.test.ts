// Publishing versions and invoking one: what the release phase does with a Lambda function.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useLocalAws } from '../../../test/support/harness.js';
import { venvPython } from '../../../test/support/paths.js';
import { lambdaRunner } from '../../django/one-off.js';
import { AwsStack } from '../stack.js';
import { LambdaFunction } from './function.js';
import { invokeFunction } from './invoke.js';
import { publishVersion } from './version.js';

const t = useLocalAws({ declaredTypesOnly: true });
const FUNCTION = 'version-test-web';
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000 };

const dir = mkdtempSync(join(tmpdir(), 'touchdown-version-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function zip(name: string, body: string): string {
  const path = join(dir, name);
  execFileSync(venvPython, [
    '-c',
    'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("touchdown_lambda.py", sys.argv[2])',
    path,
    body,
  ]);
  return path;
}
const V1 = zip('v1.zip', 'def handler(e, c):\n    return 1\n');
const V2 = zip('v2.zip', 'def handler(e, c):\n    return 2\n');

function stack(file: string) {
  const aws = new AwsStack('version-test');
  aws.add(LambdaFunction, {
    name: 'web',
    handler: 'touchdown_lambda.handler',
    code: { zipFile: file },
    roleArn: 'arn:aws:iam::123456789012:role/version-test-app',
  });
  return aws;
}

describe('publishVersion', () => {
  it('publishes what $LATEST holds, and the same version again when nothing changed', async () => {
    await t.boto.call('iam', 'CreateRole', { RoleName: 'version-test-app', AssumeRolePolicyDocument: '{}' });
    await t.apply(stack(V1));
    const aws = t.aws.clients();
    assert.equal(await publishVersion(aws, FUNCTION, { timing }), '1');
    assert.equal(await publishVersion(aws, FUNCTION, { timing }), '1', 'nothing changed: no new version');
    await t.apply(stack(V2));
    assert.equal(await publishVersion(aws, FUNCTION, { timing }), '2');
    const { Versions } = await t.boto.call('lambda', 'ListVersionsByFunction', { FunctionName: FUNCTION });
    const [v1, v2] = ['1', '2'].map((v) => Versions.find((x: { Version: string }) => x.Version === v));
    assert.notEqual(v1.CodeSha256, v2.CodeSha256, 'each version keeps its own code');
  });

  it('says which function when there is none', async () => {
    await assert.rejects(
      publishVersion(t.aws.clients(), 'version-test-none', { timing }),
      /ResourceNotFound|not found/i,
    );
  });
});

describe('invokeFunction', () => {
  // moto runs Lambda code only in Docker, which this machine lacks: without it Invoke answers what is queued.
  before(async () => {
    const res = await fetch(`${t.aws.endpoint}/moto-api/config`, {
      method: 'POST',
      body: JSON.stringify({ lambda: { use_docker: false } }),
    });
    assert.equal(res.status, 201);
  });

  /** A published function whose invocations answer these, in order. */
  async function answering(...results: string[]) {
    await t.boto.call('iam', 'CreateRole', { RoleName: 'version-test-app', AssumeRolePolicyDocument: '{}' });
    await t.apply(stack(V1));
    const aws = t.aws.clients();
    const version = await publishVersion(aws, FUNCTION, { timing });
    const queued = await fetch(`${t.aws.endpoint}/moto-api/static/lambda-simple/response`, {
      method: 'POST',
      body: JSON.stringify({ results, region: 'us-east-1' }),
    });
    assert.equal(queued.status, 201);
    return { aws, version };
  }

  it('sends the event to the version asked for and returns its parsed answer', async () => {
    const { aws, version } = await answering(JSON.stringify({ exitCode: 0, output: 'done' }));
    const answer = await invokeFunction(aws, {
      functionName: FUNCTION,
      qualifier: version,
      payload: { touchdown: 'manage', args: ['check'] },
    });
    assert.deepEqual(answer.payload, { exitCode: 0, output: 'done' });
    assert.equal(answer.functionError, undefined);
  });

  it("reads a manage command's exit code and output, and an answer without one as a failure", async () => {
    const { aws, version } = await answering(
      JSON.stringify({ exitCode: 3, output: 'one\ntwo\nthree\n' }),
      'Task timed out',
    );
    const runner = lambdaRunner(aws, FUNCTION, version, { timing });
    const failed = await runner.manage(['migrate']);
    assert.equal(failed.exitCode, 3);
    assert.deepEqual(await failed.lastLines(2), ['two', 'three']);
    const odd = await runner.manage(['migrate']);
    assert.equal(odd.exitCode, undefined);
    assert.equal(odd.reason, 'the function answered without an exit code: "Task timed out"');
  });
});
