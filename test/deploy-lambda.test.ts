// `touchdown deploy` of a copy of examples/xkcd with web.compute: lambda (seed 002) against the local AWS:
// package, release phase through the function's new version, the `live` alias, rollback, destroy.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { stackZones } from '../src/aws/ec2/zones.js';
import { resourceTypes } from '../src/aws/registry.js';
import { type LoadedManifest, parseManifest } from '../src/config/load-manifest.js';
import { Engine } from '../src/core/engine.js';
import type { EngineEvent } from '../src/core/events.js';
import { awsBlueprint, zoneNeeds } from '../src/django/blueprint/index.js';
import { type DeployOptions, deploy } from '../src/django/deploy.js';
import { manage } from '../src/django/operations.js';
import { type Release, ReleaseHistory } from '../src/django/releases.js';
import { assertNoChanges, useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const STACK = 'xkcd-production';
const FUNCTION = 'xkcd-production-web';
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 };

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0' } });

/** examples/xkcd, sources and all, with its web on Lambda and a nightly job. */
async function lambdaCopyOfXkcd(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-xkcd-lambda-'));
  await cp(join(repoRoot, 'examples', 'xkcd'), dir, {
    recursive: true,
    filter: (src) => !/(__pycache__|\.touchdown|media|staticfiles)$/.test(src),
  });
  const manifest = parse(await readFile(join(dir, 'touchdown.yml'), 'utf8'));
  manifest.web = { compute: 'lambda', memory: 512, timeout: 20 };
  manifest.network = { nat: 'gateway' };
  manifest.schedules = [{ name: 'clear-sessions', cron: '0 3 * * ? *', command: 'clearsessions' }];
  delete manifest.stages;
  await writeFile(join(dir, 'touchdown.yml'), stringify(manifest));
  return dir;
}

const project = await lambdaCopyOfXkcd();
const manifestPath = join(project, 'touchdown.yml');
const load = async () => parseManifest(await readFile(manifestPath, 'utf8'), manifestPath);

/**
 * The emulator gap: moto runs Lambda code only in Docker, which this machine lacks. Without it Invoke
 * answers with results queued here, in order; the handler itself runs for real in lambda-package.test.ts.
 */
async function invocationsAnswer(...results: { exitCode: number; output: string }[]): Promise<void> {
  const res = await fetch(`${t.aws.endpoint}/moto-api/static/lambda-simple/response`, {
    method: 'POST',
    body: JSON.stringify({ results: results.map((r) => JSON.stringify(r)), region: t.aws.region }),
  });
  assert.equal(res.status, 201);
}
const ok = (output: string) => ({ exitCode: 0, output });

function deployWith(loaded: LoadedManifest, events: EngineEvent[] = [], extra: Partial<DeployOptions> = {}) {
  return deploy({
    loaded,
    aws: t.aws.clients(),
    events: (e) => events.push(e),
    signal: new AbortController().signal,
    timing,
    ...extra,
  });
}

async function engineServing(loaded: LoadedManifest, release: Release | undefined) {
  const aws = t.aws.clients();
  return new Engine({
    stack: awsBlueprint(loaded, {
      region: aws.region,
      account: await aws.account(),
      zones: await stackZones(aws, zoneNeeds(loaded.manifest)),
      image: release?.image,
      version: release?.functionVersion,
    }),
    registry: resourceTypes,
    aws,
    timing,
  });
}

const live = async () =>
  (await t.boto.call('lambda', 'GetAlias', { FunctionName: FUNCTION, Name: 'live' })).FunctionVersion;

describe('touchdown deploy with web.compute: lambda', () => {
  before(async () => {
    const res = await fetch(`${t.aws.endpoint}/moto-api/config`, {
      method: 'POST',
      body: JSON.stringify({ lambda: { use_docker: false } }),
    });
    assert.equal(res.status, 201);
  });

  it('packages, releases through a new version, serves it on the live alias; again does nothing; destroys', async () => {
    const loaded = await load();
    const events: EngineEvent[] = [];
    await invocationsAnswer(ok('Applying xkcd_app.0001_initial... OK'), ok('13 static files copied.'));
    const first = await deployWith(loaded, events);
    assert.equal(first.status, 'deployed', first.message);
    const steps = events
      .filter((e) => e.type === 'step' && e.state === 'done')
      .map((e) => (e as { step: string }).step);
    assert.deepEqual(steps, [
      'infrastructure',
      'package',
      'release function',
      'version',
      'migrate',
      'collectstatic',
      'traffic',
    ]);
    const release = first.release!;
    assert.match(release.image, /^s3:\/\/xkcd-production-artifacts-[0-9a-f]{8}\/lambda\/[0-9a-f]{64}\.zip$/);
    assert.equal(release.functionVersion, '1');

    // The function: in the app subnets with the app security group, its code the uploaded package.
    const { Configuration: fn } = await t.boto.call('lambda', 'GetFunction', { FunctionName: FUNCTION });
    assert.equal(fn.Runtime, 'python3.12');
    assert.equal(fn.Handler, 'touchdown_lambda.handler');
    assert.equal(fn.MemorySize, 512);
    assert.deepEqual(fn.Architectures, ['arm64']);
    const hex = release.image.match(/([0-9a-f]{64})\.zip$/)![1]!;
    assert.equal(
      fn.CodeSha256,
      Buffer.from(hex, 'hex').toString('base64'),
      'the key names the code Lambda runs',
    );
    const byResource = async (address: string) =>
      (
        await t.boto.call('ec2', 'DescribeSecurityGroups', {
          Filters: [{ Name: 'tag:touchdown:resource', Values: [address] }],
        })
      ).SecurityGroups.map((g: { GroupId: string }) => g.GroupId);
    assert.deepEqual(fn.VpcConfig.SecurityGroupIds, await byResource('security-group.main/app'));
    const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', { SubnetIds: fn.VpcConfig.SubnetIds });
    const subnetNames = Subnets.map(
      (s: { Tags: { Key: string; Value: string }[] }) =>
        s.Tags.find((x) => x.Key === 'touchdown:resource')!.Value,
    ).sort();
    assert.deepEqual(subnetNames, ['subnet.main/app-a', 'subnet.main/app-b']);

    // No secret in its configuration: only where to read them.
    const secret = async (name: string) =>
      (await t.boto.call('ssm', 'GetParameter', { Name: `/xkcd/production/${name}`, WithDecryption: true }))
        .Parameter.Value as string;
    const env = fn.Environment.Variables as Record<string, string>;
    for (const value of [await secret('DJANGO_SECRET_KEY'), await secret('DATABASE_PASSWORD')]) {
      assert.ok(value.length >= 32);
      assert.ok(!JSON.stringify(fn).includes(value), 'a secret is in the function configuration');
    }
    assert.deepEqual(JSON.parse(env.TOUCHDOWN_PARAMETERS!), {
      DATABASE_PASSWORD: '/xkcd/production/DATABASE_PASSWORD',
      DJANGO_SECRET_KEY: '/xkcd/production/DJANGO_SECRET_KEY',
    });
    assert.match(env.DATABASE_URL!, /^postgres:\/\/app@[^:]+:5432\/app\?sslmode=require$/);
    assert.equal(env.TOUCHDOWN_WSGI, 'xkcd_app.wsgi:application');

    // The role reads only this stage's parameters.
    const { PolicyDocument } = await t.boto.call('iam', 'GetRolePolicy', {
      RoleName: `${STACK}-lambda-us-east-1`,
      PolicyName: 'app',
    });
    const statements = JSON.parse(decodeURIComponent(JSON.stringify(PolicyDocument))).Statement as {
      Action: string | string[];
      Resource: string | string[];
    }[];
    const ssm = statements.find((s) => [s.Action].flat().includes('ssm:GetParameters'))!;
    assert.deepEqual([ssm.Resource].flat(), [
      'arn:aws:ssm:us-east-1:123456789012:parameter/xkcd/production/*',
    ]);

    // The live alias on the published version; API Gateway may invoke the alias, and only from this API.
    const aliasArn = `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION}:live`;
    assert.equal(await live(), '1');
    const [api] = (await t.boto.call('apigatewayv2', 'GetApis')).Items;
    const { Items: integrations } = await t.boto.call('apigatewayv2', 'GetIntegrations', {
      ApiId: api.ApiId,
    });
    assert.equal(integrations.length, 1);
    assert.equal(integrations[0].IntegrationType, 'AWS_PROXY');
    assert.equal(integrations[0].IntegrationUri, aliasArn);
    assert.equal(integrations[0].PayloadFormatVersion, '2.0');
    assert.equal(integrations[0].TimeoutInMillis, 20_000);
    const { Items: routes } = await t.boto.call('apigatewayv2', 'GetRoutes', { ApiId: api.ApiId });
    assert.deepEqual(
      routes.map((r: { RouteKey: string; Target: string }) => [r.RouteKey, r.Target]),
      [['$default', `integrations/${integrations[0].IntegrationId}`]],
    );
    const { Items: stages } = await t.boto.call('apigatewayv2', 'GetStages', { ApiId: api.ApiId });
    assert.deepEqual(
      stages.map((s: { StageName: string; AutoDeploy: boolean }) => [s.StageName, s.AutoDeploy]),
      [['$default', true]],
    );
    const policy = await t.boto.call('lambda', 'GetPolicy', { FunctionName: FUNCTION, Qualifier: 'live' });
    const [permission] = JSON.parse(policy.Policy).Statement;
    assert.equal(permission.Resource, aliasArn);
    assert.deepEqual(permission.Principal, { Service: 'apigateway.amazonaws.com' });
    assert.equal(
      permission.Condition.ArnLike['AWS:SourceArn'],
      `arn:aws:execute-api:us-east-1:123456789012:${api.ApiId}/*`,
    );

    // The domain on API Gateway, with its certificate and an alias record.
    const { Items: domains } = await t.boto.call('apigatewayv2', 'GetDomainNames');
    assert.deepEqual(
      domains.map((d: { DomainName: string }) => d.DomainName),
      ['xkcd.example.com'],
    );
    const target = domains[0].DomainNameConfigurations[0];
    assert.match(target.CertificateArn, /^arn:aws:acm:us-east-1:/);
    const { Items: mappings } = await t.boto.call('apigatewayv2', 'GetApiMappings', {
      DomainName: 'xkcd.example.com',
    });
    assert.deepEqual(
      mappings.map((m: { ApiId: string; Stage: string }) => [m.ApiId, m.Stage]),
      [[api.ApiId, '$default']],
    );
    const { HostedZones } = await t.boto.call('route53', 'ListHostedZones');
    const { ResourceRecordSets } = await t.boto.call('route53', 'ListResourceRecordSets', {
      HostedZoneId: HostedZones[0].Id,
    });
    const record = ResourceRecordSets.find((r: { Name: string; Type: string }) => r.Type === 'A');
    assert.equal(record.Name, 'xkcd.example.com.');
    assert.equal(record.AliasTarget.DNSName.replace(/\.$/, ''), target.ApiGatewayDomainName);

    // The nightly job invokes the live alias with the manage event.
    const schedule = await t.boto.call('scheduler', 'GetSchedule', { Name: `${STACK}.clear-sessions` });
    assert.equal(schedule.ScheduleExpression, 'cron(0 3 * * ? *)');
    assert.equal(schedule.Target.Arn, aliasArn);
    assert.deepEqual(JSON.parse(schedule.Target.Input), { touchdown: 'manage', args: ['clearsessions'] });

    // Unchanged project: the same package, nothing to do, and a plan shows nothing.
    const again = await deployWith(await load());
    assert.equal(again.status, 'unchanged', again.message);
    const engine = await engineServing(loaded, release);
    assertNoChanges((await engine.plan()).plan);

    // Destroy leaves nothing of the stack but the database's final snapshot.
    const destroyed = await engine.destroy({ force: true });
    const report = destroyed.report!;
    assert.deepEqual(
      report.failed.map((f) => f.address),
      [],
    );
    assert.deepEqual(report.skipped, []);
    await new ReleaseHistory(t.aws.clients(), STACK).forget();
    const { ResourceTagMappingList } = await t.boto.call('resourcegroupstaggingapi', 'GetResources', {
      TagFilters: [{ Key: 'touchdown:stack', Values: [STACK] }],
    });
    const { NatGateways } = await t.boto.call('ec2', 'DescribeNatGateways');
    const deletedNats = NatGateways.filter((g: { State: string }) => g.State === 'deleted').map(
      (g: { NatGatewayId: string }) => g.NatGatewayId,
    );
    const left = ResourceTagMappingList.map(
      (r: { ResourceARN: string; Tags: { Key: string; Value: string }[] }) => {
        const address = r.Tags.find((x) => x.Key === 'touchdown:resource')?.Value ?? r.ResourceARN;
        return deletedNats.some((id: string) => r.ResourceARN.endsWith(id)) ? 'deleted NAT gateway' : address;
      },
    );
    assert.deepEqual(
      left.filter((a: string) => a !== 'deleted NAT gateway'),
      [],
    );
    const { DBSnapshots } = await t.boto.call('rds', 'DescribeDBSnapshots');
    assert.equal(DBSnapshots.length, 1, 'a final snapshot of the database');
    assert.deepEqual((await t.boto.call('lambda', 'ListFunctions')).Functions, []);
    assert.deepEqual((await t.boto.call('apigatewayv2', 'GetApis')).Items, []);
    assert.deepEqual((await t.boto.call('apigatewayv2', 'GetDomainNames')).Items, []);
    assert.deepEqual((await t.boto.call('scheduler', 'ListSchedules', { NamePrefix: STACK })).Schedules, []);
    const roles = (await t.boto.call('iam', 'ListRoles')).Roles.map((r: { RoleName: string }) => r.RoleName);
    assert.deepEqual(
      roles.filter((r: string) => r.startsWith(STACK)),
      [],
    );
  });

  it('keeps the previous version serving when migrate fails; the next release goes through; rollback moves the alias back', async () => {
    const loaded = await load();
    await invocationsAnswer(ok('migrated'), ok('copied'));
    const first = await deployWith(loaded);
    assert.equal(first.status, 'deployed', first.message);

    // New code, and a migration that fails.
    const template = join(project, 'xkcd_app', 'templates', 'xkcd_app', 'homepage.html');
    const original = await readFile(template, 'utf8');
    await writeFile(template, `${original}<!-- release 2 -->\n`);
    try {
      await invocationsAnswer({
        exitCode: 1,
        output:
          'Applying xkcd_app.0003_broken...\ndjango.db.utils.ProgrammingError: column "x" does not exist',
      });
      const failed = await deployWith(loaded);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.failedStep, 'migrate');
      assert.equal(failed.message, 'migrate --noinput exited with code 1; the previous release still serves');
      assert.deepEqual(failed.logs, [
        'Applying xkcd_app.0003_broken...',
        'django.db.utils.ProgrammingError: column "x" does not exist',
      ]);
      assert.equal(await live(), '1', 'the alias still serves the previous version');

      await invocationsAnswer(ok('migrated'), ok('copied'));
      const fixed = await deployWith(loaded);
      assert.equal(fixed.status, 'deployed', fixed.message);
      assert.equal(await live(), fixed.release!.functionVersion);
      assert.notEqual(fixed.release!.functionVersion, '1');
      assert.notEqual(fixed.release!.image, first.release!.image);

      const back = await deployWith(loaded, [], { rollbackTo: first.release! });
      assert.equal(back.status, 'deployed', back.message);
      assert.equal(await live(), '1', 'rollback moves the alias back to the first version');
      assert.equal(back.release!.image, first.release!.image);
      const history = await new ReleaseHistory(t.aws.clients(), STACK).list();
      assert.deepEqual(
        history.map((r) => [r.number, r.status, r.failedStep ?? '']),
        [
          [1, 'superseded', ''],
          [2, 'failed', 'migrate'],
          [3, 'superseded', ''],
          [4, 'live', ''],
        ],
      );
      assert.deepEqual(
        history.map((r) => r.functionVersion),
        ['1', history[1]!.functionVersion, fixed.release!.functionVersion, '1'],
      );
      assert.notEqual(history[1]!.functionVersion, '1', 'the failed release had its own version');

      // touchdown manage invokes the live alias with the manage event and returns the command's exit code.
      await invocationsAnswer({ exitCode: 3, output: 'System check identified 1 issue.' });
      const checked = await manage(
        t.aws.clients(),
        await engineServing(loaded, back.release),
        ['check'],
        new AbortController().signal,
      );
      assert.equal(checked.exitCode, 3);
      assert.deepEqual(await checked.lastLines(10), ['System check identified 1 issue.']);
    } finally {
      await writeFile(template, original);
    }
  });

  it('refuses lambda-specific mistakes in touchdown.yml before any AWS call, naming the field and the fix', async () => {
    const text = await readFile(manifestPath, 'utf8');
    const withWeb = (web: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      stringify({ ...parse(text), web: { compute: 'lambda', ...web }, ...extra });
    assert.throws(() => parseManifest(withWeb({ memory: 64 }), manifestPath), /web\.memory.*128 to 10240 MB/);
    assert.throws(() => parseManifest(withWeb({ cpu: 256 }), manifestPath), /web\.cpu.*remove web\.cpu/);
    assert.throws(
      () => parseManifest(withWeb({}, { network: { nat: 'none' } }), manifestPath),
      /network\.nat.*set network\.nat to "instance" .* or "gateway"/,
    );
    assert.throws(
      () => parseManifest(withWeb({}, { django: { ...parse(text).django, python: '3.11' } }), manifestPath),
      /django\.python.*Lambda runs Python 3\.12 or newer/,
    );
  });
});
