// The whole seed 004 architecture in one stack (the xkcd example's blueprint): applies from nothing,
// re-plans to zero changes, and destroys to nothing tagged with the stack. Checked with boto3.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseManifest } from '../src/config/load-manifest.js';
import { awsBlueprint } from '../src/django/blueprint/index.js';
import { manage } from '../src/django/operations.js';
import { get, listenerUrl } from './support/app-http.js';
import { assertNoChanges, useLocalAws } from './support/harness.js';
import { repoRoot, venvPython } from './support/paths.js';

// The local AWS runs the app's tasks (examples/xkcd in this machine's virtualenv) as ECS would.
const t = useLocalAws({
  env: { MOTO_ACM_VALIDATION_WAIT: '0' },
  apps: {
    images: {
      '*/xkcd:*': {
        dir: join(repoRoot, 'examples', 'xkcd'),
        python: venvPython,
        env: { WEB_CONCURRENCY: '1' },
      },
    },
  },
});
const STACK = 'xkcd-production';

async function loadXkcd() {
  const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
  return parseManifest(await readFile(path, 'utf8'), path);
}

async function xkcd(image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd:1') {
  return awsBlueprint(await loadXkcd(), {
    region: 'us-east-1',
    account: '123456789012',
    zones: ['us-east-1a', 'us-east-1b'],
    image,
  });
}

const byTag = async (type: string) => {
  const r = await t.boto.call('resourcegroupstaggingapi', 'GetResources', {
    ResourceTypeFilters: [type],
    TagFilters: [{ Key: 'touchdown:stack', Values: [STACK] }],
  });
  return r.ResourceTagMappingList as { ResourceARN: string }[];
};

describe('the seed 004 architecture on the local AWS', () => {
  it('applies from nothing, re-plans to zero changes, and destroys to nothing tagged with the stack', async () => {
    const stack = await xkcd();
    const first = await t.apply(stack);
    assert.ok(
      first.summary.create > 40,
      `expected the whole architecture, got ${first.summary.create} resources`,
    );
    assertNoChanges(await t.plan(await xkcd()));

    // The app runs behind the load balancer: migrate as a one-off task, then a page counts its views in PostgreSQL.
    const signal = new AbortController().signal;
    const migrate = await manage(t.aws.clients(), t.engine(await xkcd()), ['migrate'], signal);
    assert.equal(migrate.exitCode, 0, `${migrate.reason}\n${(await migrate.lastLines(20)).join('\n')}`);
    const site = await listenerUrl(t.aws, 'xkcd', 443);
    const views = async () => {
      const page = await get(`${site}/?comic=1`);
      assert.equal(page.status, 200, page.body.slice(0, 500));
      return Number(/<strong id="views">(\d+)<\/strong>/.exec(page.body)?.[1]);
    };
    assert.equal(await views(), 1);
    assert.equal(await views(), 2, 'the view count rises on reload');

    // The database is reachable from the app's security group alone.
    const { SecurityGroups } = await t.boto.call('ec2', 'DescribeSecurityGroups', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: [STACK] }],
    });
    const group = (name: string) =>
      SecurityGroups.find((g: { Tags: { Key: string; Value: string }[] }) =>
        g.Tags.some((x) => x.Key === 'touchdown:resource' && x.Value === `security-group.main/${name}`),
      );
    const dbIngress = group('db').IpPermissions;
    assert.deepEqual(
      dbIngress.map(
        (p: { FromPort: number; UserIdGroupPairs: { GroupId: string }[]; IpRanges: unknown[] }) => [
          p.FromPort,
          p.UserIdGroupPairs.map((u) => u.GroupId),
          p.IpRanges.length,
        ],
      ),
      [[5432, [group('app').GroupId], 0]],
    );
    const { DBInstances } = await t.boto.call('rds', 'DescribeDBInstances');
    assert.equal(DBInstances[0].PubliclyAccessible, false);
    assert.equal(DBInstances[0].StorageEncrypted, true);

    // No secret in any task definition's plain environment: secrets travel as references.
    const { taskDefinitionArns } = await t.boto.call('ecs', 'ListTaskDefinitions', { status: 'ACTIVE' });
    assert.ok(taskDefinitionArns.length >= 2);
    for (const arn of taskDefinitionArns) {
      const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', { taskDefinition: arn });
      for (const c of taskDefinition.containerDefinitions) {
        const names = (c.environment ?? []).map((e: { name: string }) => e.name);
        assert.ok(
          !names.includes('DJANGO_SECRET_KEY') && !names.includes('DATABASE_PASSWORD'),
          names.join(','),
        );
        assert.deepEqual((c.secrets ?? []).map((s: { name: string }) => s.name).sort(), [
          'DATABASE_PASSWORD',
          'DJANGO_SECRET_KEY',
        ]);
        const url = c.environment.find((e: { name: string }) => e.name === 'DATABASE_URL').value;
        assert.match(
          url,
          /^postgres:\/\/app@[^:]+:5432\/app\?sslmode=require$/,
          'the URL carries no password',
        );
      }
    }

    // Buckets private, read by CloudFront alone.
    const buckets = (await t.boto.call('s3', 'ListBuckets')).Buckets.map((b: { Name: string }) => b.Name);
    for (const bucket of buckets.filter((b: string) => b.startsWith(STACK))) {
      const pab = await t.boto.call('s3', 'GetPublicAccessBlock', { Bucket: bucket });
      assert.equal(pab.PublicAccessBlockConfiguration.BlockPublicPolicy, true);
      const policy = JSON.parse((await t.boto.call('s3', 'GetBucketPolicy', { Bucket: bucket })).Policy);
      assert.equal(policy.Statement[0].Principal.Service, 'cloudfront.amazonaws.com');
    }

    // HTTPS with the certificate, HTTP redirected; the domain points at CloudFront.
    const { LoadBalancers } = await t.boto.call('elbv2', 'DescribeLoadBalancers');
    const { Listeners } = await t.boto.call('elbv2', 'DescribeListeners', {
      LoadBalancerArn: LoadBalancers[0].LoadBalancerArn,
    });
    const https = Listeners.find((l: { Port: number }) => l.Port === 443);
    const http = Listeners.find((l: { Port: number }) => l.Port === 80);
    assert.match(https.Certificates[0].CertificateArn, /^arn:aws:acm:us-east-1:/);
    assert.equal(http.DefaultActions[0].Type, 'redirect');
    assert.equal(http.DefaultActions[0].RedirectConfig.Protocol, 'HTTPS');
    const { HostedZones } = await t.boto.call('route53', 'ListHostedZones');
    const zone = HostedZones.find((z: { Name: string }) => z.Name === 'example.com.');
    const { ResourceRecordSets } = await t.boto.call('route53', 'ListResourceRecordSets', {
      HostedZoneId: zone.Id,
    });
    const a = ResourceRecordSets.find(
      (r: { Name: string; Type: string }) => r.Name === 'xkcd.example.com.' && r.Type === 'A',
    );
    assert.match(a.AliasTarget.DNSName, /cloudfront\.net\.?$/);

    const { logGroups } = await t.boto.call('logs', 'DescribeLogGroups', {
      logGroupNamePrefix: `/${STACK}/`,
    });
    assert.deepEqual(logGroups.map((g: { logGroupName: string }) => g.logGroupName).sort(), [
      `/${STACK}/release`,
      `/${STACK}/web`,
    ]);

    // Destroy: the database and the media bucket are data stores, so it takes --force, and leaves a final snapshot.
    const refused = await t.engine(await xkcd()).destroy();
    assert.ok(
      refused.report!.failed.some((f) => f.address === 'db-instance.db'),
      'the database is kept without --force',
    );
    const destroyed = await t.engine(await xkcd()).destroy({ force: true });
    assert.deepEqual(
      destroyed.report!.failed.map((f) => f.address),
      [],
    );
    assert.deepEqual(destroyed.report!.skipped, []);
    const { DBSnapshots } = await t.boto.call('rds', 'DescribeDBSnapshots');
    assert.equal(
      DBSnapshots.filter((s: { SnapshotType: string }) => s.SnapshotType === 'manual').length,
      1,
      'a final snapshot',
    );
    const network = (await byTag('ec2')).map((r) => r.ResourceARN);
    assert.equal(network.length, 0, `nothing of the network is left: ${network.join(', ')}`);
    // Deleted ECS clusters and services stay visible as INACTIVE for a while, on AWS as here.
    const { clusters } = await t.boto.call('ecs', 'DescribeClusters', { clusters: [`${STACK}-main`] });
    assert.deepEqual(
      clusters.map((c: { status: string }) => c.status),
      ['INACTIVE'],
    );
    for (const type of [
      'ec2',
      'rds',
      'elasticache',
      'elasticloadbalancing',
      'cloudfront',
      'logs',
      's3',
      'ssm',
      'acm',
    ]) {
      const left = (await byTag(type)).map((r) => r.ResourceARN);
      assert.deepEqual(left, [], `nothing of ${type} is left tagged with the stack`);
    }
  });
});
