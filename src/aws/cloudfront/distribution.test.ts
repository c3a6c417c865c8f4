import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { ConfigError } from '../../core/errors.js';
import type { Plan } from '../../core/plan.js';
import type { Stack } from '../../core/stack.js';
import { Bucket } from '../s3/bucket.js';
import { AwsStack } from '../stack.js';
import { bucketPolicyForDistribution, Distribution, invalidate } from './distribution.js';
import { OriginAccessControl } from './origin-access-control.js';

// scripts/local_aws.py puts back the origin fields moto 5.2.5 drops (OriginAccessControlId, S3OriginConfig).
const t = useLocalAws({ declaredTypesOnly: true });

const STACK = 'cdn-test';
const BUCKET = 'touchdown-cdn-test-assets';
const LB = 'web-lb-123456789.us-east-1.elb.amazonaws.com';
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const CACHING_OPTIMIZED = '658327ea-f89d-4fab-a63d-7e88639e58f6';
const ALL_VIEWER_EXCEPT_HOST = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';
// Only the types these stacks use: the other types' finds (IAM's above all) would double each test's time.
const registry = [OriginAccessControl, Distribution, Bucket];

async function apply(stack: Stack): Promise<Plan> {
  const { plan, report } = await t.engine(stack, { registry }).apply();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

async function planOf(stack: Stack): Promise<Plan> {
  return (await t.engine(stack, { registry }).plan()).plan;
}

type DistributionArgs = ArgsInput<typeof Distribution.fields>;

/** The production shape: a private bucket through an origin access control, and the app behind a load balancer. */
function site(overrides: Partial<DistributionArgs> = {}) {
  const aws = new AwsStack(STACK);
  const oac = aws.add(OriginAccessControl, { name: 'assets', description: 'static and media files' });
  const files = { originId: 'assets', allowedMethods: 'GET_HEAD', cachePolicy: 'CachingOptimized' } as const;
  const cdn = aws.add(Distribution, {
    name: 'cdn',
    comment: 'radpress',
    origins: [
      // Written out, not bucket.regionalDomainName: the bucket's policy already waits for the distribution.
      {
        id: 'assets',
        s3: {
          bucketRegionalDomainName: `${BUCKET}.s3.us-east-1.amazonaws.com`,
          originAccessControlId: oac.id,
        },
      },
      { id: 'app', http: { domainName: LB, protocolPolicy: 'https-only' } },
    ],
    defaultBehavior: {
      originId: 'app',
      allowedMethods: 'ALL',
      cachePolicy: 'CachingDisabled',
      originRequestPolicy: 'AllViewerExceptHostHeader',
    },
    behaviors: [
      { pathPattern: '/static/*', ...files },
      { pathPattern: '/media/*', ...files },
    ],
    tags: { team: 'web' },
    ...overrides,
  });
  aws.add(Bucket, {
    name: BUCKET,
    blockPublicAccess: true,
    policy: bucketPolicyForDistribution(`arn:aws:s3:::${BUCKET}`, cdn.arn),
  });
  return aws;
}

/** One distribution with one HTTP origin: the cases that need no bucket. */
function plain(overrides: Partial<DistributionArgs> = {}, name = 'cdn') {
  const aws = new AwsStack(STACK);
  aws.add(Distribution, {
    name,
    origins: [{ id: 'app', http: { domainName: LB } }],
    defaultBehavior: { originId: 'app', allowedMethods: 'ALL', cachePolicy: 'CachingDisabled' },
    ...overrides,
  });
  return aws;
}

interface Summary {
  Id: string;
  ARN: string;
  Status: string;
  Comment: string;
  PriceClass: string;
}

async function distributions(): Promise<Summary[]> {
  const { DistributionList } = await t.boto.call('cloudfront', 'ListDistributions');
  return (DistributionList.Items ?? []) as Summary[];
}

// biome-ignore lint/suspicious/noExplicitAny: boto3's answer, checked field by field
async function configOf(id: string): Promise<{ config: any; etag: string }> {
  const r = await t.boto.call('cloudfront', 'GetDistributionConfig', { Id: id });
  return { config: r.DistributionConfig, etag: r.ETag };
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const { Tags } = await t.boto.call('cloudfront', 'ListTagsForResource', { Resource: arn });
  return Object.fromEntries((Tags.Items as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

/** The emulator answers InProgress until the n-th GetDistribution; AWS takes minutes. */
async function deploysAfter(gets: number) {
  await t.aws.setTransition('cloudfront::distribution', { progression: 'manual', times: gets });
}

describe('CloudFront distribution', () => {
  it('serves a private bucket through an origin access control and the app behind a load balancer', async () => {
    await deploysAfter(3);
    const applied = await apply(site());
    assert.equal(actions(applied)['distribution.cdn'], 'create');
    const [d, ...others] = await distributions();
    assert.equal(others.length, 0);
    assert.equal(d!.Status, 'Deployed');
    // The create waited through InProgress until CloudFront said Deployed.
    const waits = t.events.filter((e) => e.type === 'op.progress' && e.address === 'distribution.cdn');
    assert.ok(
      waits.some((e) => e.type === 'op.progress' && e.message === 'waiting: InProgress'),
      JSON.stringify(waits),
    );
    assert.deepEqual(await tagsOf(d!.ARN), {
      'touchdown:stack': STACK,
      'touchdown:resource': 'distribution.cdn',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });

    const { config } = await configOf(d!.Id);
    const { OriginAccessControlList } = await t.boto.call('cloudfront', 'ListOriginAccessControls');
    const oac = OriginAccessControlList.Items[0];
    assert.equal(oac.Name, `${STACK}.us-east-1.assets`);
    const [assets, app] = config.Origins.Items;
    assert.equal(assets.DomainName, `${BUCKET}.s3.us-east-1.amazonaws.com`);
    assert.equal(assets.OriginAccessControlId, oac.Id);
    assert.equal(app.DomainName, LB);
    assert.equal(app.CustomOriginConfig.OriginProtocolPolicy, 'https-only');
    assert.equal(config.DefaultCacheBehavior.TargetOriginId, 'app');
    assert.equal(config.DefaultCacheBehavior.AllowedMethods.Quantity, 7);
    assert.equal(config.DefaultCacheBehavior.CachePolicyId, CACHING_DISABLED);
    assert.equal(config.DefaultCacheBehavior.OriginRequestPolicyId, ALL_VIEWER_EXCEPT_HOST);
    assert.equal(config.DefaultCacheBehavior.ViewerProtocolPolicy, 'redirect-to-https');
    assert.deepEqual(
      config.CacheBehaviors.Items.map((b: Record<string, string>) => [
        b.PathPattern,
        b.TargetOriginId,
        b.CachePolicyId,
      ]),
      [
        ['/static/*', 'assets', CACHING_OPTIMIZED],
        ['/media/*', 'assets', CACHING_OPTIMIZED],
      ],
    );
    assert.equal(config.PriceClass, 'PriceClass_100');
    assert.equal(config.HttpVersion, 'http2and3');
    assert.equal(config.IsIPV6Enabled, true);

    // Only this distribution may read the bucket, and the bucket stays private.
    const policy = JSON.parse((await t.boto.call('s3', 'GetBucketPolicy', { Bucket: BUCKET })).Policy);
    assert.deepEqual(policy.Statement[0].Principal, { Service: 'cloudfront.amazonaws.com' });
    assert.equal(policy.Statement[0].Action, 's3:GetObject');
    assert.equal(policy.Statement[0].Resource, `arn:aws:s3:::${BUCKET}/*`);
    assert.deepEqual(policy.Statement[0].Condition, { StringEquals: { 'AWS:SourceArn': d!.ARN } });
    const pab = await t.boto.call('s3', 'GetPublicAccessBlock', { Bucket: BUCKET });
    assert.deepEqual(pab.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    assertNoChanges(await planOf(site()));
    await deploysAfter(1);
  });

  it('invalidates paths after collectstatic and waits until CloudFront has done it', async () => {
    await apply(plain());
    const [d] = await distributions();
    const messages: string[] = [];
    const id = await invalidate(t.aws.clients(), d!.Id, ['/static/*'], {
      timing: { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000 },
      progress: (m) => messages.push(m),
    });
    const { InvalidationList } = await t.boto.call('cloudfront', 'ListInvalidations', {
      DistributionId: d!.Id,
    });
    assert.deepEqual(
      InvalidationList.Items.map((i: { Id: string }) => i.Id),
      [id],
    );
    const { Invalidation } = await t.boto.call('cloudfront', 'GetInvalidation', {
      DistributionId: d!.Id,
      Id: id,
    });
    assert.deepEqual(Invalidation.InvalidationBatch.Paths.Items, ['/static/*']);
    // The emulator finishes at once (and spells it COMPLETED); AWS says InProgress, then Completed.
    assert.match(Invalidation.Status, /^completed$/i);
    await assert.rejects(invalidate(t.aws.clients(), d!.Id, ['static/*']), /start with "\/".*"static\/\*"/);
  });

  it('is found with one tagging call for all distributions and one read each', async () => {
    const two = () => {
      const aws = plain();
      aws.add(Distribution, {
        name: 'media',
        origins: [{ id: 'app', http: { domainName: LB } }],
        defaultBehavior: { originId: 'app' },
      });
      return aws;
    };
    await apply(two());
    const aws = t.aws.clients();
    const { plan } = await t.engine(two(), { aws, registry: [Distribution] }).plan();
    assertNoChanges(plan);
    assert.deepEqual(aws.calls.map((c) => c.operation).sort(), [
      'GetDistribution',
      'GetDistribution',
      'GetResources',
    ]);
  });

  it('changes everything in place, origins and behaviours included, keeping its id', async () => {
    await apply(site());
    const [before] = await distributions();
    const { CertificateArn } = await t.boto.call('acm', 'RequestCertificate', {
      DomainName: 'cdn.example.com',
    });
    const changed: Partial<DistributionArgs> = {
      comment: 'radpress production',
      aliases: ['cdn.example.com'],
      certificateArn: CertificateArn,
      origins: [{ id: 'app', http: { domainName: `new-${LB}`, protocolPolicy: 'match-viewer' } }],
      defaultBehavior: {
        originId: 'app',
        allowedMethods: 'ALL',
        cachePolicy: 'CachingDisabled',
        compress: false,
      },
      behaviors: [{ pathPattern: '/static/*', originId: 'app' }],
      priceClass: 'PriceClass_All',
      httpVersion: 'http2',
      ipv6: false,
      defaultRootObject: 'index.html',
      tags: { env: 'prod' },
    };
    const plan = await planOf(site(changed));
    assert.equal(actions(plan)['distribution.cdn'], 'update');
    await apply(site(changed));
    const [after, ...others] = await distributions();
    assert.equal(others.length, 0);
    assert.equal(after!.Id, before!.Id);
    const { config } = await configOf(after!.Id);
    assert.equal(config.Comment, 'radpress production');
    assert.deepEqual(config.Aliases.Items, ['cdn.example.com']);
    assert.equal(config.ViewerCertificate.ACMCertificateArn, CertificateArn);
    assert.equal(config.ViewerCertificate.SSLSupportMethod, 'sni-only');
    assert.deepEqual(
      config.Origins.Items.map((o: { Id: string; DomainName: string }) => [o.Id, o.DomainName]),
      [['app', `new-${LB}`]],
    );
    assert.equal(config.DefaultCacheBehavior.Compress, false);
    assert.ok(!config.DefaultCacheBehavior.OriginRequestPolicyId);
    assert.deepEqual(
      config.CacheBehaviors.Items.map((b: { PathPattern: string; CachePolicyId: string }) => [
        b.PathPattern,
        b.CachePolicyId,
      ]),
      [['/static/*', CACHING_OPTIMIZED]],
    );
    assert.equal(config.PriceClass, 'PriceClass_All');
    assert.equal(config.HttpVersion, 'http2');
    assert.equal(config.IsIPV6Enabled, false);
    assert.equal(config.DefaultRootObject, 'index.html');
    assert.equal(config.CallerReference.length > 0, true);
    const tags = await tagsOf(after!.ARN);
    assert.equal(tags.env, 'prod');
    assert.equal(tags.team, undefined);
    assert.equal(tags['touchdown:resource'], 'distribution.cdn');
    assertNoChanges(await planOf(site(changed)));
  });

  // Nothing about a distribution forces a new one; only a new name in the stack makes a new distribution.
  it('is replaced by a new distribution when renamed, and the plan says why the old one goes', async () => {
    await apply(plain());
    const [before] = await distributions();
    const plan = await planOf(plain({}, 'edge'));
    assert.equal(actions(plan)['distribution.edge'], 'create');
    const old = plan.resources.find((r) => r.address === 'distribution.cdn')!;
    assert.equal(old.action, 'delete');
    assert.equal(old.reason, 'no longer declared');
    await apply(plain({}, 'edge'));
    const [after, ...others] = await distributions();
    assert.equal(others.length, 0);
    assert.notEqual(after!.Id, before!.Id);
    assert.equal((await tagsOf(after!.ARN))['touchdown:resource'], 'distribution.edge');
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await apply(plain());
    const [d] = await distributions();
    const { config, etag } = await configOf(d!.Id);
    const disabled = await t.boto.call('cloudfront', 'UpdateDistribution', {
      Id: d!.Id,
      IfMatch: etag,
      DistributionConfig: { ...config, Enabled: false },
    });
    await t.boto.call('cloudfront', 'DeleteDistribution', { Id: d!.Id, IfMatch: disabled.ETag });
    assert.equal(actions(await planOf(plain()))['distribution.cdn'], 'create');
    await apply(plain());
    const [again, ...others] = await distributions();
    assert.equal(others.length, 0);
    assert.notEqual(again!.Id, d!.Id);
  });

  it('is put back after settings are changed outside Touchdown', async () => {
    await apply(plain());
    const [d] = await distributions();
    const { config, etag } = await configOf(d!.Id);
    await t.boto.call('cloudfront', 'UpdateDistribution', {
      Id: d!.Id,
      IfMatch: etag,
      DistributionConfig: {
        ...config,
        Comment: 'changed by hand',
        PriceClass: 'PriceClass_All',
        DefaultCacheBehavior: { ...config.DefaultCacheBehavior, CachePolicyId: CACHING_OPTIMIZED },
      },
    });
    const plan = await planOf(plain());
    const changes = plan.resources.find((r) => r.address === 'distribution.cdn')!.changes;
    assert.deepEqual(
      changes.map((c) => c.name),
      ['comment', 'defaultBehavior', 'priceClass'],
    );
    assert.deepEqual(changes[0], { name: 'comment', before: 'changed by hand', after: '' });
    await apply(plain());
    const { config: back } = await configOf(d!.Id);
    assert.equal(back.Comment, '');
    assert.equal(back.PriceClass, 'PriceClass_100');
    assert.equal(back.DefaultCacheBehavior.CachePolicyId, CACHING_DISABLED);
    assertNoChanges(await planOf(plain()));
  });

  it('is disabled, then deleted, by destroy, with its origin access control and bucket', async () => {
    await apply(site());
    const aws = t.aws.clients();
    const { plan, report } = await t.engine(site(), { aws, registry }).destroy();
    assert.deepEqual(report?.failed, []);
    assert.equal(actions(plan)['distribution.cdn'], 'delete');
    assert.equal(actions(plan)['origin-access-control.assets'], 'delete');
    const cloudFront = aws.calls.filter((c) => c.service === 'cloudFront').map((c) => c.operation);
    const order = ['UpdateDistribution', 'DeleteDistribution', 'DeleteOriginAccessControl'];
    assert.deepEqual(
      cloudFront.filter((op) => order.includes(op)),
      order,
      'disabled before it is deleted, and the origin access control after the distribution',
    );
    assert.deepEqual(await distributions(), []);
    const { OriginAccessControlList } = await t.boto.call('cloudfront', 'ListOriginAccessControls');
    assert.equal(OriginAccessControlList.Quantity, 0);
    const { Buckets } = await t.boto.call('s3', 'ListBuckets');
    assert.deepEqual(Buckets, []);
  });

  it('stops waiting for Deployed with what to do, and the next run finds the distribution again', async () => {
    await deploysAfter(1_000_000);
    try {
      const quick = { initialDelayMs: 20, maxDelayMs: 100, defaultTimeoutMs: 30_000, timeoutFactor: 0.0005 };
      const { report } = await t.engine(plain(), { registry, timing: quick }).apply();
      assert.equal(report!.failed.length, 1);
      const [failure] = report!.failed;
      assert.match(
        failure!.error!,
        /^waiting for CloudFront distribution "cdn": gave up waiting for CloudFront distribution "cdn" to deploy after .*; it was still "InProgress"\. CloudFront is still copying the configuration/,
      );
      assert.match(failure!.hint!, /run the same command again to keep waiting/);
    } finally {
      await deploysAfter(1);
    }
    // No second distribution: the one still deploying is found by its tags.
    assertNoChanges(await planOf(plain()));
    assert.equal((await distributions()).length, 1);
  });

  it('rejects a certificate outside us-east-1, aliases without one, and behaviours naming no origin', () => {
    const aws = plain({
      aliases: ['cdn.example.com'],
      behaviors: [
        { pathPattern: '/static/*', originId: 'files' },
        { pathPattern: '/static/*', originId: 'app' },
      ],
    });
    aws.add(Distribution, {
      name: 'eu',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0c1d',
      origins: [{ id: 'app', http: { domainName: LB } }],
      defaultBehavior: { originId: 'app' },
    });
    assert.throws(
      () => aws.check(),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const problems = err.problems.join('\n');
        assert.match(
          problems,
          /distribution\.eu: argument "certificateArn".*only uses ACM certificates in us-east-1/,
        );
        assert.match(problems, /distribution\.cdn: behaviors\[0\]\.originId: no origin has the id "files"/);
        assert.match(
          problems,
          /distribution\.cdn: behaviors: two behaviours have the path pattern "\/static\/\*"/,
        );
        assert.match(
          problems,
          /distribution\.cdn: aliases: CloudFront serves custom domains only with a certificate/,
        );
        return true;
      },
    );
  });
});
