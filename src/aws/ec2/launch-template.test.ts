import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { LaunchTemplate } from './launch-template.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'launch-template.app';
const USER_DATA = '#!/bin/bash\necho "hello from radpress"\n';

// An instance profile made elsewhere (iam/instance-profile.ts has its own tests); its ARN is all a template holds.
const PROFILE_ARN = 'arn:aws:iam::123456789012:instance-profile/radpress-app';

let imageId: string;
beforeEach(async () => {
  // The emulator starts without AMIs: register one, as a baked application image would be.
  imageId = (await t.boto.call('ec2', 'RegisterImage', { Name: 'radpress', Architecture: 'arm64' })).ImageId;
});

/** Seed 000's EC2 path: the app's instance profile and security group, and the template instances start from. */
function app(o: { instanceType?: string; hopLimit?: number; tags?: Record<string, string> } = {}) {
  const aws = new AwsStack('lt-test');
  const vpc = aws.addVpc({ name: 'radpress', cidrBlock: '10.1.0.0/16' });
  const sg = vpc.addSecurityGroup({ name: 'app' });
  aws.add(LaunchTemplate, {
    name: 'app',
    imageId,
    instanceType: o.instanceType,
    instanceProfileArn: PROFILE_ARN,
    securityGroupIds: [sg.id],
    userData: USER_DATA,
    metadataOptions: o.hopLimit === undefined ? undefined : { httpPutResponseHopLimit: o.hopLimit },
    tags: o.tags ?? { team: 'web' },
  });
  return aws;
}

interface BotoTemplate {
  LaunchTemplateId: string;
  LaunchTemplateName: string;
  DefaultVersionNumber: number;
  LatestVersionNumber: number;
  Tags: { Key: string; Value: string }[];
}

const tagsOf = (list: { Key: string; Value: string }[]) =>
  Object.fromEntries(list.map((x) => [x.Key, x.Value]));

async function stackTemplates(): Promise<BotoTemplate[]> {
  const { LaunchTemplates } = await t.boto.call('ec2', 'DescribeLaunchTemplates', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['lt-test'] }],
  });
  return LaunchTemplates;
}

// boto3 reads one template's versions by id; find itself reads every template's newest version in one
// call (Versions: $Latest, no id), a form the emulator supports, and uses no version Filters (moto ignores them).
async function latestData(id: string) {
  const { LaunchTemplateVersions } = await t.boto.call('ec2', 'DescribeLaunchTemplateVersions', {
    LaunchTemplateId: id,
    Versions: ['$Latest'],
  });
  return LaunchTemplateVersions[0].LaunchTemplateData;
}

describe('LaunchTemplate', () => {
  it('is created with IMDSv2 required, an encrypted root volume, readable user data and its tags', async () => {
    const plan = await t.apply(app());
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'create');
    // The plan shows the script as written, not base64.
    assert.deepEqual(change.changes.find((c) => c.name === 'userData')?.after, USER_DATA);

    const [template, ...others] = await stackTemplates();
    assert.equal(others.length, 0);
    assert.equal(template!.LaunchTemplateName, 'lt-test-app');
    assert.deepEqual(tagsOf(template!.Tags), {
      'touchdown:stack': 'lt-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      Name: 'app',
      team: 'web',
    });
    const data = await latestData(template!.LaunchTemplateId);
    assert.equal(data.MetadataOptions.HttpTokens, 'required');
    assert.equal(data.MetadataOptions.HttpPutResponseHopLimit, 2);
    assert.equal(data.ImageId, imageId);
    assert.equal(data.InstanceType, 't4g.small');
    assert.equal(data.IamInstanceProfile.Arn, PROFILE_ARN);
    assert.equal(Buffer.from(data.UserData, 'base64').toString(), USER_DATA);
    const root = data.BlockDeviceMappings[0];
    const { Images } = await t.boto.call('ec2', 'DescribeImages', { ImageIds: [imageId] });
    assert.equal(root.DeviceName, Images[0].RootDeviceName);
    assert.equal(root.Ebs.Encrypted, true);
    assert.equal(root.Ebs.VolumeType, 'gp3');
    // Instances and volumes it launches carry the stack's and the user's tags.
    for (const type of ['instance', 'volume']) {
      const spec = data.TagSpecifications.find((s: { ResourceType: string }) => s.ResourceType === type);
      assert.deepEqual(tagsOf(spec.Tags), { 'touchdown:stack': 'lt-test', Name: 'app', team: 'web' });
    }
    assertNoChanges(await t.plan(app()));
  });

  it('refuses IMDSv1 in the declaration, naming the argument', () => {
    const aws = new AwsStack('lt-test');
    aws.add(LaunchTemplate, {
      name: 'app',
      imageId: 'ami-12345678',
      metadataOptions: { httpTokens: 'optional' as 'required' },
    });
    assert.throws(
      () => aws.check(),
      /launch-template\.app: argument "metadataOptions\.httpTokens": Touchdown always requires IMDSv2/,
    );
  });

  it('makes every change a new default version of the same template, never a replacement', async () => {
    await t.apply(app());
    const [before] = await stackTemplates();
    const plan = await t.plan(app({ instanceType: 't4g.medium', hopLimit: 3 }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.equal(change.replaceBecause, undefined);
    assert.deepEqual(change.changes.map((c) => c.name).sort(), ['instanceType', 'metadataOptions']);
    await t.apply(app({ instanceType: 't4g.medium', hopLimit: 3 }));
    const [after, ...others] = await stackTemplates();
    assert.equal(others.length, 0);
    assert.equal(after!.LaunchTemplateId, before!.LaunchTemplateId);
    assert.equal(after!.LatestVersionNumber, 2);
    assert.equal(after!.DefaultVersionNumber, 2);
    const data = await latestData(after!.LaunchTemplateId);
    assert.equal(data.InstanceType, 't4g.medium');
    assert.equal(data.MetadataOptions.HttpTokens, 'required');
    assert.equal(data.MetadataOptions.HttpPutResponseHopLimit, 3);
    assertNoChanges(await t.plan(app({ instanceType: 't4g.medium', hopLimit: 3 })));

    // Tags: on the template itself, and in a new version for the instances it launches.
    await t.apply(app({ instanceType: 't4g.medium', hopLimit: 3, tags: { team: 'ops' } }));
    // moto's DescribeLaunchTemplates returns the tags a template was created with; DescribeTags has CreateTags' result.
    const { Tags } = await t.boto.call('ec2', 'DescribeTags', {
      Filters: [{ Name: 'resource-id', Values: [after!.LaunchTemplateId] }],
    });
    assert.equal(tagsOf(Tags).team, 'ops');
    const spec = (await latestData(after!.LaunchTemplateId)).TagSpecifications[0];
    assert.equal(tagsOf(spec.Tags).team, 'ops');
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(app());
    const [template] = await stackTemplates();
    await t.boto.call('ec2', 'DeleteLaunchTemplate', { LaunchTemplateId: template!.LaunchTemplateId });
    assert.equal(actions(await t.plan(app()))[ADDRESS], 'create');
    await t.apply(app());
    const templates = await stackTemplates();
    assert.equal(templates.length, 1);
    assert.notEqual(templates[0]!.LaunchTemplateId, template!.LaunchTemplateId);
  });

  it('puts IMDSv2 back after a version allowing IMDSv1 is made outside Touchdown', async () => {
    await t.apply(app());
    const [template] = await stackTemplates();
    const data = await latestData(template!.LaunchTemplateId);
    await t.boto.call('ec2', 'CreateLaunchTemplateVersion', {
      LaunchTemplateId: template!.LaunchTemplateId,
      LaunchTemplateData: {
        ...data,
        MetadataOptions: { HttpTokens: 'optional', HttpPutResponseHopLimit: 2 },
      },
    });
    const plan = await t.plan(app());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      {
        name: 'metadataOptions',
        before: { httpTokens: 'optional', httpPutResponseHopLimit: 2 },
        after: { httpTokens: 'required', httpPutResponseHopLimit: 2 },
      },
    ]);
    await t.apply(app());
    const [after] = await stackTemplates();
    assert.equal(after!.LatestVersionNumber, 3);
    assert.equal((await latestData(after!.LaunchTemplateId)).MetadataOptions.HttpTokens, 'required');
  });

  it('is deleted by destroy', async () => {
    await t.apply(app());
    const plan = await t.destroy(app());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await stackTemplates()).length, 0);
  });
});
