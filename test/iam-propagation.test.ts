// IAM propagation (issue 11): AWS refuses a role or instance profile used moments after it was made (Scheduler's
// execution role, Auto Scaling's launch template profile, as Lambda's role). The AWS model refuses them as AWS
// does, for IAM's propagation time; Touchdown retries each through the one shared helper until it is accepted.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { AutoScalingGroup } from '../src/aws/autoscaling/group.js';
import { LaunchTemplate } from '../src/aws/ec2/launch-template.js';
import { errorCode } from '../src/aws/errors.js';
import { InstanceProfile } from '../src/aws/iam/instance-profile.js';
import { iamNotVisibleYet } from '../src/aws/iam/propagation.js';
import { Role } from '../src/aws/iam/role.js';
import { Schedule } from '../src/aws/scheduler/schedule.js';
import { AwsStack } from '../src/aws/stack.js';
import { TIMES } from './support/aws-model/times.js';
import { useLocalAws } from './support/harness.js';
import { until } from './support/until.js';

// IAM's 10 s stand still until the test has seen the refusal (the model's clock is the test's), however long the
// role, profile and launch template took to make; the engine's retries pace and give up at AWS's times over 5.
const t = useLocalAws({ model: { speedup: 5, clock: 'manual' } });
const trust = (service: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
});

let refusalsBefore: Record<string, number>;
beforeEach(() => {
  refusalsBefore = { ...t.model!.stats().refusals };
});
const refusedSince = (reason: string) =>
  (t.model!.stats().refusals[reason] ?? 0) - (refusalsBefore[reason] ?? 0);

/** Once the model has refused the call for `reason`, IAM propagates: the clock moves past its time. */
async function propagatedAfter(reason: string, applying: Promise<unknown>) {
  await until(`the model to refuse a call (${reason})`, () => refusedSince(reason) >= 1, applying);
  t.model!.clock.advance(TIMES.iamRole.create * 1000);
  await applying;
}

describe('a role or instance profile used right after it is made', () => {
  it('is refused by the model as Scheduler refuses it, and the schedule is made once IAM has propagated', async () => {
    const aws = new AwsStack('iamprop');
    const role = aws.add(Role, {
      name: 'iamprop-scheduler',
      assumeRolePolicy: trust('scheduler.amazonaws.com'),
    });
    aws.add(Schedule, {
      name: 'nightly',
      expression: 'cron(0 3 * * ? *)',
      target: { lambda: { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:iamprop-nightly' } },
      roleArn: role.arn,
    });
    await propagatedAfter('roleNotAssumable', t.apply(aws));
    assert.ok(refusedSince('roleNotAssumable') >= 1, 'the schedule was sent before the role was assumable');
    const s = await t.boto.call('scheduler', 'GetSchedule', { Name: 'iamprop.nightly' });
    assert.match(s.Target.RoleArn, /:role\/iamprop-scheduler-us-east-1$/);
  });

  it('is refused by the model as Auto Scaling refuses a fresh launch template profile, and the group is made after', async () => {
    const { Vpc } = await t.boto.call('ec2', 'CreateVpc', { CidrBlock: '10.7.0.0/16' });
    const { Subnet } = await t.boto.call('ec2', 'CreateSubnet', {
      VpcId: Vpc.VpcId,
      CidrBlock: '10.7.1.0/24',
      AvailabilityZone: 'us-east-1a',
    });
    const { ImageId } = await t.boto.call('ec2', 'RegisterImage', { Name: 'iamprop', Architecture: 'arm64' });
    const aws = new AwsStack('iamprop');
    const role = aws.add(Role, { name: 'iamprop-instance', assumeRolePolicy: trust('ec2.amazonaws.com') });
    const profile = aws.add(InstanceProfile, { name: 'iamprop-instance', roles: [role.name] });
    const template = aws.add(LaunchTemplate, {
      name: 'app',
      imageId: ImageId,
      instanceProfileArn: profile.arn,
      rootVolume: { sizeGiB: 20 },
    });
    aws.add(AutoScalingGroup, {
      name: 'web',
      launchTemplateId: template.id,
      launchTemplateVersion: template.latestVersion,
      minSize: 1,
      maxSize: 1,
      subnetIds: [Subnet.SubnetId],
    });
    await propagatedAfter('profileNotVisible', t.apply(aws));
    assert.ok(refusedSince('profileNotVisible') >= 1, 'the group was sent before the profile was visible');
    const { AutoScalingGroups } = await t.boto.call('autoscaling', 'DescribeAutoScalingGroups', {
      AutoScalingGroupNames: ['iamprop-web'],
    });
    assert.equal(AutoScalingGroups.length, 1);
  });

  it('is told apart from other refusals of the same codes', async () => {
    const err = (code: string, message: string) =>
      Object.assign(new Error(message), { name: code, Code: code });
    const passing = [
      ['InvalidParameterValueException', 'The role defined for the function cannot be assumed by Lambda.'],
      ['ValidationError', 'You must use a valid fully-formed launch template. Invalid IamInstanceProfile'],
      ['InvalidParameterValue', 'Value (x) for parameter iamInstanceProfile.name is invalid.'],
      [
        'ValidationException',
        'The execution role you provide must allow AWS EventBridge Scheduler to assume the role.',
      ],
      [
        'InvalidParameterException',
        'Unable to assume the service linked role. Please verify that the ECS service linked role exists.',
      ],
    ];
    for (const [code, message] of passing) {
      assert.equal(errorCode(err(code!, message!)), code);
      assert.ok(iamNotVisibleYet(err(code!, message!)), message);
    }
    assert.equal(
      iamNotVisibleYet(err('ValidationException', 'Invalid Schedule Expression cron(0 3 * * *)')),
      undefined,
    );
    assert.equal(
      iamNotVisibleYet(err('InvalidParameterValueException', 'Runtime python2.7 is not supported')),
      undefined,
    );
  });
});
