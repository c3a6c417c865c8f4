// The walkthrough (examples/walkthrough, seed 000) deployed in us-east-1, ap-northeast-1 and ca-central-1 on one
// local AWS (issue 11): its bucket is named after aws.region, since bucket names are global; each region's
// bucket, VPC and instance profile are read back by boto3, each region re-plans to no changes, and destroying
// one region leaves the other two as they were.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsStack } from '../src/aws/stack.js';
import { Boto } from './support/boto.js';
import { copyOfExample, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';

const REGIONS = ['us-east-1', 'ap-northeast-1', 'ca-central-1'];
const t = useLocalAws();
// One copy per region, as three checkouts would be: Touchdown writes beside the configuration (.touchdown/).
const dirs = await Promise.all(REGIONS.map(() => copyOfExample('walkthrough', ['touchdown.config.ts'])));

/** Runs the CLI in every region at once; fails naming the region and its output when one exits otherwise. */
async function everywhere(args: string[], regions = REGIONS, expected = 0): Promise<void> {
  const results = await Promise.all(
    regions.map((region) =>
      runCli([...args, '--region', region], { cwd: dirs[REGIONS.indexOf(region)]!, aws: t.aws }),
    ),
  );
  for (const [i, r] of results.entries())
    assert.equal(r.code, expected, `${args.join(' ')} in ${regions[i]}:\n${r.stdout}${r.stderr}`);
}

/** What boto3 sees of one region's walkthrough: its bucket's region, its VPC, its instance profile's roles. */
async function seen(region: string) {
  const boto = new Boto(t.aws.endpoint, region);
  try {
    const Bucket = `radpress-${region}`;
    const location = (await boto.errorOf('s3', 'HeadBucket', { Bucket }))
      ? undefined
      : // GetBucketLocation answers no constraint for us-east-1.
        ((await boto.call('s3', 'GetBucketLocation', { Bucket })).LocationConstraint ?? 'us-east-1');
    const vpcs = (
      await boto.call('ec2', 'DescribeVpcs', {
        Filters: [
          { Name: 'tag:touchdown:stack', Values: ['radpress'] },
          { Name: 'cidr-block', Values: ['10.0.0.0/16'] },
        ],
      })
    ).Vpcs as unknown[];
    const InstanceProfileName = `radpress-app-${region}`;
    const profile = (await boto.errorOf('iam', 'GetInstanceProfile', { InstanceProfileName }))
      ? undefined
      : (await boto.call('iam', 'GetInstanceProfile', { InstanceProfileName })).InstanceProfile;
    const roles = ((profile?.Roles ?? []) as { RoleName: string }[]).map((r) => r.RoleName);
    return { bucketIn: location, vpcs: vpcs.length, roles };
  } finally {
    boto.close();
  }
}

const deployed = (region: string) => ({ bucketIn: region, vpcs: 1, roles: [`radpress-app-${region}`] });

describe('the walkthrough in three regions', () => {
  it('deploys in each region at once, its own bucket, VPC and role in each, and destroys one alone', async () => {
    await everywhere(['apply', '--yes']);
    for (const region of REGIONS) assert.deepEqual(await seen(region), deployed(region), region);

    // Why the name carries the region: a bucket name taken in one region is refused in every other.
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
    const boto = new Boto(t.aws.endpoint, 'ca-central-1');
    try {
      const code = await boto.errorOf('s3', 'CreateBucket', {
        Bucket: 'radpress-us-east-1',
        CreateBucketConfiguration: { LocationConstraint: 'ca-central-1' },
      });
      assert.match(code ?? 'created', /^BucketAlready(OwnedByYou|Exists)$/);
    } finally {
      boto.close();
    }

    // plan --detailed-exitcode exits 0 only when nothing would change.
    await everywhere(['plan', '--detailed-exitcode']);

    await everywhere(['destroy', '--yes'], ['ap-northeast-1']);
    assert.deepEqual(await seen('ap-northeast-1'), { bucketIn: undefined, vpcs: 0, roles: [] });
    for (const region of ['us-east-1', 'ca-central-1'])
      assert.deepEqual(await seen(region), deployed(region), `${region} after ap-northeast-1's destroy`);
    await everywhere(['plan', '--detailed-exitcode'], ['us-east-1', 'ca-central-1']);
  });

  it('refuses aws.region on a stack made without one, saying how to give it', () => {
    assert.throws(() => new AwsStack('radpress').region, /stack "radpress": aws\.region is not known here/);
    assert.equal(new AwsStack('radpress', { region: 'ca-central-1' }).region, 'ca-central-1');
  });
});
