// One stack name in two regions on one local AWS (issue 11): the same stack deployed in us-east-1 and eu-west-3 owns
// its own global resources in each (IAM roles and instance profiles, CloudFront's distribution, origin access
// control and us-east-1 certificate, the Route 53 zone and records), so a plan, an apply or a destroy in one
// region never touches the other's. Everything is checked with boto3, not with Touchdown's own reads.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AwsClients } from '../src/aws/clients.js';
import { AwsStack } from '../src/aws/stack.js';
import { parseManifest } from '../src/config/load-manifest.js';
import type { Plan } from '../src/core/plan.js';
import { awsBlueprint } from '../src/django/blueprint/index.js';
import type { Boto } from './support/boto.js';
import { actions, assertNoChanges, useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
const STACK = 'xkcd-production';

async function xkcdIn(region: string) {
  const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
  const loaded = parseManifest(await readFile(path, 'utf8'), path);
  return awsBlueprint(loaded, {
    region,
    account: '123456789012',
    zones: [`${region}a`, `${region}b`],
    image: `123456789012.dkr.ecr.${region}.amazonaws.com/xkcd-production-app:v1`,
  });
}

/** The engine in a region: plan, apply or destroy there, failing the test on any failed operation. */
async function inRegion(region: string, verb: 'plan' | 'apply' | 'destroy'): Promise<Plan> {
  const aws = new AwsClients({ region, endpoint: t.aws.endpoint, maxAttempts: 3 });
  const engine = t.engine(await xkcdIn(region), { aws });
  if (verb === 'plan') return (await engine.plan()).plan;
  const { plan, report } = verb === 'apply' ? await engine.apply() : await engine.destroy({ force: true });
  assert.deepEqual(report?.failed ?? [], [], `no operation of the ${verb} in ${region} fails`);
  return plan;
}

const tags = (list: { Key: string; Value: string }[] | undefined) =>
  Object.fromEntries((list ?? []).map((x) => [x.Key, x.Value]));

/**
 * The global resources of the stack as boto3 sees them, by the region tag they carry (a record by its ownership
 * TXT record): enough detail (policies, configurations and their ETags, record values) that any change shows.
 */
async function globals(boto: Boto): Promise<Record<string, Record<string, unknown>>> {
  const byRegion: Record<string, Record<string, unknown>> = {};
  const put = (region: string | undefined, id: string, value: unknown) => {
    const key = region ?? 'untagged';
    byRegion[key] ??= {};
    byRegion[key][id] = value;
  };
  for (const r of (await boto.call('iam', 'ListRoles')).Roles as { RoleName: string }[]) {
    const { Role } = await boto.call('iam', 'GetRole', { RoleName: r.RoleName });
    const { PolicyNames } = await boto.call('iam', 'ListRolePolicies', { RoleName: r.RoleName });
    const policies = [];
    for (const PolicyName of PolicyNames)
      policies.push(await boto.call('iam', 'GetRolePolicy', { RoleName: r.RoleName, PolicyName }));
    const t = tags(Role.Tags);
    if (t['touchdown:stack'] === STACK) put(t['touchdown:region'], `role ${r.RoleName}`, { Role, policies });
  }
  for (const p of (await boto.call('iam', 'ListInstanceProfiles')).InstanceProfiles) {
    const t = tags(p.Tags);
    if (t['touchdown:stack'] === STACK) put(t['touchdown:region'], `profile ${p.InstanceProfileName}`, p);
  }
  const distributions = (await boto.call('cloudfront', 'ListDistributions')).DistributionList.Items ?? [];
  for (const d of distributions) {
    const t = tags((await boto.call('cloudfront', 'ListTagsForResource', { Resource: d.ARN })).Tags.Items);
    const config = await boto.call('cloudfront', 'GetDistributionConfig', { Id: d.Id });
    if (t['touchdown:stack'] === STACK) put(t['touchdown:region'], `distribution ${d.Id}`, config);
  }
  const oacs =
    (await boto.call('cloudfront', 'ListOriginAccessControls')).OriginAccessControlList.Items ?? [];
  for (const o of oacs) put(o.Name.split('.')[1], `oac ${o.Id}`, o);
  for (const c of (await boto.call('acm', 'ListCertificates')).CertificateSummaryList) {
    const t = tags(
      (await boto.call('acm', 'ListTagsForCertificate', { CertificateArn: c.CertificateArn })).Tags,
    );
    if (t['touchdown:stack'] === STACK)
      put(t['touchdown:region'], `us-east-1 certificate ${c.CertificateArn}`, t);
  }
  for (const z of (await boto.call('route53', 'ListHostedZones')).HostedZones) {
    const id = z.Id.replace('/hostedzone/', '');
    const t = tags(
      (await boto.call('route53', 'ListTagsForResource', { ResourceType: 'hostedzone', ResourceId: id }))
        .ResourceTagSet.Tags,
    );
    const { ResourceRecordSets } = await boto.call('route53', 'ListResourceRecordSets', { HostedZoneId: id });
    if (t['touchdown:stack'] === STACK) put(t['touchdown:region'], `zone ${id}`, { z, ResourceRecordSets });
  }
  return byRegion;
}

describe('a stack of the same name in two regions', () => {
  it('is planned from nothing in the second region, deployed beside the first, and destroyed region by region', async () => {
    await inRegion('us-east-1', 'apply');
    const before = await globals(t.boto);
    assert.deepEqual(Object.keys(before), ['us-east-1'], 'every global resource carries its region');
    const { Buckets: buckets } = await t.boto.call('s3', 'ListBuckets', {});

    const plan = await inRegion('eu-west-3', 'plan');
    assert.deepEqual(
      plan.resources.filter((r) => r.action !== 'create').map((r) => `${r.action} ${r.address}`),
      [],
      'everything is made anew in eu-west-3',
    );
    assert.deepEqual(await globals(t.boto), before, 'the plan read us-east-1, changed nothing');

    await inRegion('eu-west-3', 'apply');
    const both = await globals(t.boto);
    assert.deepEqual(both['us-east-1'], before['us-east-1'], 'the eu-west-3 deploy left us-east-1 alone');
    assert.deepEqual(Object.keys(both).sort(), ['eu-west-3', 'us-east-1']);
    assert.ok(
      Object.keys(both['eu-west-3']!).some((k) => k === `role ${STACK}-ecs-execution-eu-west-3`),
      'IAM names carry the region',
    );
    assertNoChanges(await inRegion('us-east-1', 'plan'));
    assertNoChanges(await inRegion('eu-west-3', 'plan'));

    await inRegion('eu-west-3', 'destroy');
    assert.deepEqual(await globals(t.boto), before, 'the eu-west-3 destroy removed its own, nothing else');
    assert.deepEqual((await t.boto.call('s3', 'ListBuckets', {})).Buckets, buckets);
    assertNoChanges(await inRegion('us-east-1', 'plan'));

    await inRegion('us-east-1', 'destroy');
    assert.deepEqual(await globals(t.boto), {});
  });
});

// A stack deployed before region scoping: its global resources carry no region tag (and their IAM names none),
// nor do its regional ones. Made here with boto3 exactly as that version made them.
describe('a stack deployed before region scoping', () => {
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
  function legacy(region = 'us-east-1') {
    const aws = new AwsStack('legacy', { region });
    aws.addLogGroup({ name: 'app' });
    const role = aws.addRole({ name: 'legacy-app', assumeRolePolicy: trust });
    aws.addInstanceProfile({ name: 'legacy-app', roles: [role.name] });
    aws.addOriginAccessControl({ name: 'buckets' });
    const zone = aws.addHostedZone({ name: 'zone', domain: 'example.org' });
    zone.addRecord({ recordName: 'www.example.org', type: 'A', values: ['192.0.2.1'] });
    return aws;
  }
  const owned = (address: string) => [
    { Key: 'touchdown:stack', Value: 'legacy' },
    { Key: 'touchdown:resource', Value: address },
  ];
  const engineIn = (region: string) =>
    t.engine(legacy(region), { aws: new AwsClients({ region, endpoint: t.aws.endpoint, maxAttempts: 3 }) });

  async function deployTheOldWay(): Promise<string> {
    // The regional resource, then its region tag taken off, as the old version never wrote one.
    const logs = new AwsStack('legacy');
    logs.addLogGroup({ name: 'app' });
    await t.apply(logs);
    const { logGroups } = await t.boto.call('logs', 'DescribeLogGroups', {});
    await t.boto.call('logs', 'UntagLogGroup', {
      logGroupName: logGroups[0].logGroupName,
      tags: ['touchdown:region'],
    });
    await t.boto.call('iam', 'CreateRole', {
      RoleName: 'legacy-app',
      AssumeRolePolicyDocument: JSON.stringify(trust),
      Tags: owned('role.legacy-app'),
    });
    await t.boto.call('iam', 'CreateInstanceProfile', {
      InstanceProfileName: 'legacy-app',
      Tags: owned('instance-profile.legacy-app'),
    });
    await t.boto.call('iam', 'AddRoleToInstanceProfile', {
      InstanceProfileName: 'legacy-app',
      RoleName: 'legacy-app',
    });
    await t.boto.call('cloudfront', 'CreateOriginAccessControl', {
      OriginAccessControlConfig: {
        Name: 'legacy.buckets',
        Description: '',
        SigningProtocol: 'sigv4',
        SigningBehavior: 'always',
        OriginAccessControlOriginType: 's3',
      },
    });
    const { HostedZone } = await t.boto.call('route53', 'CreateHostedZone', {
      Name: 'example.org',
      CallerReference: 'legacy-zone',
    });
    const zoneId = HostedZone.Id.replace('/hostedzone/', '');
    await t.boto.call('route53', 'ChangeTagsForResource', {
      ResourceType: 'hostedzone',
      ResourceId: zoneId,
      AddTags: owned('hosted-zone.zone'),
    });
    const set = (Name: string, Type: string, Value: string) => ({
      Action: 'CREATE',
      ResourceRecordSet: { Name, Type, TTL: 300, ResourceRecords: [{ Value }] },
    });
    await t.boto.call('route53', 'ChangeResourceRecordSets', {
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          set('www.example.org', 'A', '192.0.2.1'),
          set(
            '_touchdown-a.www.example.org',
            'TXT',
            '"heritage=touchdown,touchdown/stack=legacy,touchdown/resource=dns-record.www.example.org-a"',
          ),
        ],
      },
    });
    return zoneId;
  }

  it('keeps its global resources in its own region, tagging them in place, and a new region makes its own', async () => {
    const zoneId = await deployTheOldWay();
    const [oacBefore] = (await t.boto.call('cloudfront', 'ListOriginAccessControls')).OriginAccessControlList
      .Items;

    const plan = (await engineIn('us-east-1').plan()).plan;
    assert.deepEqual(actions(plan), {
      'log-group.app': 'noop',
      'role.legacy-app': 'update',
      'instance-profile.legacy-app': 'update',
      'origin-access-control.buckets': 'update',
      'hosted-zone.zone': 'update',
      'dns-record.www.example.org-a': 'update',
    });
    assert.deepEqual(plan.resources.find((r) => r.address === 'role.legacy-app')?.changes, [
      { name: 'touchdown:region', after: 'us-east-1' },
    ]);
    const { report } = await engineIn('us-east-1').apply();
    assert.deepEqual(report?.failed ?? [], []);

    const { Role } = await t.boto.call('iam', 'GetRole', { RoleName: 'legacy-app' });
    assert.equal(
      tags(Role.Tags)['touchdown:region'],
      'us-east-1',
      'the role keeps its name and gains its region',
    );
    const { InstanceProfile } = await t.boto.call('iam', 'GetInstanceProfile', {
      InstanceProfileName: 'legacy-app',
    });
    assert.equal(tags(InstanceProfile.Tags)['touchdown:region'], 'us-east-1');
    assert.deepEqual(
      InstanceProfile.Roles.map((r: { RoleName: string }) => r.RoleName),
      ['legacy-app'],
    );
    const [oac] = (await t.boto.call('cloudfront', 'ListOriginAccessControls')).OriginAccessControlList.Items;
    assert.deepEqual([oac.Id, oac.Name], [oacBefore.Id, 'legacy.us-east-1.buckets'], 'renamed in place');
    const zoneTags = await t.boto.call('route53', 'ListTagsForResource', {
      ResourceType: 'hostedzone',
      ResourceId: zoneId,
    });
    assert.equal(tags(zoneTags.ResourceTagSet.Tags)['touchdown:region'], 'us-east-1');
    const { ResourceRecordSets } = await t.boto.call('route53', 'ListResourceRecordSets', {
      HostedZoneId: zoneId,
    });
    const marker = ResourceRecordSets.find((r: { Name: string }) => r.Name.startsWith('_touchdown-a.'));
    assert.match(marker.ResourceRecords[0].Value, /touchdown\/region=us-east-1/);
    assertNoChanges((await engineIn('us-east-1').plan()).plan);

    // A second region's stack of the same name: all its own, and its destroy leaves us-east-1's.
    const other = (await engineIn('ca-central-1').plan()).plan;
    assert.deepEqual(new Set(Object.values(actions(other))), new Set(['create']));
    assert.deepEqual((await engineIn('ca-central-1').apply()).report?.failed ?? [], []);
    await t.boto.call('iam', 'GetRole', { RoleName: 'legacy-app-ca-central-1' });
    assert.deepEqual((await engineIn('ca-central-1').destroy()).report?.failed ?? [], []);
    assertNoChanges((await engineIn('us-east-1').plan()).plan);
    const roles = (await t.boto.call('iam', 'ListRoles')).Roles.map((r: { RoleName: string }) => r.RoleName);
    assert.deepEqual(roles, ['legacy-app']);
  });
});
