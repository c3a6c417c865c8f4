// One stack name in two regions on one local AWS (issue 11): a plan in eu-west-3 for xkcd, deployed in us-east-1,
// must not plan to delete or replace what the us-east-1 stack holds in its region (buckets, their policies, its
// load balancer's certificate). Checked with boto3 in us-east-1 after the plan.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AwsClients } from '../src/aws/clients.js';
import { resourceTypes } from '../src/aws/registry.js';
import { parseManifest } from '../src/config/load-manifest.js';
import { Engine } from '../src/core/engine.js';
import { awsBlueprint } from '../src/django/blueprint/index.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000 };

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

describe('a stack of the same name in another region', () => {
  it('is planned from nothing there, leaving the first region’s buckets and certificate alone', async () => {
    await t.apply(await xkcdIn('us-east-1'));
    const { Buckets: before } = await t.boto.call('s3', 'ListBuckets', {});
    const { CertificateSummaryList: certificates } = await t.boto.call('acm', 'ListCertificates', {});

    const aws = new AwsClients({ region: 'eu-west-3', endpoint: t.aws.endpoint, maxAttempts: 3 });
    const engine = new Engine({ stack: await xkcdIn('eu-west-3'), registry: resourceTypes, aws, timing });
    const { plan } = await engine.plan();
    const regional = plan.resources.filter((r) => /^(bucket|bucket-policy|certificate)\./.test(r.address));
    assert.deepEqual(
      regional.filter(
        (r) => r.action !== 'create' && !(r.address === 'certificate.cdn' && r.action === 'noop'),
      ),
      [],
      'buckets, their policies and the load balancer certificate are made anew in eu-west-3',
    );
    assert.equal(regional.filter((r) => r.action === 'delete').length, 0);

    const { Buckets: after } = await t.boto.call('s3', 'ListBuckets', {});
    assert.deepEqual(after, before);
    assert.equal(
      (await t.boto.call('acm', 'ListCertificates', {})).CertificateSummaryList.length,
      certificates.length,
    );
  });
});
