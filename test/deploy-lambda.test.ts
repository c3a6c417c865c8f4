// `touchdown deploy` of a copy of examples/xkcd with web.compute: lambda (seed 002) against a local AWS that runs
// the app: package (for x86_64, so that its compiled wheels load on this machine), release phase through the
// function's new version against the local PostgreSQL, the `live` alias serving pages through the HTTP API's local
// port, rollback, destroy.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { get, httpApiUrl } from './support/app-http.js';
import { assertNoChanges, useLocalAws } from './support/harness.js';
import { psql } from './support/local-stack.js';
import { repoRoot } from './support/paths.js';
import { ensureServices } from './support/services.js';

const STACK = 'xkcd-production';
const FUNCTION = 'xkcd-production-web';
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 };

// Lambda and the HTTP API run the function here (no ECS image: the stack has none).
const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0' }, apps: { images: {} } });

/** examples/xkcd, sources and all, with its web on Lambda and a nightly job. */
async function lambdaCopyOfXkcd(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-xkcd-lambda-'));
  await cp(join(repoRoot, 'examples', 'xkcd'), dir, {
    recursive: true,
    filter: (src) => !/(__pycache__|\.touchdown|media|staticfiles)$/.test(src),
  });
  const manifest = parse(await readFile(join(dir, 'touchdown.yml'), 'utf8'));
  manifest.web = { compute: 'lambda', memory: 512, timeout: 20, architecture: 'x86_64' };
  manifest.network = { nat: 'gateway' };
  manifest.schedules = [{ name: 'clear-sessions', cron: '0 3 * * ? *', command: 'clearsessions' }];
  delete manifest.stages;
  await writeFile(join(dir, 'touchdown.yml'), stringify(manifest));
  return dir;
}

const project = await lambdaCopyOfXkcd();
const manifestPath = join(project, 'touchdown.yml');
const load = async () => parseManifest(await readFile(manifestPath, 'utf8'), manifestPath);

/** The app's home page for one comic, through the HTTP API's local port (or a custom domain's). */
async function page(where: { apiId?: string; domainName?: string }, jar: string[] = []) {
  const answer = await get(`${await httpApiUrl(t.aws, where)}/?comic=3`, jar);
  const views = /Viewed <strong id="views">(\d+)<\/strong>/.exec(answer.body)?.[1];
  return { ...answer, views: views === undefined ? undefined : Number(views) };
}

/** The migrations the release phase applied, read from the stack's database on the local PostgreSQL. */
async function applied(): Promise<string[]> {
  const databases = Object.values(await t.aws.databases());
  assert.equal(databases.length, 1, "the stack's one RDS instance is served by the local PostgreSQL");
  const database = databases[0]!;
  const rows = await psql(
    "SELECT name FROM django_migrations WHERE app = 'xkcd_app' ORDER BY name",
    database,
  );
  return rows.split('\n').filter(Boolean);
}

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
  before(() => ensureServices('postgres', 'redis'));

  it('packages, releases through a new version, serves it on the live alias; again does nothing; destroys', async () => {
    const loaded = await load();
    const events: EngineEvent[] = [];
    const first = await deployWith(loaded, events);
    assert.equal(first.status, 'deployed', `${first.message}\n${(first.logs ?? []).join('\n')}`);
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
    assert.deepEqual(fn.Architectures, ['x86_64'], 'web.architecture: x86_64');
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

    // The release phase ran through the function: migrate against the local PostgreSQL, collectstatic to S3.
    assert.deepEqual(await applied(), ['0001_initial', '0002_load_comics']);
    const { Buckets } = await t.boto.call('s3', 'ListBuckets', {});
    const staticBucket = Buckets.find((b: { Name: string }) => b.Name.startsWith(`${STACK}-static`)).Name;
    const { Contents: statics } = await t.boto.call('s3', 'ListObjectsV2', { Bucket: staticBucket });
    assert.ok(
      (statics ?? []).some((o: { Key: string }) => o.Key.endsWith('xkcd_app/style.css')),
      "collectstatic put the app's stylesheet in the static bucket",
    );

    // The app, through the API's local port: the page counts its views in PostgreSQL and a reload counts one
    // more; the session cookie (Secure: API Gateway said https) carries the visit, kept in Redis.
    const jar: string[] = [];
    const opened = await page({ apiId: api.ApiId }, jar);
    assert.equal(opened.status, 200, opened.body.slice(0, 2000));
    assert.match(opened.body, /#3 \| Cache Invalidation/);
    assert.match(String(opened.headers['set-cookie']), /sessionid=[^;]+;.*Secure/);
    const reloaded = await page({ apiId: api.ApiId }, jar);
    assert.equal(reloaded.views, opened.views! + 1, 'a reload counts one more view');
    assert.match(reloaded.body, /You have seen <span id="seen">2<\/span>/);
    // The custom domain answers the same app; a path no view has is Django's 404, not API Gateway's.
    const onDomain = await page({ domainName: 'xkcd.example.com' });
    assert.equal(onDomain.views, reloaded.views! + 1);
    const missing = await get(`${await httpApiUrl(t.aws, { apiId: api.ApiId })}/no-such-page/`);
    assert.equal(missing.status, 404);
    assert.doesNotMatch(missing.body, /^\{"message"/);

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
    const first = await deployWith(loaded);
    assert.equal(first.status, 'deployed', `${first.message}\n${(first.logs ?? []).join('\n')}`);
    const [api] = (await t.boto.call('apigatewayv2', 'GetApis')).Items;
    const served = await page({ apiId: api.ApiId });
    assert.equal(served.status, 200, served.body.slice(0, 2000));
    assert.doesNotMatch(served.body, /release 2/);

    // New code, and a migration that fails in PostgreSQL.
    const template = join(project, 'xkcd_app', 'templates', 'xkcd_app', 'homepage.html');
    const broken = join(project, 'xkcd_app', 'migrations', '0003_broken.py');
    const original = await readFile(template, 'utf8');
    await writeFile(template, `${original}<!-- release 2 -->\n`);
    await writeFile(
      broken,
      [
        'from django.db import migrations',
        '',
        'class Migration(migrations.Migration):',
        '    dependencies = [("xkcd_app", "0002_load_comics")]',
        '    operations = [migrations.RunSQL("SELECT no_such_column FROM xkcd_app_comic")]',
        '',
      ].join('\n'),
    );
    try {
      const failed = await deployWith(loaded);
      assert.equal(failed.status, 'failed');
      assert.equal(failed.failedStep, 'migrate');
      assert.equal(failed.message, 'migrate --noinput exited with code 1; the previous release still serves');
      const logs = (failed.logs ?? []).join('\n');
      // The command's last lines: the traceback, ending in PostgreSQL's own words.
      assert.match(logs, /column "no_such_column" does not exist/);
      assert.equal(await live(), '1', 'the alias still serves the previous version');
      assert.deepEqual(await applied(), ['0001_initial', '0002_load_comics'], 'PostgreSQL rolled 0003 back');
      assert.doesNotMatch((await page({ apiId: api.ApiId })).body, /release 2/, 'release 1 still answers');

      await rm(broken);
      const fixed = await deployWith(loaded);
      assert.equal(fixed.status, 'deployed', fixed.message);
      assert.equal(await live(), fixed.release!.functionVersion);
      assert.notEqual(fixed.release!.functionVersion, '1');
      assert.notEqual(fixed.release!.image, first.release!.image);
      assert.match((await page({ apiId: api.ApiId })).body, /<!-- release 2 -->/, 'the new version answers');

      const back = await deployWith(loaded, [], { rollbackTo: first.release! });
      assert.equal(back.status, 'deployed', back.message);
      assert.equal(await live(), '1', 'rollback moves the alias back to the first version');
      assert.equal(back.release!.image, first.release!.image);
      const previous = await page({ apiId: api.ApiId });
      assert.equal(previous.status, 200);
      assert.doesNotMatch(previous.body, /release 2/, 'after the rollback the first version answers again');
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
      const engine = await engineServing(loaded, back.release);
      const signal = new AbortController().signal;
      const checked = await manage(t.aws.clients(), engine, ['check'], signal);
      assert.equal(checked.exitCode, 0);
      assert.deepEqual(await checked.lastLines(1), ['System check identified no issues (0 silenced).']);
      const wrong = await manage(t.aws.clients(), engine, ['migrate', 'no_such_app'], signal);
      assert.equal(wrong.exitCode, 1);
      assert.match((await wrong.lastLines(5)).join('\n'), /No installed app with label 'no_such_app'/);
    } finally {
      await writeFile(template, original);
      await rm(broken, { force: true });
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
