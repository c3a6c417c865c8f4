import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { bucketPolicyForDistribution, Distribution } from '../cloudfront/distribution.js';
import { OriginAccessControl } from '../cloudfront/origin-access-control.js';
import { AwsStack } from '../stack.js';
import { Bucket } from './bucket.js';
import { BucketPolicy } from './bucket-policy.js';

const t = useLocalAws({ declaredTypesOnly: true });
const NAME = 'touchdown-policy-test-static';
const registry = [Bucket, BucketPolicy, OriginAccessControl, Distribution];

/** A private bucket read only by the distribution in front of it: the policy names the distribution, the distribution the bucket. */
function site(withPolicy = true) {
  const aws = new AwsStack('policy-test');
  const bucket = aws.addBucket({ name: NAME });
  const oac = aws.addOriginAccessControl({ name: 'static' });
  const cdn = aws.addDistribution({
    name: 'cdn',
    origins: [
      {
        id: 'static',
        s3: { bucketRegionalDomainName: bucket.regionalDomainName, originAccessControlId: oac.id },
      },
    ],
    defaultBehavior: { originId: 'static' },
  });
  if (withPolicy)
    aws.addBucketPolicy({
      name: 'static',
      bucket: bucket.name,
      policy: bucketPolicyForDistribution(bucket.arn, cdn.arn),
    });
  return aws;
}

async function policy(): Promise<Record<string, unknown> | string> {
  try {
    return JSON.parse((await t.boto.call('s3', 'GetBucketPolicy', { Bucket: NAME })).Policy);
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe('BucketPolicy', () => {
  it('lets a bucket policy name the distribution that reads the bucket, with no reference cycle', async () => {
    const { plan, report } = await t.engine(site(), { registry }).apply();
    assert.deepEqual(report?.failed, []);
    assert.equal(actions(plan)['bucket-policy.static'], 'create');
    const doc = (await policy()) as { Id: string; Statement: { Condition: unknown }[] };
    assert.equal(doc.Id, 'touchdown:policy-test:bucket-policy.static');
    const { DistributionList } = await t.boto.call('cloudfront', 'ListDistributions');
    const arn = DistributionList.Items[0].ARN;
    assert.deepEqual(doc.Statement[0]!.Condition, { StringEquals: { 'AWS:SourceArn': arn } });
    assertNoChanges((await t.engine(site(), { registry }).plan()).plan);
  });

  it('is put back after it is changed outside Touchdown, and removed when no longer declared', async () => {
    await t.engine(site(), { registry }).apply();
    await t.boto.call('s3', 'PutBucketPolicy', {
      Bucket: NAME,
      Policy: JSON.stringify({
        Id: 'touchdown:policy-test:bucket-policy.static',
        Version: '2012-10-17',
        Statement: [],
      }),
    });
    assert.equal(
      actions((await t.engine(site(), { registry }).plan()).plan)['bucket-policy.static'],
      'update',
    );
    await t.engine(site(), { registry }).apply();
    assert.equal(((await policy()) as { Statement: unknown[] }).Statement.length, 1);

    const { plan } = await t.engine(site(false), { registry }).apply();
    assert.equal(actions(plan)['bucket-policy.static'], 'delete');
    assert.equal(await policy(), 'NoSuchBucketPolicy');
  });
});
