import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import type { ConfigError } from '../../core/errors.js';
import { AwsStack } from '../stack.js';
import { TargetGroup } from './target-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'tg-test';

type TgArgs = Partial<ArgsInput<typeof TargetGroup.fields>>;

function stack(args: TgArgs = {}) {
  const aws = new AwsStack(STACK);
  const vpc = aws.addVpc({ name: 'net', cidrBlock: '10.0.0.0/16' });
  aws.add(TargetGroup, { name: 'web', vpcId: vpc.id, port: 8000, ...args });
  return aws;
}

interface BotoGroup {
  TargetGroupArn: string;
  TargetGroupName: string;
  Port: number;
  Protocol: string;
  TargetType: string;
  VpcId: string;
  HealthCheckPath: string;
  HealthCheckIntervalSeconds: number;
  HealthCheckTimeoutSeconds: number;
  HealthyThresholdCount: number;
  UnhealthyThresholdCount: number;
  Matcher: { HttpCode: string };
}

/** The stack's target groups, with their tags and attributes, as boto3 sees them. */
async function stackGroups() {
  const { TargetGroups } = (await t.boto.call('elbv2', 'DescribeTargetGroups')) as {
    TargetGroups: BotoGroup[];
  };
  const out = [];
  for (const g of TargetGroups) {
    const { TagDescriptions } = await t.boto.call('elbv2', 'DescribeTags', {
      ResourceArns: [g.TargetGroupArn],
    });
    const tags = Object.fromEntries(
      (TagDescriptions[0].Tags as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]),
    );
    if (tags['touchdown:stack'] !== STACK) continue;
    const { Attributes } = await t.boto.call('elbv2', 'DescribeTargetGroupAttributes', {
      TargetGroupArn: g.TargetGroupArn,
    });
    const attrs = Object.fromEntries(
      (Attributes as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]),
    );
    out.push({ ...g, tags, attrs });
  }
  return out;
}

describe('target group', () => {
  it('is created with its tags, health check and a 30 s deregistration delay, and re-plans to no changes', async () => {
    const plan = await t.apply(stack({ tags: { team: 'web' } }));
    assert.equal(actions(plan)['target-group.web'], 'create');
    const [g, ...others] = await stackGroups();
    assert.equal(others.length, 0);
    assert.equal(g!.TargetGroupName, 'tg-test-web');
    assert.equal(g!.Protocol, 'HTTP');
    assert.equal(g!.Port, 8000);
    assert.equal(g!.TargetType, 'ip');
    assert.deepEqual(g!.tags, {
      'touchdown:stack': STACK,
      'touchdown:resource': 'target-group.web',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assert.equal(g!.HealthCheckPath, '/');
    assert.equal(g!.Matcher.HttpCode, '200-399');
    assert.equal(g!.HealthCheckIntervalSeconds, 15);
    assert.equal(g!.HealthCheckTimeoutSeconds, 5);
    assert.equal(g!.HealthyThresholdCount, 2);
    assert.equal(g!.UnhealthyThresholdCount, 3);
    assert.equal(g!.attrs['deregistration_delay.timeout_seconds'], '30');
    assert.equal(g!.attrs['stickiness.enabled'], 'false');
    assert.equal(g!.attrs['slow_start.duration_seconds'], '0');

    const { plan: again, world } = await t.engine(stack({ tags: { team: 'web' } })).plan();
    assertNoChanges(again);
    const outputs = world.found.get('target-group.web')!.found.outputs as Record<string, string>;
    assert.equal(outputs.arn, g!.TargetGroupArn);
    assert.match(outputs.arnSuffix!, /^targetgroup\/tg-test-web\/\w+$/);
  });

  it('updates its health check, attributes and tags in place', async () => {
    await t.apply(stack());
    const [before] = await stackGroups();
    const changed = stack({
      healthCheck: { path: '/health/', matcher: '200', intervalSeconds: 30, unhealthyThreshold: 5 },
      deregistrationDelaySeconds: 10,
      stickiness: { durationSeconds: 3600 },
      slowStartSeconds: 60,
      tags: { env: 'prod' },
    });
    assert.equal(actions(await t.plan(changed))['target-group.web'], 'update');
    await t.apply(changed);
    const [after] = await stackGroups();
    assert.equal(after!.TargetGroupArn, before!.TargetGroupArn);
    assert.equal(after!.HealthCheckPath, '/health/');
    assert.equal(after!.Matcher.HttpCode, '200');
    assert.equal(after!.HealthCheckIntervalSeconds, 30);
    assert.equal(after!.UnhealthyThresholdCount, 5);
    assert.equal(after!.attrs['deregistration_delay.timeout_seconds'], '10');
    assert.equal(after!.attrs['stickiness.enabled'], 'true');
    assert.equal(after!.attrs['stickiness.type'], 'lb_cookie');
    assert.equal(after!.attrs['stickiness.lb_cookie.duration_seconds'], '3600');
    assert.equal(after!.attrs['slow_start.duration_seconds'], '60');
    assert.equal(after!.tags.env, 'prod');
    assertNoChanges(await t.plan(changed));

    // Leaving stickiness and slow start out turns them off again.
    await t.apply(stack());
    const [reset] = await stackGroups();
    assert.equal(reset!.attrs['stickiness.enabled'], 'false');
    assert.equal(reset!.attrs['slow_start.duration_seconds'], '0');
    assert.equal(reset!.tags.env, undefined);
  });

  it('is replaced when its port changes, and the plan says why', async () => {
    await t.apply(stack());
    const [before] = await stackGroups();
    const change = (await t.plan(stack({ port: 9000 }))).resources.find(
      (r) => r.address === 'target-group.web',
    )!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['port']);
    await t.apply(stack({ port: 9000 }));
    const after = await stackGroups();
    assert.equal(after.length, 1);
    assert.notEqual(after[0]!.TargetGroupArn, before!.TargetGroupArn);
    assert.equal(after[0]!.Port, 9000);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(stack());
    const [g] = await stackGroups();
    await t.boto.call('elbv2', 'DeleteTargetGroup', { TargetGroupArn: g!.TargetGroupArn });
    assert.equal(actions(await t.plan(stack()))['target-group.web'], 'create');
    await t.apply(stack());
    assert.equal((await stackGroups()).length, 1);
  });

  it('is put back after its deregistration delay and health check are changed outside Touchdown', async () => {
    await t.apply(stack());
    const [g] = await stackGroups();
    await t.boto.call('elbv2', 'ModifyTargetGroupAttributes', {
      TargetGroupArn: g!.TargetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '300' }],
    });
    await t.boto.call('elbv2', 'ModifyTargetGroup', {
      TargetGroupArn: g!.TargetGroupArn,
      HealthCheckPath: '/x',
    });
    const change = (await t.plan(stack())).resources.find((r) => r.address === 'target-group.web')!;
    assert.deepEqual(
      change.changes.map((c) => c.name),
      ['healthCheck', 'deregistrationDelaySeconds'],
    );
    assert.deepEqual(change.changes[1], { name: 'deregistrationDelaySeconds', before: 300, after: 30 });
    await t.apply(stack());
    const [after] = await stackGroups();
    assert.equal(after!.attrs['deregistration_delay.timeout_seconds'], '30');
    assert.equal(after!.HealthCheckPath, '/');
  });

  it('is deleted by destroy, after waiting while a listener outside the stack still forwards to it', async () => {
    await t.apply(stack());
    const [g] = await stackGroups();
    // A load balancer made by hand, forwarding to the group.
    const subnets = [];
    for (const [i, zone] of ['us-east-1a', 'us-east-1b'].entries()) {
      const { Subnet } = await t.boto.call('ec2', 'CreateSubnet', {
        VpcId: g!.VpcId,
        CidrBlock: `10.0.${i}.0/24`,
        AvailabilityZone: zone,
      });
      subnets.push(Subnet.SubnetId as string);
    }
    const { LoadBalancers } = await t.boto.call('elbv2', 'CreateLoadBalancer', {
      Name: 'by-hand',
      Subnets: subnets,
    });
    const { Listeners } = await t.boto.call('elbv2', 'CreateListener', {
      LoadBalancerArn: LoadBalancers[0].LoadBalancerArn,
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: g!.TargetGroupArn }],
    });

    const quick = { initialDelayMs: 20, maxDelayMs: 100, defaultTimeoutMs: 30_000, timeoutFactor: 0.002 };
    const { report } = await t.engine(stack(), { timing: quick }).destroy();
    const failure = report!.failed.find((f) => f.address === 'target-group.web')!;
    assert.match(failure.error!, /target group "web" to be free of dependents .*still "ResourceInUse"/);
    assert.equal((await stackGroups()).length, 1);

    await t.boto.call('elbv2', 'DeleteListener', { ListenerArn: Listeners[0].ListenerArn });
    await t.boto.call('elbv2', 'DeleteLoadBalancer', { LoadBalancerArn: LoadBalancers[0].LoadBalancerArn });
    for (const SubnetId of subnets) await t.boto.call('ec2', 'DeleteSubnet', { SubnetId });
    const plan = await t.destroy(stack());
    assert.equal(actions(plan)['target-group.web'], 'delete');
    assert.equal((await stackGroups()).length, 0);
  });

  it('refuses a health check timeout that is not shorter than its interval', async () => {
    await assert.rejects(
      t.plan(stack({ healthCheck: { intervalSeconds: 10, timeoutSeconds: 10 } })),
      (err: ConfigError) => {
        assert.match(err.message, /healthCheck: timeoutSeconds must be less than intervalSeconds/);
        return true;
      },
    );
  });
});
