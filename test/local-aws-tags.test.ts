// EC2 answers carry each resource's own tags, filter on them, and list them in DescribeTags, with the local
// AWS looking tags up by resource id (scripts/local_aws/tag_lookup.py) where moto scanned every tag.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { useLocalAws } from './support/harness.js';

const t = useLocalAws();

type Tag = { Key: string; Value: string };
const byKey = (tags: Tag[] = []) => Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));

it("describes each subnet with its own tags, filters on them, and leaves an untagged one's tags empty", async () => {
  const { Vpc } = await t.boto.call('ec2', 'CreateVpc', { CidrBlock: '10.8.0.0/16' });
  const tagged = [];
  for (const [i, stack] of ['blue', 'blue', 'green'].entries()) {
    const { Subnet } = await t.boto.call('ec2', 'CreateSubnet', {
      VpcId: Vpc.VpcId,
      CidrBlock: `10.8.${i}.0/24`,
      TagSpecifications: [
        {
          ResourceType: 'subnet',
          Tags: [
            { Key: 'stack', Value: stack },
            { Key: 'Name', Value: `net-${i}` },
          ],
        },
      ],
    });
    tagged.push(Subnet.SubnetId as string);
  }
  const { Subnet: untagged } = await t.boto.call('ec2', 'CreateSubnet', {
    VpcId: Vpc.VpcId,
    CidrBlock: '10.8.9.0/24',
  });

  const blue = await t.boto.call('ec2', 'DescribeSubnets', {
    Filters: [{ Name: 'tag:stack', Values: ['blue'] }],
  });
  assert.deepEqual(
    (blue.Subnets as { SubnetId: string; Tags: Tag[] }[]).map((s) => [s.SubnetId, byKey(s.Tags)]).sort(),
    [
      [tagged[0], { stack: 'blue', Name: 'net-0' }],
      [tagged[1], { stack: 'blue', Name: 'net-1' }],
    ].sort(),
  );
  const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', { SubnetIds: [untagged.SubnetId] });
  assert.deepEqual(byKey(Subnets[0].Tags), {});

  await t.boto.call('ec2', 'CreateTags', { Resources: [tagged[2]], Tags: [{ Key: 'stack', Value: 'blue' }] });
  const moved = await t.boto.call('ec2', 'DescribeSubnets', {
    Filters: [{ Name: 'tag:stack', Values: ['blue'] }],
  });
  assert.equal(moved.Subnets.length, 3, 'a tag changed after creation is what the filter sees');
  const { Tags } = await t.boto.call('ec2', 'DescribeTags', {
    Filters: [{ Name: 'resource-id', Values: [tagged[2]] }],
  });
  assert.deepEqual(
    (Tags as { Key: string; Value: string; ResourceType: string }[])
      .map((tag) => [tag.Key, tag.Value, tag.ResourceType])
      .sort(),
    [
      ['Name', 'net-2', 'subnet'],
      ['stack', 'blue', 'subnet'],
    ],
  );
});
