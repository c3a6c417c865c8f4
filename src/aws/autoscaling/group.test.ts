import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { Stack } from '../../core/stack.js';
import { LaunchTemplate } from '../ec2/launch-template.js';
import { AwsStack } from '../stack.js';
import { AutoScalingGroup } from './group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'auto-scaling-group.web';
const NAME = 'asg-test-web';

// The network and load balancer target group come from elsewhere (their own types and tests).
let network: { subnetIds: string[]; targetGroupArn: string; imageId: string };
beforeEach(async () => {
  const { Vpc } = await t.boto.call('ec2', 'CreateVpc', { CidrBlock: '10.3.0.0/16' });
  const subnet = async (CidrBlock: string, AvailabilityZone: string) =>
    (await t.boto.call('ec2', 'CreateSubnet', { VpcId: Vpc.VpcId, CidrBlock, AvailabilityZone })).Subnet
      .SubnetId;
  const { TargetGroups } = await t.boto.call('elbv2', 'CreateTargetGroup', {
    Name: 'web',
    Protocol: 'HTTP',
    Port: 8000,
    VpcId: Vpc.VpcId,
    TargetType: 'instance',
  });
  const { ImageId } = await t.boto.call('ec2', 'RegisterImage', { Name: 'radpress', Architecture: 'arm64' });
  network = {
    subnetIds: [await subnet('10.3.1.0/24', 'us-east-1a'), await subnet('10.3.2.0/24', 'us-east-1b')],
    targetGroupArn: TargetGroups[0].TargetGroupArn,
    imageId: ImageId,
  };
});

interface Sizes {
  minSize?: number;
  maxSize?: number;
  desiredCapacity?: number;
}

/** Seed 000's "deploying an instance": a launch template and the group running it behind the load balancer. */
function app(o: Sizes & { instanceType?: string; tags?: Record<string, string> } = {}) {
  const aws = new AwsStack('asg-test');
  const template = aws.add(LaunchTemplate, {
    name: 'app',
    imageId: network.imageId,
    instanceType: o.instanceType,
    // AWS sizes a root volume from its image; moto launches from a template's volume only with a size.
    rootVolume: { sizeGiB: 20 },
  });
  aws.add(AutoScalingGroup, {
    name: 'web',
    launchTemplateId: template.id,
    launchTemplateVersion: template.latestVersion,
    minSize: o.minSize ?? 1,
    maxSize: o.maxSize ?? 3,
    desiredCapacity: o.desiredCapacity ?? 2,
    subnetIds: network.subnetIds,
    targetGroupArns: [network.targetGroupArn],
    tags: o.tags ?? { team: 'web' },
  });
  return aws;
}

interface BotoGroup {
  AutoScalingGroupName: string;
  AutoScalingGroupARN: string;
  LaunchTemplate: { LaunchTemplateId: string; Version: string };
  MinSize: number;
  MaxSize: number;
  DesiredCapacity: number;
  HealthCheckType: string;
  HealthCheckGracePeriod: number;
  TargetGroupARNs: string[];
  VPCZoneIdentifier: string;
  Instances: { InstanceId: string; LifecycleState: string; HealthStatus: string }[];
  Tags: { Key: string; Value: string; PropagateAtLaunch: boolean }[];
}

async function stackGroups(): Promise<BotoGroup[]> {
  const { AutoScalingGroups } = await t.boto.call('autoscaling', 'DescribeAutoScalingGroups', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['asg-test'] }],
  });
  return AutoScalingGroups;
}

const tagsOf = (list: { Key: string; Value: string }[]) =>
  Object.fromEntries(list.map((x) => [x.Key, x.Value]));
const inService = (g: BotoGroup) => g.Instances.filter((i) => i.LifecycleState === 'InService').length;

/** Applies without failing the test on a failed operation: some cases expect one. */
async function applyReport(stack: Stack) {
  const { report } = await t.engine(stack).apply();
  return report;
}

describe('AutoScalingGroup', () => {
  it('is created with its tags, ELB health checks behind a target group, and waits for its instances', async () => {
    const plan = await t.apply(app());
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [group, ...others] = await stackGroups();
    assert.equal(others.length, 0);
    assert.equal(group!.AutoScalingGroupName, NAME);
    const { LaunchTemplates } = await t.boto.call('ec2', 'DescribeLaunchTemplates', {
      Filters: [{ Name: 'tag:touchdown:resource', Values: ['launch-template.app'] }],
    });
    assert.deepEqual(group!.LaunchTemplate, {
      LaunchTemplateId: LaunchTemplates[0].LaunchTemplateId,
      LaunchTemplateName: LaunchTemplates[0].LaunchTemplateName,
      Version: '1',
    });
    assert.equal(group!.HealthCheckType, 'ELB');
    assert.equal(group!.HealthCheckGracePeriod, 120);
    assert.deepEqual(group!.TargetGroupARNs, [network.targetGroupArn]);
    assert.deepEqual(group!.VPCZoneIdentifier.split(',').sort(), [...network.subnetIds].sort());
    assert.deepEqual(tagsOf(group!.Tags), {
      'touchdown:stack': 'asg-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      Name: 'web',
      team: 'web',
    });
    assert.ok(group!.Tags.every((tag) => tag.PropagateAtLaunch));
    // Apply returned only once the desired instances were in service (the emulator starts them at once).
    assert.equal(inService(group!), 2);
    const { Reservations } = await t.boto.call('ec2', 'DescribeInstances', {
      Filters: [{ Name: 'tag:touchdown:resource', Values: [ADDRESS] }],
    });
    const instances = Reservations.flatMap((r: { Instances: unknown[] }) => r.Instances);
    assert.equal(instances.length, 2);
    assert.equal(tagsOf(instances[0].Tags).team, 'web');
    assertNoChanges(await t.plan(app()));
  });

  it('changes sizes and tags in place', async () => {
    await t.apply(app());
    const [before] = await stackGroups();
    const changed = { maxSize: 4, desiredCapacity: 3, tags: { team: 'ops' } };
    const plan = await t.plan(app(changed));
    assert.equal(actions(plan)[ADDRESS], 'update');
    await t.apply(app(changed));
    const [after] = await stackGroups();
    assert.equal(after!.AutoScalingGroupARN, before!.AutoScalingGroupARN);
    assert.equal(after!.MaxSize, 4);
    assert.equal(inService(after!), 3);
    assert.equal(tagsOf(after!.Tags).team, 'ops');
    assertNoChanges(await t.plan(app(changed)));
  });

  it('rolls its instances onto a changed launch template with an instance refresh, never a replacement', async () => {
    await t.apply(app());
    const [before] = await stackGroups();
    // The template's new version is unknown until applied: the plan shows the group following it.
    const plan = await t.plan(app({ instanceType: 't4g.medium' }));
    assert.equal(actions(plan)['launch-template.app'], 'update');
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes, [
      { name: 'launchTemplateVersion', before: '1', after: { unknown: true } },
    ]);
    const report = await applyReport(app({ instanceType: 't4g.medium' }));
    // moto lacks StartInstanceRefresh: the group is updated, then the refresh call fails, naming the operation.
    const failed = report!.failed.find((o) => o.address === ADDRESS);
    assert.match(failed?.error ?? '', /updating auto scaling group "web": StartInstanceRefresh/);
    const [after, ...others] = await stackGroups();
    assert.equal(others.length, 0);
    assert.equal(after!.AutoScalingGroupARN, before!.AutoScalingGroupARN);
    assert.equal(after!.LaunchTemplate.Version, '2');
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(app());
    const [group] = await stackGroups();
    await t.boto.call('autoscaling', 'DeleteAutoScalingGroup', {
      AutoScalingGroupName: group!.AutoScalingGroupName,
      ForceDelete: true,
    });
    assert.equal(actions(await t.plan(app()))[ADDRESS], 'create');
    await t.apply(app());
    const groups = await stackGroups();
    assert.equal(groups.length, 1);
    assert.notEqual(groups[0]!.AutoScalingGroupARN, group!.AutoScalingGroupARN);
  });

  it('is put back after its size is changed outside Touchdown', async () => {
    await t.apply(app());
    await t.boto.call('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: NAME, MaxSize: 5 });
    const plan = await t.plan(app());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'maxSize', before: 5, after: 3 },
    ]);
    await t.apply(app());
    assert.equal((await stackGroups())[0]!.MaxSize, 3);
  });

  it('fails an apply with the stuck state when its instances do not become healthy in time', async () => {
    await t.apply(app());
    const [group] = await stackGroups();
    await t.boto.call('autoscaling', 'SetInstanceHealth', {
      InstanceId: group!.Instances[0]!.InstanceId,
      HealthStatus: 'Unhealthy',
    });
    const { report } = await t
      .engine(app({ minSize: 2 }), {
        timing: { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000, timeoutFactor: 0.001 },
      })
      .apply();
    const failed = report!.failed.find((o) => o.address === ADDRESS);
    assert.match(
      failed?.error ?? '',
      /waiting for auto scaling group "web": gave up waiting for auto scaling group "web" to have its instances in service after .*; it was still "1 of 2 instances in service and healthy"/,
    );
    assert.match(failed?.hint ?? '', /Activity tab/);
  });

  it('is deleted by destroy, its instances with it', async () => {
    await t.apply(app());
    const plan = await t.destroy(app());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await stackGroups()).length, 0);
    const { Reservations } = await t.boto.call('ec2', 'DescribeInstances', {
      Filters: [
        { Name: 'tag:touchdown:resource', Values: [ADDRESS] },
        { Name: 'instance-state-name', Values: ['pending', 'running'] },
      ],
    });
    assert.equal(Reservations.length, 0);
  });
});
