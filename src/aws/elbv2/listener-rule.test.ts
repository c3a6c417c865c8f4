import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import type { ConfigError } from '../../core/errors.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { Listener } from './listener.js';
import { ListenerRule } from './listener-rule.js';
import { LoadBalancer } from './load-balancer.js';
import { TargetGroup } from './target-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'rule-test';

type RuleArgs = Partial<ArgsInput<typeof ListenerRule.fields>>;

/** A load balancer with two listeners (80 and 8080) answering 404, and two target groups. */
function base() {
  const aws = new AwsStack(STACK);
  const vpc = aws.addVpc({ name: 'net', cidrBlock: '10.0.0.0/16' });
  vpc.addInternetGateway({ name: 'igw' });
  const a = vpc.addSubnet({ name: 'a', cidrBlock: '10.0.0.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'b', cidrBlock: '10.0.1.0/24', availabilityZone: 'us-east-1b' });
  const sg = vpc.addSecurityGroup({ name: 'lb' });
  const lb = aws.add(LoadBalancer, { name: 'web', subnetIds: [a.id, b.id], securityGroupIds: [sg.id] });
  const listener = (name: string, port: number) =>
    aws.add(Listener, {
      name,
      loadBalancerArn: lb.arn,
      port,
      protocol: 'HTTP',
      defaultAction: { fixedResponse: { status: 404 } },
    });
  const group = (name: string) => aws.add(TargetGroup, { name, vpcId: vpc.id, port: 8000 });
  return {
    aws,
    main: listener('main', 80),
    alt: listener('alt', 8080),
    api: group('api'),
    other: group('other'),
  };
}

function stack(
  args: RuleArgs = {},
  { on = 'main', to = 'api' }: { on?: 'main' | 'alt'; to?: 'api' | 'other' } = {},
) {
  const b = base();
  b.aws.add(ListenerRule, {
    name: 'api',
    listenerArn: b[on].arn,
    priority: 10,
    conditions: { pathPatterns: ['/api/*'], hostHeaders: ['xkcd.example.com'] },
    targetGroupArn: b[to].arn,
    ...args,
  });
  return b.aws;
}

interface BotoRule {
  RuleArn: string;
  Priority: string;
  IsDefault: boolean;
  Conditions: {
    Field: string;
    PathPatternConfig?: { Values: string[] };
    HostHeaderConfig?: { Values: string[] };
  }[];
  Actions: {
    Type: string;
    TargetGroupArn: string;
    ForwardConfig?: { TargetGroups: { TargetGroupArn: string; Weight: number }[] };
  }[];
}

async function listenerArn(port: number): Promise<string> {
  const { LoadBalancers } = await t.boto.call('elbv2', 'DescribeLoadBalancers', { Names: [`${STACK}-web`] });
  const { Listeners } = await t.boto.call('elbv2', 'DescribeListeners', {
    LoadBalancerArn: LoadBalancers[0].LoadBalancerArn,
  });
  return (Listeners as { Port: number; ListenerArn: string }[]).find((l) => l.Port === port)!.ListenerArn;
}

async function groupArn(name: string): Promise<string> {
  const { TargetGroups } = await t.boto.call('elbv2', 'DescribeTargetGroups', {
    Names: [`${STACK}-${name}`],
  });
  return TargetGroups[0].TargetGroupArn;
}

/** The non-default rules of both listeners, with their tags and the port of their listener. */
async function allRules() {
  const out = [];
  for (const port of [80, 8080]) {
    const { Rules } = await t.boto.call('elbv2', 'DescribeRules', { ListenerArn: await listenerArn(port) });
    for (const r of (Rules as BotoRule[]).filter((x) => !x.IsDefault)) {
      const { TagDescriptions } = await t.boto.call('elbv2', 'DescribeTags', { ResourceArns: [r.RuleArn] });
      const tags = Object.fromEntries(
        (TagDescriptions[0].Tags as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]),
      );
      out.push({ ...r, port, tags });
    }
  }
  return out;
}

describe('listener rule', () => {
  it('is created with its tags in the create call, and a second plan shows no changes', async () => {
    const plan = await t.apply(stack({ tags: { team: 'api' } }));
    assert.equal(actions(plan)['listener-rule.api'], 'create');
    const [r, ...others] = await allRules();
    assert.equal(others.length, 0);
    assert.equal(r!.port, 80);
    assert.equal(r!.Priority, '10');
    assert.deepEqual(r!.tags, {
      'touchdown:stack': STACK,
      'touchdown:resource': 'listener-rule.api',
      'touchdown:region': 'us-east-1',
      team: 'api',
    });
    assert.deepEqual(r!.Conditions, [
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } },
      { Field: 'host-header', HostHeaderConfig: { Values: ['xkcd.example.com'] } },
    ]);
    assert.equal(r!.Actions[0]!.Type, 'forward');
    assert.equal(r!.Actions[0]!.TargetGroupArn, await groupArn('api'));
    assertNoChanges(await t.plan(stack({ tags: { team: 'api' } })));
  });

  it('updates priority, conditions, target group and tags in place', async () => {
    await t.apply(stack());
    const [before] = await allRules();
    const changed = stack(
      { priority: 20, conditions: { pathPatterns: ['/v2/*', '/api/*'] }, tags: { env: 'prod' } },
      { to: 'other' },
    );
    assert.equal(actions(await t.plan(changed))['listener-rule.api'], 'update');
    await t.apply(changed);
    const [after] = await allRules();
    assert.equal(after!.RuleArn, before!.RuleArn);
    assert.equal(after!.Priority, '20');
    assert.deepEqual(after!.Conditions, [
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/v2/*', '/api/*'] } },
    ]);
    assert.equal(after!.Actions[0]!.TargetGroupArn, await groupArn('other'));
    assert.equal(after!.tags.env, 'prod');
    // Path order does not matter to AWS, so it does not read as a change.
    assertNoChanges(
      await t.plan(
        stack(
          { priority: 20, conditions: { pathPatterns: ['/api/*', '/v2/*'] }, tags: { env: 'prod' } },
          { to: 'other' },
        ),
      ),
    );
  });

  it('forwards to a standby target group with weight 0, and reads either weighting back as declared', async () => {
    const withStandby = () => {
      const s = base();
      s.aws.add(ListenerRule, {
        name: 'api',
        listenerArn: s.main.arn,
        priority: 10,
        conditions: { pathPatterns: ['/*'] },
        targetGroupArn: s.api.arn,
        standbyTargetGroupArn: s.other.arn,
      });
      return s.aws;
    };
    await t.apply(withStandby());
    const [r] = await allRules();
    const weights = r!.Actions[0]!.ForwardConfig!.TargetGroups.map((g) => [g.TargetGroupArn, g.Weight]);
    assert.deepEqual(weights, [
      [await groupArn('api'), 100],
      [await groupArn('other'), 0],
    ]);
    assertNoChanges(await t.plan(withStandby()));
    // Dropping the standby goes back to a plain forward, in place.
    assert.equal(
      actions(await t.plan(stack({ conditions: { pathPatterns: ['/*'] } })))['listener-rule.api'],
      'update',
    );
    await t.apply(stack({ conditions: { pathPatterns: ['/*'] } }));
    const [plain] = await allRules();
    assert.equal(plain!.RuleArn, r!.RuleArn);
    assert.equal(plain!.Actions[0]!.TargetGroupArn, await groupArn('api'));
  });

  it('is replaced when it moves to another listener, and the plan says why', async () => {
    await t.apply(stack());
    const [before] = await allRules();
    const change = (await t.plan(stack({}, { on: 'alt' }))).resources.find(
      (r) => r.address === 'listener-rule.api',
    )!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['listenerArn']);
    await t.apply(stack({}, { on: 'alt' }));
    const after = await allRules();
    assert.equal(after.length, 1);
    assert.notEqual(after[0]!.RuleArn, before!.RuleArn);
    assert.equal(after[0]!.port, 8080);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(stack());
    const [r] = await allRules();
    await t.boto.call('elbv2', 'DeleteRule', { RuleArn: r!.RuleArn });
    assert.equal(actions(await t.plan(stack()))['listener-rule.api'], 'create');
    await t.apply(stack());
    assert.equal((await allRules()).length, 1);
  });

  it('is put back after its conditions are changed outside Touchdown', async () => {
    await t.apply(stack());
    const [r] = await allRules();
    await t.boto.call('elbv2', 'ModifyRule', {
      RuleArn: r!.RuleArn,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/admin/*'] } }],
    });
    const change = (await t.plan(stack())).resources.find((c) => c.address === 'listener-rule.api')!;
    assert.deepEqual(change.changes, [
      {
        name: 'conditions',
        before: { pathPatterns: ['/admin/*'] },
        after: { pathPatterns: ['/api/*'], hostHeaders: ['xkcd.example.com'] },
      },
    ]);
    await t.apply(stack());
    const [after] = await allRules();
    assert.equal(after!.Conditions.length, 2);
  });

  it('is deleted once no longer declared, and by destroy', async () => {
    await t.apply(stack());
    // Until the registry lists the ELBv2 types, the engine looks for undeclared rules only when told to.
    const registry = [...resourceTypes, ListenerRule];
    const { plan, report } = await t.engine(base().aws, { registry }).apply();
    assert.deepEqual(report?.failed, []);
    assert.equal(actions(plan)['listener-rule.api'], 'delete');
    assert.equal((await allRules()).length, 0);

    await t.apply(stack());
    assert.equal(actions(await t.destroy(stack()))['listener-rule.api'], 'delete');
    assert.deepEqual((await t.boto.call('elbv2', 'DescribeLoadBalancers')).LoadBalancers, []);
  });

  it('refuses a rule without conditions, or with more than five values', async () => {
    await assert.rejects(t.plan(stack({ conditions: {} })), (err: ConfigError) => {
      assert.match(err.message, /give pathPatterns, hostHeaders or both/);
      return true;
    });
    const six = ['/a', '/b', '/c', '/d', '/e', '/f'];
    await assert.rejects(t.plan(stack({ conditions: { pathPatterns: six } })), /at most 5 paths and hosts/);
  });
});
