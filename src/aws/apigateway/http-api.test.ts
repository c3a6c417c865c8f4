import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { HttpApi } from './http-api.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'http-api.web';

interface Options {
  origins?: string[] | null;
  disableExecuteApiEndpoint?: boolean;
  tags?: Record<string, string>;
}

function stack(o: Options = {}) {
  const aws = new AwsStack('api-test');
  const origins = o.origins === undefined ? ['https://xkcd.com'] : o.origins;
  const api = aws.add(HttpApi, {
    name: 'web',
    corsConfiguration: origins && {
      allowOrigins: origins,
      allowMethods: ['GET', 'POST'],
      allowHeaders: ['Content-Type', 'X-CSRFToken'],
      maxAgeSeconds: 600,
    },
    disableExecuteApiEndpoint: o.disableExecuteApiEndpoint,
    tags: o.tags ?? { team: 'web' },
  });
  aws.output('executionArn', api.executionArn);
  aws.output('endpoint', api.endpoint);
  return aws;
}

interface BotoApi {
  ApiId: string;
  Name: string;
  ProtocolType: string;
  ApiEndpoint: string;
  DisableExecuteApiEndpoint: boolean;
  CorsConfiguration?: {
    AllowOrigins: string[];
    AllowMethods: string[];
    AllowHeaders: string[];
    MaxAge: number;
  };
  Tags: Record<string, string>;
}

async function stackApis(): Promise<BotoApi[]> {
  const { Items } = await t.boto.call('apigatewayv2', 'GetApis', {});
  return (Items as BotoApi[]).filter((a) => a.Tags?.['touchdown:stack'] === 'api-test');
}

describe('HttpApi', () => {
  it('is created with its CORS settings and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(stack());
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [api, ...others] = await stackApis();
    assert.equal(others.length, 0);
    assert.equal(api!.Name, 'api-test-web');
    assert.equal(api!.ProtocolType, 'HTTP');
    assert.equal(api!.DisableExecuteApiEndpoint, false);
    assert.deepEqual(api!.CorsConfiguration?.AllowOrigins, ['https://xkcd.com']);
    assert.equal(api!.CorsConfiguration?.MaxAge, 600);
    assert.deepEqual(api!.Tags, {
      'touchdown:stack': 'api-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    const clients = t.aws.clients();
    const { plan: again } = await t.engine(stack(), { aws: clients, registry: [] }).plan();
    assertNoChanges(again);
    assert.equal(again.outputs.executionArn, `arn:aws:execute-api:us-east-1:123456789012:${api!.ApiId}/*`);
    assert.equal(again.outputs.endpoint, api!.ApiEndpoint);
    // All of the stack's APIs in one GetApis call (plus the account id, asked once).
    assert.deepEqual(
      clients.calls.map((c) => c.operation),
      ['GetApis', 'GetCallerIdentity'],
    );
  });

  it('updates CORS, the execute-api endpoint and tags in place, and removes CORS', async () => {
    await t.apply(stack());
    const [before] = await stackApis();
    const changed = {
      origins: ['https://xkcd.com', 'https://www.xkcd.com'],
      disableExecuteApiEndpoint: true,
      tags: { team: 'platform' },
    };
    const plan = await t.plan(stack(changed));
    assert.equal(actions(plan)[ADDRESS], 'update');
    await t.apply(stack(changed));
    const [after] = await stackApis();
    assert.equal(after!.ApiId, before!.ApiId);
    assert.equal(after!.DisableExecuteApiEndpoint, true);
    assert.deepEqual(after!.CorsConfiguration?.AllowOrigins, ['https://xkcd.com', 'https://www.xkcd.com']);
    assert.equal(after!.Tags.team, 'platform');
    assertNoChanges(await t.plan(stack(changed)));

    await t.apply(stack({ ...changed, origins: null }));
    assert.equal((await stackApis())[0]!.CorsConfiguration, undefined);
    assertNoChanges(await t.plan(stack({ ...changed, origins: null })));
  });

  // No replacement case: every argument changes in place (UpdateApi, DeleteCorsConfiguration, TagResource).

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(stack());
    const [api] = await stackApis();
    await t.boto.call('apigatewayv2', 'DeleteApi', { ApiId: api!.ApiId });
    assert.equal(actions(await t.plan(stack()))[ADDRESS], 'create');
    await t.apply(stack());
    const apis = await stackApis();
    assert.equal(apis.length, 1);
    assert.notEqual(apis[0]!.ApiId, api!.ApiId);
  });

  it('is put back after its endpoint setting is changed outside Touchdown', async () => {
    await t.apply(stack());
    const [api] = await stackApis();
    await t.boto.call('apigatewayv2', 'UpdateApi', { ApiId: api!.ApiId, DisableExecuteApiEndpoint: true });
    const change = (await t.plan(stack())).resources.find((r) => r.address === ADDRESS)!;
    assert.deepEqual(change.changes, [{ name: 'disableExecuteApiEndpoint', before: true, after: false }]);
    await t.apply(stack());
    assert.equal((await stackApis())[0]!.DisableExecuteApiEndpoint, false);
  });

  it('is deleted by destroy', async () => {
    await t.apply(stack());
    assert.equal(actions(await t.destroy(stack()))[ADDRESS], 'delete');
    assert.deepEqual(await stackApis(), []);
  });

  it('refuses credentials with a wildcard origin', () => {
    const aws = new AwsStack('api-test');
    aws.add(HttpApi, { name: 'web', corsConfiguration: { allowOrigins: ['*'], allowCredentials: true } });
    assert.throws(() => aws.check(), /browsers send no credentials to a "\*" origin/);
  });
});
