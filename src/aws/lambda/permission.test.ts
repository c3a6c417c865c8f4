import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { venvPython } from '../../../test/support/paths.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { LambdaFunction } from './function.js';
import { LambdaPermission, statementIdFor } from './permission.js';
import { publishVersion } from './version.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'lambda-permission.api';
const FUNCTION = 'perm-test-web';
const SID = 'perm-test_api';
const API = 'arn:aws:execute-api:us-east-1:123456789012:abc1234567/*';
const OTHER_API = 'arn:aws:execute-api:us-east-1:123456789012:def7654321/*';

// A zip built with Python's zipfile through the project's venv: no npm dependency for a test fixture.
const dir = mkdtempSync(join(tmpdir(), 'touchdown-permission-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ZIP = join(dir, 'app.zip');
execFileSync(venvPython, [
  '-c',
  'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("touchdown_lambda.py", "def handler(e, c): pass\\n")',
  ZIP,
]);

function stack(o: { sourceArn?: string; qualifier?: string } = {}) {
  const aws = new AwsStack('perm-test');
  const fn = aws.add(LambdaFunction, {
    name: 'web',
    handler: 'touchdown_lambda.handler',
    code: { zipFile: ZIP },
    roleArn: 'arn:aws:iam::123456789012:role/perm-test-app',
  });
  aws.add(LambdaPermission, {
    name: 'api',
    functionName: fn.name,
    principal: 'apigateway.amazonaws.com',
    sourceArn: o.sourceArn ?? API,
    ...(o.qualifier ? { qualifier: o.qualifier } : {}),
  });
  return aws;
}

async function setUp() {
  await t.boto.call('iam', 'CreateRole', { RoleName: 'perm-test-app', AssumeRolePolicyDocument: '{}' });
  await t.apply(stack());
}

interface BotoStatement {
  Sid: string;
  Principal: { Service: string };
  Action: string;
  Condition: { ArnLike: { 'AWS:SourceArn': string } };
}

async function statements(): Promise<BotoStatement[]> {
  const answer = await t.boto.call('lambda', 'GetPolicy', { FunctionName: FUNCTION }).catch(() => undefined);
  return answer ? JSON.parse(answer.Policy).Statement : [];
}

describe('LambdaPermission', () => {
  it('adds a statement for API Gateway from one API; a second plan shows no changes', async () => {
    await setUp();
    const [s, ...others] = await statements();
    assert.equal(others.length, 0);
    assert.equal(s!.Sid, SID);
    assert.deepEqual(s!.Principal, { Service: 'apigateway.amazonaws.com' });
    assert.equal(s!.Action, 'lambda:InvokeFunction');
    assert.equal(s!.Condition.ArnLike['AWS:SourceArn'], API);
    // Another stack's statement, whose stack name starts like this one's, is not this stack's to delete.
    await t.boto.call('lambda', 'AddPermission', {
      FunctionName: FUNCTION,
      StatementId: 'perm-test-other_api',
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
    assertNoChanges(await t.plan(stack()));
  });

  // No update case: AWS edits no statement in place, so every change is a replacement.

  it('is replaced when its source changes, and the plan says why', async () => {
    await setUp();
    const plan = await t.plan(stack({ sourceArn: OTHER_API }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['sourceArn']);
    await t.apply(stack({ sourceArn: OTHER_API }));
    const [s, ...others] = await statements();
    assert.equal(others.length, 0);
    assert.equal(s!.Condition.ArnLike['AWS:SourceArn'], OTHER_API);
    assertNoChanges(await t.plan(stack({ sourceArn: OTHER_API })));
  });

  it('is added again after being removed outside Touchdown', async () => {
    await setUp();
    await t.boto.call('lambda', 'RemovePermission', { FunctionName: FUNCTION, StatementId: SID });
    assert.equal(actions(await t.plan(stack()))[ADDRESS], 'create');
    await t.apply(stack());
    assert.deepEqual(
      (await statements()).map((s) => s.Sid),
      [SID],
    );
  });

  it('is put back after its source is changed outside Touchdown', async () => {
    await setUp();
    await t.boto.call('lambda', 'RemovePermission', { FunctionName: FUNCTION, StatementId: SID });
    await t.boto.call('lambda', 'AddPermission', {
      FunctionName: FUNCTION,
      StatementId: SID,
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      SourceArn: OTHER_API,
    });
    const change = (await t.plan(stack())).resources.find((r) => r.address === ADDRESS)!;
    assert.deepEqual(change.changes, [
      { name: 'sourceArn', before: OTHER_API, after: API, forcesReplacement: true },
    ]);
    await t.apply(stack());
    assert.equal((await statements())[0]!.Condition.ArnLike['AWS:SourceArn'], API);
  });

  it('is removed when no longer declared, and by destroy', async () => {
    await setUp();
    const withoutIt = new AwsStack('perm-test');
    withoutIt.add(LambdaFunction, {
      name: 'web',
      handler: 'touchdown_lambda.handler',
      code: { zipFile: ZIP },
      roleArn: 'arn:aws:iam::123456789012:role/perm-test-app',
    });
    // The shared registry does not list LambdaPermission yet; a plan finds only the types it is given.
    const { plan, report } = await t
      .engine(withoutIt, { registry: [...resourceTypes, LambdaPermission] })
      .apply();
    assert.deepEqual(report?.failed, []);
    assert.equal(actions(plan)[`lambda-permission.${SID}`], 'delete');
    assert.deepEqual(await statements(), []);
    await t.apply(stack());
    assert.equal(actions(await t.destroy(stack()))[ADDRESS], 'delete');
    assert.deepEqual(await statements(), []);
  });

  it('grants on an alias when given a qualifier, and is found in the alias policy after', async () => {
    await setUp();
    await publishVersion(t.aws.clients(), FUNCTION, {
      timing: { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000 },
    });
    await t.boto.call('lambda', 'CreateAlias', {
      FunctionName: FUNCTION,
      Name: 'live',
      FunctionVersion: '1',
    });
    const change = (await t.plan(stack({ qualifier: 'live' }))).resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['qualifier']);
    await t.apply(stack({ qualifier: 'live' }));
    const policy = await t.boto.call('lambda', 'GetPolicy', { FunctionName: FUNCTION, Qualifier: 'live' });
    const onAlias = (JSON.parse(policy.Policy).Statement as { Sid: string; Resource: string }[]).filter(
      (s) => s.Sid === SID,
    );
    assert.deepEqual(
      onAlias.map((s) => s.Resource),
      [`arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION}:live`],
    );
    assertNoChanges(await t.plan(stack({ qualifier: 'live' })));
    assert.equal(actions(await t.destroy(stack({ qualifier: 'live' })))[ADDRESS], 'delete');
  });

  it('names statements by stack and path within 100 characters', () => {
    assert.equal(statementIdFor('xkcd-prod', 'web/api'), 'xkcd-prod_web-api');
    const long = statementIdFor('xkcd-prod', 'a'.repeat(120));
    assert.equal(long.length, 100);
    assert.notEqual(long, statementIdFor('xkcd-prod', `${'a'.repeat(119)}b`));
  });
});
