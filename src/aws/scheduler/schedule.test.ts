import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ConfigError } from '../../core/errors.js';
import { Role } from '../iam/role.js';
import { AwsStack } from '../stack.js';
import { expressionProblem, Schedule } from './schedule.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'schedule.clearsessions';
const NAME = 'sched-test.clearsessions';
const CLEARSESSIONS = ['python', 'manage.py', 'clearsessions'];

const trust = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
};

// The cluster, task definition and network come from elsewhere (their own types and tests).
let ecs: { clusterArn: string; taskDefinitionArn: string; subnetIds: string[]; securityGroupIds: string[] };
beforeEach(async () => {
  const { cluster } = await t.boto.call('ecs', 'CreateCluster', { clusterName: 'main' });
  const { taskDefinition } = await t.boto.call('ecs', 'RegisterTaskDefinition', {
    family: 'web',
    containerDefinitions: [{ name: 'web', image: 'radpress:1', memory: 512 }],
  });
  const { Vpc } = await t.boto.call('ec2', 'CreateVpc', { CidrBlock: '10.5.0.0/16' });
  const { Subnet } = await t.boto.call('ec2', 'CreateSubnet', { VpcId: Vpc.VpcId, CidrBlock: '10.5.1.0/24' });
  const { GroupId } = await t.boto.call('ec2', 'CreateSecurityGroup', {
    GroupName: 'jobs',
    Description: 'jobs',
    VpcId: Vpc.VpcId,
  });
  ecs = {
    clusterArn: cluster.clusterArn,
    taskDefinitionArn: taskDefinition.taskDefinitionArn,
    subnetIds: [Subnet.SubnetId],
    securityGroupIds: [GroupId],
  };
});

interface Nightly {
  expression?: string;
  command?: string[];
  groupName?: string;
  flexibleWindowMinutes?: number;
}

/** Seed 002's nightly job: `manage.py clearsessions` at 03:00 as a one-off ECS task. */
function nightly(o: Nightly = {}) {
  const aws = new AwsStack('sched-test');
  const role = aws.add(Role, { name: 'sched-test-jobs', assumeRolePolicy: trust });
  aws.add(Schedule, {
    name: 'clearsessions',
    groupName: o.groupName,
    expression: o.expression ?? 'cron(0 3 * * ? *)',
    flexibleWindowMinutes: o.flexibleWindowMinutes,
    target: { ecsTask: { ...ecs, containerName: 'web', command: o.command ?? CLEARSESSIONS } },
    roleArn: role.arn,
  });
  return aws;
}

const getSchedule = (GroupName = 'default') =>
  t.boto.call('scheduler', 'GetSchedule', { Name: NAME, GroupName });

async function stackSchedules(): Promise<{ Name: string; GroupName: string }[]> {
  return (await t.boto.call('scheduler', 'ListSchedules', { NamePrefix: 'sched-test.' })).Schedules;
}

describe('Schedule', () => {
  it('runs the management command through the universal RunTask target, as RunTask’s own request; a second plan shows no changes', async () => {
    const plan = await t.apply(nightly());
    assert.equal(actions(plan)[ADDRESS], 'create');
    const s = await getSchedule();
    assert.equal(s.ScheduleExpression, 'cron(0 3 * * ? *)');
    assert.equal(s.ScheduleExpressionTimezone, 'UTC');
    assert.equal(s.State, 'ENABLED');
    assert.deepEqual(s.FlexibleTimeWindow, { Mode: 'OFF' });
    // The templated ECS target (EcsParameters) documents no container overrides: the universal one calls RunTask.
    assert.equal(s.Target.Arn, 'arn:aws:scheduler:::aws-sdk:ecs:runTask');
    assert.equal(s.Target.EcsParameters, undefined);
    assert.match(s.Target.RoleArn, /:role\/sched-test-jobs-us-east-1$/);
    assert.deepEqual(JSON.parse(s.Target.Input), {
      cluster: ecs.clusterArn,
      taskDefinition: ecs.taskDefinitionArn,
      count: 1,
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ecs.subnetIds,
          securityGroups: ecs.securityGroupIds,
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: { containerOverrides: [{ name: 'web', command: CLEARSESSIONS }] },
    });
    // The Input is a RunTask request boto3 (AWS's own model of ECS) accepts as it is.
    const ran = await t.boto.call('ecs', 'RunTask', {
      ...JSON.parse(s.Target.Input),
      startedBy: 'scheduler-test',
    });
    assert.deepEqual(ran.tasks[0].overrides.containerOverrides[0].command, CLEARSESSIONS);
    assert.deepEqual(s.Target.RetryPolicy, { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 86400 });
    assertNoChanges(await t.plan(nightly()));
  });

  it('rejects a five-field cron with one error naming the argument, before any AWS call', async () => {
    const aws = t.aws.clients();
    const engine = t.engine(nightly({ expression: 'cron(0 3 * * *)' }), { aws });
    await assert.rejects(
      async () => engine.plan(),
      (err: ConfigError) => {
        assert.deepEqual(err.problems, [
          'schedule.clearsessions: argument "expression": "cron(0 3 * * *)" has 5 fields; AWS\'s cron takes six ' +
            '(minutes hours day-of-month month day-of-week year), e.g. cron(0 3 * * ? *) runs at 03:00 every day',
        ]);
        return true;
      },
    );
    assert.equal(aws.calls.length, 0);
    // The other ways AWS's cron differs from Unix cron are named too.
    assert.match(
      expressionProblem('cron(0 3 * * * *)')!,
      /day-of-month "\*" and day-of-week "\*": exactly one/,
    );
    assert.match(expressionProblem('cron(75 3 * * ? *)')!, /^minutes "75": 75 is outside 0-59/);
    assert.match(expressionProblem('cron(0 3 ? * FRI#3 *)') ?? 'valid', /valid/);
    assert.match(expressionProblem('cron(0 3 L * ? 2031)') ?? 'valid', /valid/);
    assert.match(expressionProblem('rate(1 days)')!, /singular with 1, e\.g\. rate\(1 day\)/);
    assert.equal(expressionProblem('at(2030-01-31T03:00:00)'), undefined);
  });

  it('moves a schedule made with the templated ECS target, whose command AWS does not document, to the universal one', async () => {
    await t.apply(nightly());
    const s = await getSchedule();
    // As Touchdown made it before: the cluster as target, EcsParameters, and the overrides as Input.
    await t.boto.call('scheduler', 'UpdateSchedule', {
      Name: NAME,
      ScheduleExpression: s.ScheduleExpression,
      FlexibleTimeWindow: s.FlexibleTimeWindow,
      Target: {
        Arn: ecs.clusterArn,
        RoleArn: s.Target.RoleArn,
        EcsParameters: { TaskDefinitionArn: ecs.taskDefinitionArn, TaskCount: 1, LaunchType: 'FARGATE' },
        Input: JSON.stringify({ containerOverrides: [{ name: 'web', command: CLEARSESSIONS }] }),
      },
    });
    assert.equal(actions(await t.plan(nightly()))[ADDRESS], 'update');
    await t.apply(nightly());
    assert.equal((await getSchedule()).Target.Arn, 'arn:aws:scheduler:::aws-sdk:ecs:runTask');
    assertNoChanges(await t.plan(nightly()));
  });

  it('changes its expression, window and command in place', async () => {
    await t.apply(nightly());
    const changed = {
      expression: 'cron(30 4 ? * SUN *)',
      flexibleWindowMinutes: 15,
      command: ['python', 'manage.py', 'cleanup'],
    };
    const plan = await t.plan(nightly(changed));
    assert.equal(actions(plan)[ADDRESS], 'update');
    await t.apply(nightly(changed));
    const s = await getSchedule();
    assert.equal(s.ScheduleExpression, 'cron(30 4 ? * SUN *)');
    assert.deepEqual(s.FlexibleTimeWindow, { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 });
    assert.deepEqual(JSON.parse(s.Target.Input).overrides.containerOverrides[0].command, changed.command);
    assertNoChanges(await t.plan(nightly(changed)));
  });

  it('is replaced when it moves to another group, and the plan says why', async () => {
    await t.boto.call('scheduler', 'CreateScheduleGroup', { Name: 'nightly' });
    await t.apply(nightly());
    const plan = await t.plan(nightly({ groupName: 'nightly' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['groupName']);
    await t.apply(nightly({ groupName: 'nightly' }));
    assert.deepEqual(
      (await stackSchedules()).map((s) => [s.GroupName, s.Name]),
      [['nightly', NAME]],
    );
  });

  it('invokes a Lambda function with a JSON event', async () => {
    const fn = 'arn:aws:lambda:us-east-1:123456789012:function:radpress-nightly';
    const stack = () => {
      const aws = new AwsStack('sched-test');
      aws.add(Schedule, {
        name: 'clearsessions',
        expression: 'rate(1 day)',
        target: { lambda: { functionArn: fn, input: { command: 'clearsessions' } } },
        roleArn: 'arn:aws:iam::123456789012:role/scheduler',
        retryPolicy: { maximumRetryAttempts: 2 },
      });
      return aws;
    };
    await t.apply(stack());
    const s = await getSchedule();
    assert.equal(s.Target.Arn, fn);
    assert.deepEqual(JSON.parse(s.Target.Input), { command: 'clearsessions' });
    assert.equal(s.Target.EcsParameters, undefined);
    assert.deepEqual(s.Target.RetryPolicy, { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 86400 });
    assertNoChanges(await t.plan(stack()));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(nightly());
    await t.boto.call('scheduler', 'DeleteSchedule', { Name: NAME });
    assert.equal(actions(await t.plan(nightly()))[ADDRESS], 'create');
    await t.apply(nightly());
    assert.equal((await stackSchedules()).length, 1);
  });

  it('is enabled again after being disabled outside Touchdown', async () => {
    await t.apply(nightly());
    const s = await getSchedule();
    await t.boto.call('scheduler', 'UpdateSchedule', {
      Name: NAME,
      ScheduleExpression: s.ScheduleExpression,
      FlexibleTimeWindow: s.FlexibleTimeWindow,
      Target: s.Target,
      State: 'DISABLED',
    });
    const plan = await t.plan(nightly());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'state', before: 'DISABLED', after: 'ENABLED' },
    ]);
    await t.apply(nightly());
    assert.equal((await getSchedule()).State, 'ENABLED');
  });

  it("is deleted by destroy, leaving another stack's schedule of a similar name", async () => {
    // A stack named sched-test-2 shares the prefix "sched-test": the dot keeps its schedules apart.
    const other = await getOtherStackSchedule();
    await t.apply(nightly());
    const plan = await t.destroy(nightly());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.deepEqual(
      (await t.boto.call('scheduler', 'ListSchedules', {})).Schedules.map((s: { Name: string }) => s.Name),
      [other],
    );
  });
});

async function getOtherStackSchedule(): Promise<string> {
  const Name = 'sched-test-2.clearsessions';
  await t.boto.call('scheduler', 'CreateSchedule', {
    Name,
    ScheduleExpression: 'rate(1 day)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: 'arn:aws:lambda:us-east-1:123456789012:function:x',
      RoleArn: 'arn:aws:iam::123456789012:role/x',
    },
  });
  return Name;
}
