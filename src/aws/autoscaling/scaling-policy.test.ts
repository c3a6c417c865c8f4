import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { ScalableTarget } from './scalable-target.js';
import { TargetTrackingPolicy } from './scaling-policy.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'scaling-policy.cpu';
const DIMENSION = 'ecs:service:DesiredCount';

// ECS services and the load balancer come from elsewhere (their own types and tests).
let balancer: { loadBalancerArn: string; targetGroupArn: string };
beforeEach(async () => {
  await t.boto.call('ecs', 'CreateCluster', { clusterName: 'main' });
  await t.boto.call('ecs', 'RegisterTaskDefinition', {
    family: 'web',
    containerDefinitions: [{ name: 'web', image: 'radpress:1', memory: 512 }],
  });
  for (const serviceName of ['web', 'web-canary']) {
    await t.boto.call('ecs', 'CreateService', {
      cluster: 'main',
      serviceName,
      taskDefinition: 'web',
      desiredCount: 1,
    });
  }
  const { Vpc } = await t.boto.call('ec2', 'CreateVpc', { CidrBlock: '10.4.0.0/16' });
  const subnets = await Promise.all(
    ['a', 'b'].map(async (zone, i) => {
      const { Subnet } = await t.boto.call('ec2', 'CreateSubnet', {
        VpcId: Vpc.VpcId,
        CidrBlock: `10.4.${i}.0/24`,
        AvailabilityZone: `us-east-1${zone}`,
      });
      return Subnet.SubnetId;
    }),
  );
  const { LoadBalancers } = await t.boto.call('elbv2', 'CreateLoadBalancer', {
    Name: 'web',
    Subnets: subnets,
  });
  const { TargetGroups } = await t.boto.call('elbv2', 'CreateTargetGroup', {
    Name: 'web',
    Protocol: 'HTTP',
    Port: 8000,
    VpcId: Vpc.VpcId,
    TargetType: 'ip',
  });
  balancer = {
    loadBalancerArn: LoadBalancers[0].LoadBalancerArn,
    targetGroupArn: TargetGroups[0].TargetGroupArn,
  };
});

type Policy = Partial<Parameters<typeof declare>[0]>;

function declare(p: {
  service: 'web' | 'web-canary';
  metric: 'cpu' | 'memory' | 'requestsPerTarget';
  targetValue: number;
  scaleInCooldownSeconds?: number;
}) {
  const aws = new AwsStack('policy-test');
  const targets = Object.fromEntries(
    (['web', 'web-canary'] as const).map((s) => [
      s,
      aws.add(ScalableTarget, { name: s, resourceId: `service/main/${s}`, minCapacity: 1, maxCapacity: 4 }),
    ]),
  );
  aws.add(TargetTrackingPolicy, {
    name: p.metric === 'requestsPerTarget' ? 'requests' : 'cpu',
    resourceId: targets[p.service]!.resourceId,
    metric: p.metric,
    targetValue: p.targetValue,
    scaleInCooldownSeconds: p.scaleInCooldownSeconds,
    ...(p.metric === 'requestsPerTarget' ? balancer : {}),
  });
  return aws;
}

const cpu = (o: Policy = {}) => declare({ service: 'web', metric: 'cpu', targetValue: 60, ...o });

interface BotoPolicy {
  PolicyName: string;
  PolicyARN: string;
  ResourceId: string;
  TargetTrackingScalingPolicyConfiguration: {
    TargetValue: number;
    ScaleInCooldown: number;
    ScaleOutCooldown: number;
    PredefinedMetricSpecification: { PredefinedMetricType: string; ResourceLabel?: string };
  };
}

async function policies(): Promise<BotoPolicy[]> {
  const { ScalingPolicies } = await t.boto.call('application-autoscaling', 'DescribeScalingPolicies', {
    ServiceNamespace: 'ecs',
  });
  return ScalingPolicies;
}

describe('TargetTrackingPolicy', () => {
  it("tracks CPU under a stack-scoped name; a second plan shows no changes and leaves other stacks' policies", async () => {
    const plan = await t.apply(cpu());
    assert.equal(actions(plan)[ADDRESS], 'create');
    // Another stack whose name starts with this one's: its policy is not this stack's.
    await t.boto.call('application-autoscaling', 'PutScalingPolicy', {
      PolicyName: 'policy-test-2.cpu',
      ServiceNamespace: 'ecs',
      ResourceId: 'service/main/web',
      ScalableDimension: DIMENSION,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 70,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      },
    });
    const ours = (await policies()).filter((p) => p.PolicyName.startsWith('policy-test.'));
    assert.equal(ours.length, 1);
    assert.equal(ours[0]!.PolicyName, 'policy-test.cpu');
    assert.equal(ours[0]!.ResourceId, 'service/main/web');
    assert.deepEqual(ours[0]!.TargetTrackingScalingPolicyConfiguration, {
      TargetValue: 60,
      PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      ScaleInCooldown: 300,
      ScaleOutCooldown: 60,
      DisableScaleIn: false,
    });
    assertNoChanges(await t.plan(cpu()));
  });

  it('counts requests per target with a label built from the load balancer and target group', async () => {
    const requests = () => declare({ service: 'web', metric: 'requestsPerTarget', targetValue: 1000 });
    await t.apply(requests());
    const [policy] = await policies();
    const tail = (arn: string, kind: string) => arn.split(`:${kind}/`)[1];
    assert.deepEqual(policy!.TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification, {
      PredefinedMetricType: 'ALBRequestCountPerTarget',
      ResourceLabel: `${tail(balancer.loadBalancerArn, 'loadbalancer')}/targetgroup/${tail(balancer.targetGroupArn, 'targetgroup')}`,
    });
    assertNoChanges(await t.plan(requests()));
  });

  it('needs the load balancer for requests per target, and says so before calling AWS', () => {
    const aws = new AwsStack('policy-test');
    aws.add(TargetTrackingPolicy, {
      name: 'requests',
      resourceId: 'service/main/web',
      metric: 'requestsPerTarget',
      targetValue: 1000,
    });
    assert.throws(
      () => aws.check(),
      (err: Error & { problems?: string[] }) => {
        assert.deepEqual(err.problems, [
          'scaling-policy.requests: loadBalancerArn, targetGroupArn: metric "requestsPerTarget" counts requests at a load balancer\'s target group; give both ARNs',
        ]);
        return true;
      },
    );
  });

  it('changes its target and cooldowns in place', async () => {
    await t.apply(cpu());
    const plan = await t.plan(cpu({ targetValue: 45, scaleInCooldownSeconds: 600 }));
    assert.equal(actions(plan)[ADDRESS], 'update');
    await t.apply(cpu({ targetValue: 45, scaleInCooldownSeconds: 600 }));
    const [policy, ...others] = await policies();
    assert.equal(others.length, 0);
    assert.equal(policy!.PolicyName, 'policy-test.cpu');
    assert.equal(policy!.TargetTrackingScalingPolicyConfiguration.TargetValue, 45);
    assert.equal(policy!.TargetTrackingScalingPolicyConfiguration.ScaleInCooldown, 600);
  });

  it('is replaced when it moves to another service, and the plan says why', async () => {
    await t.apply(cpu());
    const plan = await t.plan(cpu({ service: 'web-canary' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['resourceId']);
    await t.apply(cpu({ service: 'web-canary' }));
    assert.deepEqual(
      (await policies()).map((p) => [p.PolicyName, p.ResourceId]),
      [['policy-test.cpu', 'service/main/web-canary']],
    );
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(cpu());
    await t.boto.call('application-autoscaling', 'DeleteScalingPolicy', {
      PolicyName: 'policy-test.cpu',
      ServiceNamespace: 'ecs',
      ResourceId: 'service/main/web',
      ScalableDimension: DIMENSION,
    });
    assert.equal(actions(await t.plan(cpu()))[ADDRESS], 'create');
    await t.apply(cpu());
    assert.equal((await policies()).length, 1);
  });

  it('gets its target back after it is changed outside Touchdown', async () => {
    await t.apply(cpu());
    await t.boto.call('application-autoscaling', 'PutScalingPolicy', {
      PolicyName: 'policy-test.cpu',
      ServiceNamespace: 'ecs',
      ResourceId: 'service/main/web',
      ScalableDimension: DIMENSION,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 80,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        ScaleInCooldown: 300,
        ScaleOutCooldown: 60,
      },
    });
    const plan = await t.plan(cpu());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'targetValue', before: 80, after: 60 },
    ]);
    await t.apply(cpu());
    assert.equal((await policies())[0]!.TargetTrackingScalingPolicyConfiguration.TargetValue, 60);
  });

  it('is deleted by destroy, before its scalable target', async () => {
    await t.apply(cpu());
    const plan = await t.destroy(cpu());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await policies()).length, 0);
    const { ScalableTargets } = await t.boto.call('application-autoscaling', 'DescribeScalableTargets', {
      ServiceNamespace: 'ecs',
    });
    assert.equal(ScalableTargets.length, 0);
  });
});
