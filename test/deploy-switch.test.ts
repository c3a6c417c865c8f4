// `web.traffic: switch`: the xkcd app deployed with ECS blue/green, so old and new versions never serve at once.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { parseManifest } from '../src/config/load-manifest.js';
import { deploy } from '../src/django/deploy.js';
import type { TestAws } from './support/harness.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const IMAGE = (tag: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:${tag}`;
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 };

async function deploySwitching(t: TestAws, image: string) {
  const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
  const text = (await readFile(path, 'utf8')).replace(
    '  healthCheck: /healthz',
    '  healthCheck: /healthz\n  traffic: switch',
  );
  assert.match(text, /traffic: switch/);
  return deploy({
    loaded: parseManifest(text, path),
    aws: t.aws.clients(),
    events: () => {},
    signal: new AbortController().signal,
    image,
    timing,
  });
}

describe('touchdown deploy with web.traffic: switch', () => {
  const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
  // After the harness's reset: the release's one-off task stops at its first look, as in test/reliability/app.ts.
  beforeEach(() => t.aws.setTransition('ecs::task', { progression: 'immediate' }));

  it('routes every request through one rule ECS flips, with a standby target group and a role limited to it', async () => {
    const first = await deploySwitching(t, IMAGE('v1'));
    assert.equal(first.status, 'deployed', first.message);

    const { TargetGroups } = await t.boto.call('elbv2', 'DescribeTargetGroups', {});
    const groups = new Map<string, string>(
      TargetGroups.map((g: { TargetGroupName: string; TargetGroupArn: string }) => [
        g.TargetGroupArn,
        g.TargetGroupName,
      ]),
    );
    assert.equal(groups.size, 2, 'a serving and a standby target group');

    const { LoadBalancers } = await t.boto.call('elbv2', 'DescribeLoadBalancers', {});
    const { Listeners } = await t.boto.call('elbv2', 'DescribeListeners', {
      LoadBalancerArn: LoadBalancers[0].LoadBalancerArn,
    });
    const https = Listeners.find((l: { Port: number }) => l.Port === 443);
    const { Rules } = await t.boto.call('elbv2', 'DescribeRules', { ListenerArn: https.ListenerArn });
    const rule = Rules.find((r: { IsDefault: boolean }) => !r.IsDefault);
    assert.deepEqual(rule.Conditions[0].PathPatternConfig.Values, ['/*']);
    const weights = rule.Actions[0].ForwardConfig.TargetGroups.map(
      (g: { TargetGroupArn: string; Weight: number }) => [groups.get(g.TargetGroupArn), g.Weight],
    );
    assert.equal(weights.length, 2);
    assert.deepEqual(weights.map((w: [string, number]) => w[1]).sort(), [0, 100]);

    const { services } = await t.boto.call('ecs', 'DescribeServices', {
      cluster: 'xkcd-production-main',
      services: ['xkcd-production-web'],
    });
    const advanced = services[0].loadBalancers[0].advancedConfiguration;
    assert.equal(advanced.productionListenerRule, rule.RuleArn);
    assert.deepEqual(
      [services[0].loadBalancers[0].targetGroupArn, advanced.alternateTargetGroupArn].sort(),
      [...groups.keys()].sort(),
    );
    // The emulator drops deploymentConfiguration (strategy BLUE_GREEN is sent, nothing reads it back).

    const policy = await t.boto.call('iam', 'GetRolePolicy', {
      RoleName: advanced.roleArn.split('/').at(-1),
      PolicyName: 'switch',
    });
    const statements = policy.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const modify = statements.find((s) => s.Action === 'elasticloadbalancing:ModifyRule');
    assert.equal(modify?.Resource, rule.RuleArn, 'ECS may change this rule and no other');

    const again = await deploySwitching(t, IMAGE('v1'));
    assert.equal(again.status, 'unchanged', again.message);

    const next = await deploySwitching(t, IMAGE('v2'));
    assert.equal(next.status, 'deployed', next.message);
    const moved = await t.boto.call('ecs', 'DescribeServices', {
      cluster: 'xkcd-production-main',
      services: ['xkcd-production-web'],
    });
    const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
      taskDefinition: moved.services[0].taskDefinition,
    });
    assert.equal(taskDefinition.containerDefinitions[0].image, IMAGE('v2'));
  });
});
