import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { venvPython } from '../../../test/support/paths.js';
import { Role } from '../iam/role.js';
import { LambdaFunction } from '../lambda/function.js';
import { LambdaPermission } from '../lambda/permission.js';
import { AwsStack } from '../stack.js';
import { HttpApi } from './http-api.js';
import { LambdaProxyRoute } from './lambda-integration.js';
import { HttpApiStage } from './stage.js';

// The test attaches an AWS managed policy: the local AWS has them all, as every AWS account does.
const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'lambda-proxy-route.web/django';

// Zips are built with Python's zipfile through the project's venv: no npm dependency for a test fixture.
const dir = mkdtempSync(join(tmpdir(), 'touchdown-route-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function zip(file: string, status: number): string {
  const path = join(dir, file);
  const source = `def handler(event, context):\n    return {"statusCode": ${status}}\n`;
  execFileSync(venvPython, [
    '-c',
    'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n' +
      '    z.writestr(zipfile.ZipInfo("touchdown_lambda.py", (2020, 1, 1, 0, 0, 0)), sys.argv[2])',
    path,
    source,
  ]);
  return path;
}
const V1 = zip('v1.zip', 200);
const V2 = zip('v2.zip', 204);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('base64');

interface Options {
  onAdmin?: boolean;
  routeKey?: string;
  timeoutMillis?: number;
}

function routes(o: Options = {}) {
  const aws = new AwsStack('route-test');
  const fn = aws.add(LambdaFunction, {
    name: 'web',
    handler: 'touchdown_lambda.handler',
    code: { zipFile: V1 },
    roleArn: 'arn:aws:iam::123456789012:role/route-test-app',
  });
  const web = aws.add(HttpApi, { name: 'web' });
  const admin = aws.add(HttpApi, { name: 'admin' });
  aws.add(
    LambdaProxyRoute,
    {
      name: 'django',
      apiId: o.onAdmin ? admin.id : web.id,
      functionArn: fn.invokeArn,
      routeKey: o.routeKey,
      timeoutMillis: o.timeoutMillis,
    },
    web,
  );
  return aws;
}

async function apiId(name: string): Promise<string> {
  const { Items } = await t.boto.call('apigatewayv2', 'GetApis', {});
  return (Items as { ApiId: string; Tags: Record<string, string> }[]).find(
    (a) => a.Tags['touchdown:resource'] === `http-api.${name}`,
  )!.ApiId;
}

interface BotoRoute {
  RouteId: string;
  RouteKey: string;
  Target: string;
}
interface BotoIntegration {
  IntegrationId: string;
  IntegrationType: string;
  IntegrationUri: string;
  PayloadFormatVersion: string;
  TimeoutInMillis: number;
  Description: string;
}

async function routeOf(api: string): Promise<{ routes: BotoRoute[]; integrations: BotoIntegration[] }> {
  const [r, i] = await Promise.all([
    t.boto.call('apigatewayv2', 'GetRoutes', { ApiId: api }),
    t.boto.call('apigatewayv2', 'GetIntegrations', { ApiId: api }),
  ]);
  return { routes: r.Items, integrations: i.Items };
}

async function functionArn(name: string): Promise<string> {
  return (await t.boto.call('lambda', 'GetFunction', { FunctionName: name })).Configuration.FunctionArn;
}

async function setUp() {
  await t.boto.call('iam', 'CreateRole', { RoleName: 'route-test-app', AssumeRolePolicyDocument: '{}' });
  await t.apply(routes());
  return apiId('web');
}

describe('LambdaProxyRoute', () => {
  it('creates a $default route to a Lambda proxy integration; a second plan shows no changes', async () => {
    const api = await setUp();
    const {
      routes: [route, ...more],
      integrations: [integration],
    } = await routeOf(api);
    assert.equal(more.length, 0);
    assert.equal(route!.RouteKey, '$default');
    assert.equal(route!.Target, `integrations/${integration!.IntegrationId}`);
    assert.equal(integration!.IntegrationType, 'AWS_PROXY');
    // The invoke ARN given is stored as the function's ARN, which HTTP APIs take.
    assert.equal(integration!.IntegrationUri, await functionArn('route-test-web'));
    assert.equal(integration!.PayloadFormatVersion, '2.0');
    assert.equal(integration!.TimeoutInMillis, 29000);
    assert.equal(integration!.Description, `Managed by Touchdown: stack=route-test resource=${ADDRESS}`);
    assertNoChanges(await t.plan(routes()));
  });

  it('changes its route key and timeout in place', async () => {
    const api = await setUp();
    const before = await routeOf(api);
    const changed = { routeKey: 'ANY /{proxy+}', timeoutMillis: 10_000 };
    assert.equal(actions(await t.plan(routes(changed)))[ADDRESS], 'update');
    await t.apply(routes(changed));
    const after = await routeOf(api);
    assert.equal(after.routes[0]!.RouteId, before.routes[0]!.RouteId);
    assert.equal(after.routes[0]!.RouteKey, 'ANY /{proxy+}');
    assert.equal(after.integrations[0]!.TimeoutInMillis, 10_000);
    assertNoChanges(await t.plan(routes(changed)));
  });

  it('is replaced when it moves to another API, and the plan says why', async () => {
    const web = await setUp();
    const plan = await t.plan(routes({ onAdmin: true }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['apiId']);
    await t.apply(routes({ onAdmin: true }));
    assert.deepEqual(await routeOf(web), { routes: [], integrations: [] });
    assert.equal((await routeOf(await apiId('admin'))).routes.length, 1);
    assertNoChanges(await t.plan(routes({ onAdmin: true })));
  });

  it('is created again after being deleted outside Touchdown, route alone or both', async () => {
    const api = await setUp();
    const {
      routes: [route],
      integrations: [integration],
    } = await routeOf(api);
    await t.boto.call('apigatewayv2', 'DeleteRoute', { ApiId: api, RouteId: route!.RouteId });
    const plan = await t.plan(routes());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'routeKey', before: undefined, after: '$default' },
    ]);
    await t.apply(routes());
    assert.equal((await routeOf(api)).routes[0]!.Target, `integrations/${integration!.IntegrationId}`);

    const again = await routeOf(api);
    await t.boto.call('apigatewayv2', 'DeleteRoute', { ApiId: api, RouteId: again.routes[0]!.RouteId });
    await t.boto.call('apigatewayv2', 'DeleteIntegration', {
      ApiId: api,
      IntegrationId: integration!.IntegrationId,
    });
    assert.equal(actions(await t.plan(routes()))[ADDRESS], 'create');
    await t.apply(routes());
    assert.equal((await routeOf(api)).routes.length, 1);
    assertNoChanges(await t.plan(routes()));
  });

  it('is put back after its timeout is changed outside Touchdown', async () => {
    const api = await setUp();
    const {
      integrations: [integration],
    } = await routeOf(api);
    await t.boto.call('apigatewayv2', 'UpdateIntegration', {
      ApiId: api,
      IntegrationId: integration!.IntegrationId,
      TimeoutInMillis: 5000,
    });
    assert.deepEqual((await t.plan(routes())).resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'timeoutMillis', before: 5000, after: 29000 },
    ]);
    await t.apply(routes());
    assert.equal((await routeOf(api)).integrations[0]!.TimeoutInMillis, 29000);
  });

  it('is deleted by destroy, route then integration', async () => {
    const api = await setUp();
    assert.equal(actions(await t.destroy(routes()))[ADDRESS], 'delete');
    assert.equal(await t.boto.errorOf('apigatewayv2', 'GetRoutes', { ApiId: api }), 'NotFoundException');
  });
});

const LAMBDA_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** Seed 002's shape: Django in one function behind an HTTP API, as Zappa deploys it. */
function serverless(code: string) {
  const aws = new AwsStack('sls-test');
  const role = aws.add(Role, {
    name: 'sls-test-app',
    assumeRolePolicy: LAMBDA_TRUST,
    managedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
  });
  const fn = aws.add(LambdaFunction, {
    name: 'django',
    handler: 'touchdown_lambda.handler',
    code: { zipFile: code },
    roleArn: role.arn,
    environment: { DJANGO_SETTINGS_MODULE: 'xkcd.settings' },
    secretsPath: '/sls-test/prod/',
  });
  const api = aws.add(HttpApi, { name: 'web' });
  aws.add(LambdaProxyRoute, { name: 'django', apiId: api.id, functionArn: fn.invokeArn }, api);
  aws.add(HttpApiStage, { name: '$default', apiId: api.id }, api);
  aws.add(LambdaPermission, {
    name: 'api-invokes-django',
    functionName: fn.name,
    principal: 'apigateway.amazonaws.com',
    sourceArn: api.executionArn,
  });
  return aws;
}

describe('serverless path', () => {
  it('serves a zip through an HTTP API, and ships a new zip as a code change alone', async () => {
    const plan = await t.apply(serverless(V1));
    assert.equal(plan.summary.create, 6);
    const role = (await t.boto.call('iam', 'GetRole', { RoleName: 'sls-test-app-us-east-1' })).Role;
    const fn = (await t.boto.call('lambda', 'GetFunction', { FunctionName: 'sls-test-django' }))
      .Configuration;
    assert.equal(fn.Role, role.Arn);
    assert.equal(fn.CodeSha256, sha256(V1));
    assert.equal(fn.Environment.Variables.TOUCHDOWN_SSM_PATH, '/sls-test/prod/');
    const api = await apiId('web');
    const {
      routes: [route],
      integrations: [integration],
    } = await routeOf(api);
    assert.equal(route!.RouteKey, '$default');
    assert.equal(route!.Target, `integrations/${integration!.IntegrationId}`);
    assert.equal(integration!.IntegrationUri, fn.FunctionArn);
    const { Items: stages } = await t.boto.call('apigatewayv2', 'GetStages', { ApiId: api });
    assert.deepEqual(
      stages.map((s: { StageName: string; AutoDeploy: boolean }) => [s.StageName, s.AutoDeploy]),
      [['$default', true]],
    );
    const policy = JSON.parse(
      (await t.boto.call('lambda', 'GetPolicy', { FunctionName: 'sls-test-django' })).Policy,
    );
    assert.deepEqual(
      policy.Statement.map((s: BotoStatement) => [s.Principal.Service, s.Condition.ArnLike['AWS:SourceArn']]),
      [['apigateway.amazonaws.com', `arn:aws:execute-api:us-east-1:123456789012:${api}/*`]],
    );
    assertNoChanges(await t.plan(serverless(V1)));

    const next = await t.plan(serverless(V2));
    const changing = next.resources.filter((r) => r.action !== 'noop');
    assert.deepEqual(
      changing.map((r) => [r.address, r.action, r.changes.map((c) => c.name)]),
      [['lambda-function.django', 'update', ['code']]],
    );
    assert.equal((changing[0]!.changes[0]!.after as { sha256: string }).sha256, sha256(V2));
    await t.apply(serverless(V2));
    const after = (await t.boto.call('lambda', 'GetFunction', { FunctionName: 'sls-test-django' }))
      .Configuration;
    assert.equal(after.CodeSha256, sha256(V2));
    assertNoChanges(await t.plan(serverless(V2)));
  });
});

interface BotoStatement {
  Principal: { Service: string };
  Condition: { ArnLike: Record<string, string> };
}
