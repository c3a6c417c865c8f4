import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { ConfigError } from '../../core/errors.js';
import { interpolate } from '../../core/ref.js';
import type { Stack } from '../../core/stack.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { Bucket } from './bucket.js';

const t = useLocalAws({ declaredTypesOnly: true });

const NAME = 'touchdown-test-assets';
const ARN = `arn:aws:s3:::${NAME}`;
// Destroy looks only for the registered types; the bucket may not be registered yet.
const registry = [...resourceTypes.filter((r) => r !== Bucket), Bucket];

type BucketArgs = ArgsInput<typeof Bucket.fields>;

function storage(overrides: Partial<BucketArgs> = {}, stackName = 'bucket-test') {
  const aws = new AwsStack(stackName);
  // policy: null manages "no policy" (left out, another resource may manage it).
  aws.add(Bucket, { name: NAME, policy: null, ...overrides });
  return aws;
}

const tlsOnly = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'TlsOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [ARN, `${ARN}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ],
};

const everything: Partial<BucketArgs> = {
  versioning: true,
  cors: [{ allowedMethods: ['GET', 'HEAD'], allowedOrigins: ['https://example.com'], maxAgeSeconds: 300 }],
  lifecycleRules: [{ id: 'tidy', prefix: 'tmp/', expirationDays: 7, abortIncompleteMultipartUploadDays: 1 }],
  policy: tlsOnly,
  tags: { team: 'web' },
};

function destroy(stack: Stack, force = false) {
  return t.engine(stack, { registry }).destroy({ force });
}

async function bucketTags(name = NAME): Promise<Record<string, string>> {
  const { TagSet } = await t.boto.call('s3', 'GetBucketTagging', { Bucket: name });
  return Object.fromEntries((TagSet as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

async function versioningStatus(): Promise<string | undefined> {
  return (await t.boto.call('s3', 'GetBucketVersioning', { Bucket: NAME })).Status;
}

async function bucketNames(): Promise<string[]> {
  const { Buckets } = await t.boto.call('s3', 'ListBuckets');
  return (Buckets as { Name: string }[]).map((b) => b.Name).sort();
}

describe('S3 bucket', () => {
  it('is created with its tags and every setting, and a second plan shows no changes', async () => {
    const plan = await t.apply(storage(everything));
    assert.equal(actions(plan)[`bucket.${NAME}`], 'create');
    assert.deepEqual(await bucketTags(), {
      'touchdown:stack': 'bucket-test',
      'touchdown:resource': `bucket.${NAME}`,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assert.equal(await versioningStatus(), 'Enabled');
    const sse = await t.boto.call('s3', 'GetBucketEncryption', { Bucket: NAME });
    assert.equal(
      sse.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm,
      'AES256',
    );
    const pab = await t.boto.call('s3', 'GetPublicAccessBlock', { Bucket: NAME });
    assert.deepEqual(pab.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    const ownership = await t.boto.call('s3', 'GetBucketOwnershipControls', { Bucket: NAME });
    assert.equal(ownership.OwnershipControls.Rules[0].ObjectOwnership, 'BucketOwnerEnforced');
    const cors = await t.boto.call('s3', 'GetBucketCors', { Bucket: NAME });
    assert.deepEqual(cors.CORSRules[0].AllowedOrigins, ['https://example.com']);
    const lifecycle = await t.boto.call('s3', 'GetBucketLifecycleConfiguration', { Bucket: NAME });
    assert.equal(lifecycle.Rules[0].ID, 'tidy');
    assert.equal(lifecycle.Rules[0].Expiration.Days, 7);
    const policy = await t.boto.call('s3', 'GetBucketPolicy', { Bucket: NAME });
    assert.equal(JSON.parse(policy.Policy).Statement[0].Sid, 'TlsOnly');
    assertNoChanges(await t.plan(storage(everything)));
  });

  it('is found with one tagging call for all buckets and one read per setting, without HeadBucket', async () => {
    const three = () => {
      const aws = new AwsStack('bucket-test');
      for (const n of ['a', 'b', 'c']) aws.add(Bucket, { name: `${NAME}-${n}` });
      return aws;
    };
    await t.apply(three());
    const aws = t.aws.clients();
    // Only the bucket type, so that the counts are the bucket's own (other types use the tagging API too).
    const { plan } = await t.engine(three(), { aws, registry: [Bucket] }).plan();
    assertNoChanges(plan);
    const s3 = aws.calls.filter((c) => c.service === 's3').map((c) => c.operation);
    assert.equal(aws.calls.filter((c) => c.operation === 'GetResources').length, 1);
    assert.equal(s3.filter((op) => op === 'HeadBucket').length, 0);
    // One ListBuckets for the buckets in this region (another region's are another stack's), then the settings.
    assert.equal(s3.filter((op) => op === 'ListBuckets').length, 1);
    assert.equal(s3.length, 1 + 3 * 7, 'seven Get calls per bucket, the settings S3 reads one by one');
  });

  it('updates every setting in place, and removing the policy deletes it', async () => {
    await t.apply(storage());
    const { KeyMetadata } = await t.boto.call('kms', 'CreateKey', {});
    const site = new AwsStack('bucket-test');
    const other = site.add(Bucket, { name: `${NAME}-site` });
    const changed = {
      ...everything,
      encryption: 'aws:kms' as const,
      kmsKeyId: KeyMetadata.KeyId as string,
      // A reference to another resource's output inside a nested argument.
      cors: [
        { allowedMethods: ['GET' as const], allowedOrigins: [interpolate`https://${other.domainName}`] },
      ],
      lifecycleRules: [
        { id: 'archive', enabled: false, transitions: [{ days: 30, storageClass: 'STANDARD_IA' as const }] },
      ],
      tags: { env: 'prod' },
    };
    site.add(Bucket, { name: NAME, ...changed });
    const plan = await t.plan(site);
    assert.equal(actions(plan)[`bucket.${NAME}`], 'update');
    await t.apply(site);
    assert.equal(await versioningStatus(), 'Enabled');
    const sse = await t.boto.call('s3', 'GetBucketEncryption', { Bucket: NAME });
    const rule = sse.ServerSideEncryptionConfiguration.Rules[0];
    assert.equal(rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm, 'aws:kms');
    assert.equal(rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID, KeyMetadata.KeyId);
    const cors = await t.boto.call('s3', 'GetBucketCors', { Bucket: NAME });
    assert.deepEqual(cors.CORSRules[0].AllowedOrigins, [`https://${NAME}-site.s3.amazonaws.com`]);
    assert.equal((await bucketTags()).env, 'prod');
    assert.equal((await bucketTags()).team, undefined);
    assert.ok(await t.boto.call('s3', 'GetBucketPolicy', { Bucket: NAME }));
    const lifecycle = await t.boto.call('s3', 'GetBucketLifecycleConfiguration', { Bucket: NAME });
    assert.deepEqual(
      lifecycle.Rules.map((r: { ID: string; Status: string }) => [r.ID, r.Status]),
      [['archive', 'Disabled']],
    );
    assertNoChanges(await t.plan(site));

    // Back to the defaults: versioning can only be suspended; policy, CORS and lifecycle are removed.
    await t.apply(storage());
    assert.equal(await versioningStatus(), 'Suspended');
    assert.equal(await t.boto.errorOf('s3', 'GetBucketPolicy', { Bucket: NAME }), 'NoSuchBucketPolicy');
    assert.equal(await t.boto.errorOf('s3', 'GetBucketCors', { Bucket: NAME }), 'NoSuchCORSConfiguration');
    assert.equal(
      await t.boto.errorOf('s3', 'GetBucketLifecycleConfiguration', { Bucket: NAME }),
      'NoSuchLifecycleConfiguration',
    );
    assertNoChanges(await t.plan(storage()));
  });

  // No argument but the name forces a new bucket, and the name is also the address: a rename is a create and a delete.
  it('is replaced by a new bucket when renamed, and the plan says why the old one goes', async () => {
    await t.apply(storage());
    const renamed = storage({ name: `${NAME}-v2` });
    const plan = await t.plan(renamed);
    assert.equal(actions(plan)[`bucket.${NAME}-v2`], 'create');
    const old = plan.resources.find((r) => r.address === `bucket.${NAME}`)!;
    assert.equal(old.action, 'delete');
    assert.equal(old.reason, 'no longer declared');
    await t.apply(renamed);
    assert.deepEqual(await bucketNames(), [`${NAME}-v2`]);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(storage());
    await t.boto.call('s3', 'DeleteBucket', { Bucket: NAME });
    assert.equal(actions(await t.plan(storage()))[`bucket.${NAME}`], 'create');
    await t.apply(storage());
    assert.deepEqual(await bucketNames(), [NAME]);
    assert.equal((await bucketTags())['touchdown:stack'], 'bucket-test');
  });

  it('is put back after settings are changed outside Touchdown', async () => {
    await t.apply(storage());
    await t.boto.call('s3', 'DeletePublicAccessBlock', { Bucket: NAME });
    await t.boto.call('s3', 'PutBucketVersioning', {
      Bucket: NAME,
      VersioningConfiguration: { Status: 'Enabled' },
    });
    await t.boto.call('s3', 'PutBucketPolicy', { Bucket: NAME, Policy: JSON.stringify(tlsOnly) });
    const plan = await t.plan(storage());
    const changes = plan.resources[0]!.changes;
    assert.deepEqual(
      changes.map((c) => [c.name, c.before === undefined ? 'undefined' : typeof c.before, c.after]),
      [
        ['versioning', 'boolean', false],
        ['blockPublicAccess', 'boolean', true],
        ['policy', 'object', null],
      ],
    );
    await t.apply(storage());
    assert.equal(await versioningStatus(), 'Suspended');
    const pab = await t.boto.call('s3', 'GetPublicAccessBlock', { Bucket: NAME });
    assert.equal(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets, true);
    assert.equal(await t.boto.errorOf('s3', 'GetBucketPolicy', { Bucket: NAME }), 'NoSuchBucketPolicy');
    assertNoChanges(await t.plan(storage()));
  });

  it('adopts a declared bucket left untagged by an interrupted create, and tags it', async () => {
    await t.boto.call('s3', 'CreateBucket', { Bucket: NAME });
    const plan = await t.plan(storage());
    assert.equal(actions(plan)[`bucket.${NAME}`], 'update');
    assert.ok(plan.resources[0]!.changes.some((c) => c.name === 'tags'));
    await t.apply(storage());
    assert.equal((await bucketTags())['touchdown:resource'], `bucket.${NAME}`);
    assertNoChanges(await t.plan(storage()));
  });

  it("refuses to take over another stack's bucket of the same name", async () => {
    await t.apply(storage({}, 'other-stack'));
    await assert.rejects(t.plan(storage()), /belongs to the stack "other-stack"/);
    assert.equal((await bucketTags())['touchdown:stack'], 'other-stack');
  });

  it('is deleted by destroy', async () => {
    await t.apply(storage(everything));
    const { plan, report } = await destroy(storage(everything));
    assert.equal(actions(plan)[`bucket.${NAME}`], 'delete');
    assert.deepEqual(report?.failed, []);
    assert.equal(await t.boto.errorOf('s3', 'HeadBucket', { Bucket: NAME }), '404');
  });

  it('is not destroyed while it holds objects unless forced, and then goes with every version', async () => {
    await t.apply(storage({ versioning: true }));
    await t.boto.call('s3', 'PutObject', { Bucket: NAME, Key: 'a.txt', Body: 'one' });
    await t.boto.call('s3', 'PutObject', { Bucket: NAME, Key: 'a.txt', Body: 'two' });
    await t.boto.call('s3', 'PutObject', { Bucket: NAME, Key: 'b.txt', Body: 'three' });
    await t.boto.call('s3', 'DeleteObject', { Bucket: NAME, Key: 'b.txt' });

    const refused = await destroy(storage());
    const [failed, ...others] = refused.report!.failed;
    assert.equal(others.length, 0);
    assert.equal(failed!.address, `bucket.${NAME}`);
    assert.match(failed!.error!, new RegExp(`"${NAME}".*1 object, 2 older versions, 1 delete marker`));
    assert.match(failed!.hint!, /--force/);
    assert.equal(await t.boto.errorOf('s3', 'HeadBucket', { Bucket: NAME }), undefined);
    const kept = await t.boto.call('s3', 'GetObject', { Bucket: NAME, Key: 'a.txt' });
    assert.equal(kept.Body, 'two');

    const forced = await destroy(storage(), true);
    assert.deepEqual(forced.report!.failed, []);
    assert.equal(await t.boto.errorOf('s3', 'HeadBucket', { Bucket: NAME }), '404');
    assert.equal(await t.boto.errorOf('s3', 'ListObjectVersions', { Bucket: NAME }), 'NoSuchBucket');
  });

  for (const name of ['My_Bucket', 'ab', '192.168.1.1']) {
    it(`rejects the bucket name "${name}" before any AWS call`, async () => {
      const aws = new AwsStack('bucket-test');
      aws.add(Bucket, { name });
      assert.throws(
        () => aws.check(),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.problems.length, 1);
          assert.match(
            err.problems[0]!,
            new RegExp(`^bucket\\.${name.replaceAll('.', '\\.')}: argument "name": `),
          );
          assert.match(err.problems[0]!, /3 to 63 lower-case letters, digits, dots and hyphens/);
          return true;
        },
      );
      const clients = t.aws.clients();
      await assert.rejects(async () => t.engine(aws, { aws: clients }).plan(), ConfigError);
      assert.equal(clients.calls.length, 0);
    });
  }

  it('rejects settings that do not go together, naming each', () => {
    const aws = new AwsStack('bucket-test');
    aws.add(Bucket, {
      name: NAME,
      kmsKeyId: 'alias/data',
      lifecycleRules: [{ id: 'noop', prefix: 'tmp/' }],
    });
    assert.throws(
      () => aws.check(),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(
          err.problems.map((p) => p.slice(0, p.indexOf(':', `bucket.${NAME}: `.length))),
          [`bucket.${NAME}: argument "lifecycleRules.0"`],
        );
        return true;
      },
    );
    const kms = new AwsStack('bucket-test');
    kms.add(Bucket, { name: NAME, kmsKeyId: 'alias/data' });
    assert.throws(() => kms.check(), /kmsKeyId: a KMS key is only used with encryption "aws:kms"/);
  });
});
