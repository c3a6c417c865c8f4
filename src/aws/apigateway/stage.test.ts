import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { HttpApi } from './http-api.js';
import { ACCESS_LOG_FORMAT, HttpApiStage } from './stage.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'http-api-stage.web/$default';
const LOGS = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/stage-test-web';

interface Options {
  onSecondApi?: boolean;
  autoDeploy?: boolean;
  burstLimit?: number;
  tags?: Record<string, string>;
}

function stack(o: Options = {}) {
  const aws = new AwsStack('stage-test');
  const web = aws.add(HttpApi, { name: 'web' });
  const admin = aws.add(HttpApi, { name: 'admin' });
  aws.add(
    HttpApiStage,
    {
      name: '$default',
      apiId: o.onSecondApi ? admin.id : web.id,
      autoDeploy: o.autoDeploy,
      accessLogs: { destinationArn: `${LOGS}:*` },
      throttling: { burstLimit: o.burstLimit ?? 100, rateLimit: 50 },
      tags: o.tags ?? { team: 'web' },
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

async function stages(api: string) {
  const { Items } = await t.boto.call('apigatewayv2', 'GetStages', { ApiId: api });
  return Items as {
    StageName: string;
    AutoDeploy: boolean;
    AccessLogSettings?: { DestinationArn: string; Format: string };
    DefaultRouteSettings: { ThrottlingBurstLimit?: number; ThrottlingRateLimit?: number };
    Tags: Record<string, string>;
  }[];
}

describe('HttpApiStage', () => {
  it('is created with throttling, access logs and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(stack());
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [stage, ...others] = await stages(await apiId('web'));
    assert.equal(others.length, 0);
    assert.equal(stage!.StageName, '$default');
    assert.equal(stage!.AutoDeploy, true);
    assert.deepEqual(stage!.AccessLogSettings, { DestinationArn: LOGS, Format: ACCESS_LOG_FORMAT });
    assert.equal(stage!.DefaultRouteSettings.ThrottlingBurstLimit, 100);
    assert.equal(stage!.DefaultRouteSettings.ThrottlingRateLimit, 50);
    assert.deepEqual(stage!.Tags, {
      'touchdown:stack': 'stage-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assertNoChanges(await t.plan(stack()));
  });

  // moto lacks UpdateStage and CreateDeployment: the calls are made and their failure names them.
  it('changes settings with UpdateStage and deploys with CreateDeployment', async () => {
    await t.apply(stack());
    const changed = stack({ burstLimit: 200 });
    const plan = await t.plan(changed);
    assert.equal(actions(plan)[ADDRESS], 'update');
    const clients = t.aws.clients();
    const { report } = await t.engine(changed, { aws: clients }).apply();
    assert.ok(clients.calls.some((c) => c.operation === 'UpdateStage'));
    assert.match(report!.failed[0]!.error!, /^updating HTTP API stage "web\/\$default": .*UpdateStage/);

    await t.destroy(stack());
    const manual = t.aws.clients();
    const created = await t.engine(stack({ autoDeploy: false }), { aws: manual }).apply();
    assert.ok(manual.calls.some((c) => c.operation === 'CreateDeployment'));
    assert.match(
      created.report!.failed[0]!.error!,
      /^creating HTTP API stage "web\/\$default": .*CreateDeployment/,
    );
  });

  it('is replaced when it moves to another API, and the plan says why', async () => {
    await t.apply(stack());
    const plan = await t.plan(stack({ onSecondApi: true }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['apiId']);
    await t.apply(stack({ onSecondApi: true }));
    assert.deepEqual(await stages(await apiId('web')), []);
    assert.equal((await stages(await apiId('admin')))[0]?.StageName, '$default');
    assertNoChanges(await t.plan(stack({ onSecondApi: true })));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(stack());
    const api = await apiId('web');
    await t.boto.call('apigatewayv2', 'DeleteStage', { ApiId: api, StageName: '$default' });
    assert.equal(actions(await t.plan(stack()))[ADDRESS], 'create');
    await t.apply(stack());
    assert.equal((await stages(api)).length, 1);
  });

  // No out-of-band attribute change: moto lacks UpdateStage, so nothing can change a stage in place here.

  it('is deleted by destroy', async () => {
    await t.apply(stack());
    const api = await apiId('web');
    const plan = await t.destroy(stack());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.deepEqual((await t.boto.call('apigatewayv2', 'GetApis', {})).Items, []);
    assert.equal(await t.boto.errorOf('apigatewayv2', 'GetStages', { ApiId: api }), 'NotFoundException');
  });
});
