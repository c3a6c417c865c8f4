// The damaging cases of issue 12 that a check before the first change prevents: each ran, changed AWS,
// then refused (or acted on a stack nobody asked for). Now each is refused before any change: boto3 finds
// nothing of the stack, and the message names the field or flag and the fix, once.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { copyOfExample, projectWith, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:v1';

/** Every resource boto3's tagging API finds with a stack's tag, plus its VPCs (the first thing made). */
async function stackResources(stack: string): Promise<string[]> {
  const tagged = await t.boto.call('resourcegroupstaggingapi', 'GetResources', {
    TagFilters: [{ Key: 'touchdown:stack', Values: [stack] }],
  });
  const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: [stack] }],
  });
  return [
    ...tagged.ResourceTagMappingList.map((r: { ResourceARN: string }) => r.ResourceARN),
    ...Vpcs.map((v: { VpcId: string }) => v.VpcId),
  ];
}

async function xkcdWith(edit: (yaml: string) => string): Promise<string> {
  const cwd = await copyOfExample('xkcd', ['touchdown.yml', 'Dockerfile', 'requirements.txt', 'manage.py']);
  const path = join(cwd, 'touchdown.yml');
  await writeFile(path, edit(await readFile(path, 'utf8')));
  return cwd;
}

/** How often a text appears: each message is printed once. */
const times = (text: string, part: RegExp) => text.split(part).length - 1;

describe('damaging inputs are refused before the first change', () => {
  it('a secret-looking value under environment: refused at its line, before deploy creates anything', {
    timeout: 120_000,
  }, async () => {
    const cwd = await xkcdWith(
      (y) => `${y}\nenvironment:\n  STRIPE_SECRET_KEY: sk_live_4eC39HqLyjWDarjtT1zdp7dc\n`,
    );
    const planned = await runCli(['plan'], { cwd, aws: t.aws });
    assert.equal(planned.code, 1, planned.stdout);
    const deployed = await runCli(['deploy', '--image', IMAGE, '--yes'], { cwd, aws: t.aws });
    assert.equal(deployed.code, 1, deployed.stdout + deployed.stderr);
    assert.match(
      deployed.stderr,
      /touchdown\.yml:\d+:3: environment\.STRIPE_SECRET_KEY: looks like a secret.*touchdown secrets set STRIPE_SECRET_KEY/,
    );
    assert.doesNotMatch(deployed.stderr, /sk_live_/, 'the secret itself is never printed');
    assert.equal(times(deployed.stderr, /looks like a secret/), 1, deployed.stderr);
    assert.deepEqual(await stackResources('xkcd-production'), [], 'nothing was created');
  });

  it('--stage nope: refused with the known stages, instead of planning and deploying a new stack', {
    timeout: 120_000,
  }, async () => {
    const cwd = await xkcdWith((y) => y);
    for (const args of [['plan'], ['deploy', '--image', IMAGE, '--yes']]) {
      const run = await runCli([...args, '--stage', 'nope'], { cwd, aws: t.aws });
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(
        run.stderr,
        /--stage nope: touchdown\.yml has no stage "nope"; its stages are production, staging\. To create it, declare it/,
      );
      assert.doesNotMatch(run.stdout, /to create/, 'no plan of a new stack');
    }
    assert.deepEqual(await stackResources('xkcd-nope'), [], 'nothing was created');
  });

  it('deploy without a container builder and without --image: refused before the infrastructure changes', {
    timeout: 120_000,
  }, async () => {
    const cwd = await xkcdWith((y) => y);
    // A PATH with no docker, podman or buildah on it (node itself is started by its full path).
    const empty = await mkdtemp(join(tmpdir(), 'no-builders-'));
    const run = await runCli(['deploy', '--yes'], { cwd, aws: t.aws, env: { PATH: empty } });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(
      run.stderr,
      /no container builder on this machine \(looked for docker, podman and buildah\)/,
    );
    assert.match(run.stderr, /--image <uri>/);
    assert.deepEqual(await stackResources('xkcd-production'), [], 'nothing was created');
  });

  it('destroy of a stack holding data: refused before asking, said once', { timeout: 120_000 }, async () => {
    const cwd = await projectWith(`
import { defineStack } from 'touchdown';
export default defineStack('keepdata', (aws) => {
  const bucket = aws.addBucket({ name: 'uploads' });
  aws.output('bucket', bucket.name);
});
`);
    const applied = await runCli(['apply', '--yes'], { cwd, aws: t.aws });
    assert.equal(applied.code, 0, applied.stderr);
    const bucket = JSON.parse((await runCli(['outputs', '--json'], { cwd, aws: t.aws })).stdout).bucket;
    await t.boto.call('s3', 'PutObject', { Bucket: bucket, Key: 'photo.jpg', Body: 'jpg' });

    // Not on a terminal and without --yes: the refusal comes first, not a request to confirm.
    for (const args of [['destroy'], ['destroy', '--yes']]) {
      const run = await runCli(args, { cwd, aws: t.aws });
      assert.equal(run.code, 1, run.stdout + run.stderr);
      const said = run.stdout + run.stderr;
      assert.doesNotMatch(said, /standard input is not a terminal/);
      assert.match(said, /S3 bucket "uploads".*1 object/);
      assert.match(said, /--force/);
      assert.equal(times(said, /S3 bucket "uploads"/), 1, said);
    }
    const { Buckets } = await t.boto.call('s3', 'ListBuckets');
    assert.ok(
      Buckets.some((b: { Name: string }) => b.Name === bucket),
      'the bucket and its data stay',
    );
  });
});
