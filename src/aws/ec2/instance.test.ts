import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { Instance } from './instance.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'instance.nat';
const IMAGE = 'resolve:ssm:/instance-test/image';
const USER_DATA = '#!/bin/bash\nsysctl -w net.ipv4.ip_forward=1\n';

let imageId: string;
beforeEach(async () => {
  // The emulator starts without AMIs: register one, and name it in a parameter as AWS's public ones do.
  imageId = (await t.boto.call('ec2', 'RegisterImage', { Name: 'al2023', Architecture: 'arm64' })).ImageId;
  await t.boto.call('ssm', 'PutParameter', { Name: '/instance-test/image', Value: imageId, Type: 'String' });
});

interface Options {
  instanceType?: string;
  sourceDestCheck?: boolean;
  hopLimit?: number;
  secondGroup?: boolean;
  tags?: Record<string, string>;
}

/** A NAT instance in a public subnet, as network.nat: instance declares it. */
function nat(o: Options = {}) {
  const aws = new AwsStack('instance-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.4.0.0/16' });
  const subnet = vpc.addSubnet({
    name: 'public-a',
    cidrBlock: '10.4.1.0/24',
    availabilityZone: 'us-east-1a',
  });
  const first = vpc.addSecurityGroup({ name: 'nat' });
  const second = vpc.addSecurityGroup({ name: 'nat-2' });
  aws.add(Instance, {
    name: 'nat',
    imageId: IMAGE,
    instanceType: o.instanceType ?? 't4g.nano',
    subnetId: subnet.id,
    securityGroupIds: o.secondGroup ? [second.id] : [first.id],
    sourceDestCheck: o.sourceDestCheck ?? false,
    userData: USER_DATA,
    metadataOptions: o.hopLimit === undefined ? undefined : { httpPutResponseHopLimit: o.hopLimit },
    rootVolume: { sizeGiB: 8 },
    tags: o.tags ?? { team: 'web' },
  });
  return aws;
}

interface BotoInstance {
  InstanceId: string;
  InstanceType: string;
  SubnetId: string;
  SourceDestCheck: boolean;
  SecurityGroups: { GroupId: string }[];
  MetadataOptions: { HttpTokens: string; HttpPutResponseHopLimit: number };
  BlockDeviceMappings: { Ebs: { VolumeId: string } }[];
  NetworkInterfaces: { NetworkInterfaceId: string }[];
  Tags: { Key: string; Value: string }[];
}

const tagsOf = (list: { Key: string; Value: string }[]) =>
  Object.fromEntries(list.map((x) => [x.Key, x.Value]));

async function live(): Promise<BotoInstance[]> {
  const { Reservations } = await t.boto.call('ec2', 'DescribeInstances', {
    Filters: [
      { Name: 'tag:touchdown:stack', Values: ['instance-test'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ],
  });
  return Reservations.flatMap((r: { Instances: BotoInstance[] }) => r.Instances);
}

async function groupId(name: string): Promise<string> {
  const { SecurityGroups } = await t.boto.call('ec2', 'DescribeSecurityGroups', {
    Filters: [{ Name: 'tag:touchdown:resource', Values: [`security-group.main/${name}`] }],
  });
  return SecurityGroups[0].GroupId;
}

describe('Instance', () => {
  it('starts in its subnet with IMDSv2, an encrypted root volume, its user data and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(nat());
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [instance, ...others] = await live();
    assert.equal(others.length, 0);
    const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', {
      Filters: [{ Name: 'tag:touchdown:resource', Values: ['subnet.main/public-a'] }],
    });
    assert.equal(instance!.SubnetId, Subnets[0].SubnetId);
    assert.equal(instance!.InstanceType, 't4g.nano');
    assert.equal(instance!.SourceDestCheck, false);
    assert.deepEqual(
      instance!.SecurityGroups.map((g) => g.GroupId),
      [await groupId('nat')],
    );
    assert.equal(instance!.MetadataOptions.HttpTokens, 'required');
    assert.equal(instance!.MetadataOptions.HttpPutResponseHopLimit, 1);
    assert.deepEqual(tagsOf(instance!.Tags), {
      'touchdown:stack': 'instance-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      'touchdown:image': IMAGE,
      Name: 'nat',
      team: 'web',
    });
    const { UserData } = await t.boto.call('ec2', 'DescribeInstanceAttribute', {
      InstanceId: instance!.InstanceId,
      Attribute: 'userData',
    });
    assert.equal(Buffer.from(UserData.Value, 'base64').toString(), USER_DATA);
    const { Volumes } = await t.boto.call('ec2', 'DescribeVolumes', {
      VolumeIds: [instance!.BlockDeviceMappings[0]!.Ebs.VolumeId],
    });
    assert.equal(Volumes[0].Encrypted, true);
    assert.equal(Volumes[0].Size, 8);
    assert.equal(Volumes[0].VolumeType, 'gp3');
    // The root device is named by the image the parameter names.
    const { Images } = await t.boto.call('ec2', 'DescribeImages', { ImageIds: [imageId] });
    assert.equal(Volumes[0].Attachments[0].Device, Images[0].RootDeviceName);
    assertNoChanges(await t.plan(nat()));
  });

  it('gives the network interface a route names, and leaves an auto scaling group’s instances to the group', async () => {
    const { plan } = await t.engine(nat()).apply();
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [instance] = await live();
    const { world } = await t.engine(nat()).plan();
    assert.equal(
      world.outputs.get(ADDRESS)?.networkInterfaceId,
      instance!.NetworkInterfaces[0]!.NetworkInterfaceId,
    );

    // A group's instances carry the stack's tags (and the group's address): not instances of this type.
    const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', {
      Filters: [{ Name: 'tag:touchdown:resource', Values: ['subnet.main/public-a'] }],
    });
    await t.boto.call('ec2', 'RunInstances', {
      ImageId: imageId,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: Subnets[0].SubnetId,
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'touchdown:stack', Value: 'instance-test' },
            { Key: 'touchdown:resource', Value: 'auto-scaling-group.instances' },
          ],
        },
      ],
    });
    assertNoChanges(await t.plan(nat()));
  });

  it('changes security groups, source/dest check, the hop limit and tags in place', async () => {
    await t.apply(nat());
    const [before] = await live();
    const changed = { secondGroup: true, sourceDestCheck: true, hopLimit: 2, tags: { team: 'ops' } };
    const change = (await t.plan(nat(changed))).resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes.map((c) => c.name).sort(), [
      'metadataOptions',
      'securityGroupIds',
      'sourceDestCheck',
      'tags',
    ]);
    await t.apply(nat(changed));
    const [after, ...others] = await live();
    assert.equal(others.length, 0);
    assert.equal(after!.InstanceId, before!.InstanceId);
    assert.equal(after!.SourceDestCheck, true);
    assert.deepEqual(
      after!.SecurityGroups.map((g) => g.GroupId),
      [await groupId('nat-2')],
    );
    assert.equal(after!.MetadataOptions.HttpPutResponseHopLimit, 2);
    assert.equal(tagsOf(after!.Tags).team, 'ops');
    assertNoChanges(await t.plan(nat(changed)));
  });

  it('is replaced by a new instance when its type changes, and the plan says why', async () => {
    await t.apply(nat());
    const [before] = await live();
    const change = (await t.plan(nat({ instanceType: 't4g.micro' }))).resources.find(
      (r) => r.address === ADDRESS,
    )!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['instanceType']);
    await t.apply(nat({ instanceType: 't4g.micro' }));
    const [after, ...others] = await live();
    assert.equal(others.length, 0);
    assert.notEqual(after!.InstanceId, before!.InstanceId);
    assert.equal(after!.InstanceType, 't4g.micro');
  });

  it('is started again after being terminated outside Touchdown', async () => {
    await t.apply(nat());
    const [instance] = await live();
    await t.boto.call('ec2', 'TerminateInstances', { InstanceIds: [instance!.InstanceId] });
    assert.equal(actions(await t.plan(nat()))[ADDRESS], 'create');
    await t.apply(nat());
    const instances = await live();
    assert.equal(instances.length, 1);
    assert.notEqual(instances[0]!.InstanceId, instance!.InstanceId);
  });

  it('says which parameter is missing when its image cannot be resolved', async () => {
    await t.boto.call('ssm', 'DeleteParameter', { Name: '/instance-test/image' });
    const { report } = await t.engine(nat()).apply();
    const failed = report!.failed.find((f) => f.address === ADDRESS);
    assert.match(failed?.error ?? '', /the parameter \/instance-test\/image \(imageId\) does not exist/);
  });

  it('is terminated by destroy', async () => {
    await t.apply(nat());
    const plan = await t.destroy(nat());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await live()).length, 0);
  });
});
