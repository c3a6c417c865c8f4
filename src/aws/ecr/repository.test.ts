import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { AwsStack } from '../stack.js';
import { EcrRepository, repositoryName } from './repository.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'ecr-test';
const NAME = 'ecr-test-web';

type Args = Partial<ArgsInput<typeof EcrRepository.fields>>;

function registry(args: Args = {}) {
  const aws = new AwsStack(STACK);
  aws.add(EcrRepository, { name: 'web', ...args });
  return aws;
}

interface BotoRepo {
  repositoryName: string;
  repositoryArn: string;
  repositoryUri: string;
  imageTagMutability: string;
  imageScanningConfiguration: { scanOnPush: boolean };
  encryptionConfiguration: { encryptionType: string };
}

async function repos(): Promise<BotoRepo[]> {
  const { repositories } = await t.boto.call('ecr', 'DescribeRepositories');
  return repositories;
}

async function tagsOf(arn: string): Promise<Record<string, string>> {
  const { tags } = await t.boto.call('ecr', 'ListTagsForResource', { resourceArn: arn });
  return Object.fromEntries((tags as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]));
}

async function keptImages(): Promise<number | undefined> {
  const error = await t.boto.errorOf('ecr', 'GetLifecyclePolicy', { repositoryName: NAME });
  if (error) return undefined;
  const { lifecyclePolicyText } = await t.boto.call('ecr', 'GetLifecyclePolicy', { repositoryName: NAME });
  return JSON.parse(lifecyclePolicyText).rules[0].selection.countNumber;
}

async function pushImage(tag: string) {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {
      mediaType: 'application/vnd.docker.container.image.v1+json',
      size: 2,
      digest: `sha256:${'a'.repeat(64)}`,
    },
    layers: [
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: 3,
        digest: `sha256:${tag.padEnd(64, '0')}`,
      },
    ],
  });
  // moto has no registry to `docker push` to; the image-manifest API is what a push ends with.
  await t.boto.call('ecr', 'PutImage', { repositoryName: NAME, imageManifest: manifest, imageTag: tag });
}

describe('ECR repository', () => {
  it('is created with its settings and tags in the create call, and a second plan shows no changes', async () => {
    const plan = await t.apply(registry({ tags: { team: 'web' } }));
    assert.equal(actions(plan)['ecr-repository.web'], 'create');
    const [repo, ...others] = await repos();
    assert.equal(others.length, 0);
    assert.equal(repo!.repositoryName, NAME);
    assert.equal(repo!.repositoryUri, `123456789012.dkr.ecr.us-east-1.amazonaws.com/${NAME}`);
    assert.equal(repo!.imageTagMutability, 'IMMUTABLE');
    assert.equal(repo!.imageScanningConfiguration.scanOnPush, true);
    assert.equal(repo!.encryptionConfiguration.encryptionType, 'AES256');
    assert.deepEqual(await tagsOf(repo!.repositoryArn), {
      'touchdown:stack': STACK,
      'touchdown:resource': 'ecr-repository.web',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assert.equal(await keptImages(), 20);
    assertNoChanges(await t.plan(registry({ tags: { team: 'web' } })));
  });

  it('updates scanning, tag mutability, the lifecycle policy and tags in place', async () => {
    await t.apply(registry());
    const change = {
      scanOnPush: false,
      imageTagMutability: 'MUTABLE',
      keepLastImages: 5,
      tags: { env: 'prod' },
    } as const;
    const plan = await t.plan(registry(change));
    assert.equal(actions(plan)['ecr-repository.web'], 'update');
    assert.deepEqual(plan.resources[0]!.changes.map((c) => c.name).sort(), [
      'imageTagMutability',
      'keepLastImages',
      'scanOnPush',
      'tags',
    ]);
    await t.apply(registry(change));
    const [repo] = await repos();
    assert.equal(repo!.imageScanningConfiguration.scanOnPush, false);
    assert.equal(repo!.imageTagMutability, 'MUTABLE');
    assert.equal(await keptImages(), 5);
    assert.equal((await tagsOf(repo!.repositoryArn)).env, 'prod');
    await t.apply(registry({ ...change, keepLastImages: null }));
    assert.equal(await keptImages(), undefined, 'null removes the lifecycle policy');
    assertNoChanges(await t.plan(registry({ ...change, keepLastImages: null })));
  });

  it('is replaced when its encryption changes, and the plan says why', async () => {
    await t.apply(registry());
    const plan = await t.plan(registry({ encryption: 'KMS' }));
    const change = plan.resources.find((r) => r.address === 'ecr-repository.web')!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['encryption']);
    await t.apply(registry({ encryption: 'KMS' }));
    const all = await repos();
    assert.equal(all.length, 1);
    assert.equal(all[0]!.encryptionConfiguration.encryptionType, 'KMS');
    assertNoChanges(await t.plan(registry({ encryption: 'KMS' })));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(registry());
    await t.boto.call('ecr', 'DeleteRepository', { repositoryName: NAME });
    assert.equal(actions(await t.plan(registry()))['ecr-repository.web'], 'create');
    await t.apply(registry());
    assert.equal((await repos()).length, 1);
    assert.equal(await keptImages(), 20);
  });

  it('is put back after settings are changed outside Touchdown', async () => {
    await t.apply(registry());
    await t.boto.call('ecr', 'PutImageScanningConfiguration', {
      repositoryName: NAME,
      imageScanningConfiguration: { scanOnPush: false },
    });
    await t.boto.call('ecr', 'DeleteLifecyclePolicy', { repositoryName: NAME });
    const plan = await t.plan(registry());
    assert.deepEqual(
      plan.resources[0]!.changes.sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: 'keepLastImages', before: null, after: 20 },
        { name: 'scanOnPush', before: false, after: true },
      ],
    );
    await t.apply(registry());
    assert.equal((await repos())[0]!.imageScanningConfiguration.scanOnPush, true);
    assert.equal(await keptImages(), 20);
  });

  it('refuses to destroy a repository holding images without --force, and empties it with --force', async () => {
    await t.apply(registry());
    await pushImage('v1');
    await pushImage('v2');
    const { report } = await t.engine(registry()).destroy();
    assert.equal(report!.failed.length, 1);
    assert.match(report!.failed[0]!.error!, /ECR repository "web": refused: it holds 2 images/);
    assert.equal((await repos()).length, 1, 'the repository and its images are kept');

    const plan = await t.destroy(registry(), { force: true });
    assert.equal(actions(plan)['ecr-repository.web'], 'delete');
    assert.deepEqual(await repos(), []);
  });

  it('is deleted by destroy', async () => {
    await t.apply(registry());
    await t.destroy(registry());
    assert.deepEqual(await repos(), []);
  });

  it('names repositories in what ECR allows', () => {
    assert.equal(repositoryName('xkcd', 'Web/API'), 'xkcd-web/api');
    assert.equal(repositoryName('xkcd', 'web//api.'), 'xkcd-web/api');
    assert.ok(repositoryName('xkcd', 'x'.repeat(300)).length <= 256);
  });
});
