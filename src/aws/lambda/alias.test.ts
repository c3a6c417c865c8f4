import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { venvPython } from '../../../test/support/paths.js';
import { AwsStack } from '../stack.js';
import { LambdaAlias } from './alias.js';
import { LambdaFunction } from './function.js';
import { publishVersion } from './version.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'lambda-alias.live';
const FUNCTION = 'alias-test-web';
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000 };

// Zips built with Python's zipfile through the project's venv: no npm dependency for a test fixture.
const dir = mkdtempSync(join(tmpdir(), 'touchdown-alias-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function zip(name: string, status: number): string {
  const path = join(dir, name);
  execFileSync(venvPython, [
    '-c',
    `import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("touchdown_lambda.py", "def handler(e, c):\\n    return ${status}\\n")`,
    path,
  ]);
  return path;
}
const V1 = zip('v1.zip', 200);
const V2 = zip('v2.zip', 204);

function stack(o: { zip?: string; version?: string; alias?: boolean } = {}) {
  const aws = new AwsStack('alias-test');
  const fn = aws.add(LambdaFunction, {
    name: 'web',
    handler: 'touchdown_lambda.handler',
    code: { zipFile: o.zip ?? V1 },
    roleArn: 'arn:aws:iam::123456789012:role/alias-test-app',
  });
  if (o.alias !== false) {
    aws.add(LambdaAlias, {
      name: 'live',
      functionName: fn.name,
      ...(o.version ? { functionVersion: o.version } : {}),
    });
  }
  return aws;
}

/** The function with two published versions: 1 from V1, 2 from V2. */
async function twoVersions(): Promise<void> {
  await t.boto.call('iam', 'CreateRole', { RoleName: 'alias-test-app', AssumeRolePolicyDocument: '{}' });
  await t.apply(stack({ alias: false }));
  assert.equal(await publishVersion(t.aws.clients(), FUNCTION, { timing }), '1');
  await t.apply(stack({ zip: V2, alias: false }));
  assert.equal(await publishVersion(t.aws.clients(), FUNCTION, { timing }), '2');
}

const pointsAt = async () =>
  (await t.boto.call('lambda', 'GetAlias', { FunctionName: FUNCTION, Name: 'live' })).FunctionVersion;

describe('LambdaAlias', () => {
  it('points at the version given; a second plan shows no changes', async () => {
    await twoVersions();
    const plan = await t.apply(stack({ zip: V2, version: '1' }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    assert.equal(await pointsAt(), '1');
    const alias = await t.boto.call('lambda', 'GetAlias', { FunctionName: FUNCTION, Name: 'live' });
    assert.equal(alias.Description, `Managed by Touchdown: stack=alias-test resource=${ADDRESS}`);
    assertNoChanges(await t.plan(stack({ zip: V2, version: '1' })));
  });

  it('moves to another version in place, and back', async () => {
    await twoVersions();
    await t.apply(stack({ zip: V2, version: '1' }));
    const plan = await t.plan(stack({ zip: V2, version: '2' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes, [{ name: 'functionVersion', before: '1', after: '2' }]);
    await t.apply(stack({ zip: V2, version: '2' }));
    assert.equal(await pointsAt(), '2');
    await t.apply(stack({ zip: V2, version: '1' }));
    assert.equal(await pointsAt(), '1');
  });

  it('without a version, starts at the newest published one and is left where a release moves it', async () => {
    await twoVersions();
    await t.apply(stack({ zip: V2 }));
    assert.equal(await pointsAt(), '2');
    await t.boto.call('lambda', 'UpdateAlias', {
      FunctionName: FUNCTION,
      Name: 'live',
      FunctionVersion: '1',
    });
    assertNoChanges(await t.plan(stack({ zip: V2 })));
  });

  it('is made again after being deleted outside Touchdown', async () => {
    await twoVersions();
    await t.apply(stack({ zip: V2, version: '2' }));
    await t.boto.call('lambda', 'DeleteAlias', { FunctionName: FUNCTION, Name: 'live' });
    assert.equal(actions(await t.plan(stack({ zip: V2, version: '2' })))[ADDRESS], 'create');
    await t.apply(stack({ zip: V2, version: '2' }));
    assert.equal(await pointsAt(), '2');
  });

  it('is deleted when no longer declared, and by destroy', async () => {
    await twoVersions();
    await t.apply(stack({ zip: V2, version: '2' }));
    assert.equal(actions(await t.apply(stack({ zip: V2, alias: false })))[ADDRESS], 'delete');
    const { Aliases } = await t.boto.call('lambda', 'ListAliases', { FunctionName: FUNCTION });
    assert.deepEqual(Aliases, []);
    await t.apply(stack({ zip: V2, version: '2' }));
    const destroyed = await t.destroy(stack({ zip: V2, version: '2' }));
    assert.equal(actions(destroyed)[ADDRESS], 'delete');
    assert.deepEqual((await t.boto.call('lambda', 'ListFunctions')).Functions, []);
  });

  it('refuses a name made of digits only (those name versions)', () => {
    const aws = new AwsStack('alias-test');
    aws.add(LambdaAlias, { name: '7', functionName: FUNCTION });
    assert.throws(() => aws.check(), /lambda-alias\.7: argument "name": .*not only digits/);
  });
});
