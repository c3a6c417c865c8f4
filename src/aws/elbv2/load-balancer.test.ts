import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import type { AwsClients } from '../clients.js';
import { AwsStack } from '../stack.js';
import { Listener } from './listener.js';
import { ListenerRule } from './listener-rule.js';
import { LoadBalancer } from './load-balancer.js';
import { TargetGroup } from './target-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'lb-test';

type LbArgs = Partial<ArgsInput<typeof LoadBalancer.fields>>;

/** What AWS needs under an internet-facing load balancer: a VPC with an internet gateway and two public subnets in two zones. */
function network(aws: AwsStack) {
  const vpc = aws.addVpc({ name: 'net', cidrBlock: '10.0.0.0/16' });
  vpc.addInternetGateway({ name: 'igw' });
  const a = vpc.addSubnet({ name: 'lb-a', cidrBlock: '10.0.0.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'lb-b', cidrBlock: '10.0.1.0/24', availabilityZone: 'us-east-1b' });
  const https = [{ protocol: 'tcp' as const, fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' }];
  const lbGroup = vpc.addSecurityGroup({ name: 'lb', ingress: https });
  const otherGroup = vpc.addSecurityGroup({ name: 'other', ingress: https });
  return { vpc, subnetIds: [a.id, b.id], lbGroup, otherGroup };
}

function stack(args: LbArgs = {}, { useOtherGroup = false } = {}) {
  const aws = new AwsStack(STACK);
  const net = network(aws);
  aws.add(LoadBalancer, {
    name: 'web',
    subnetIds: net.subnetIds,
    securityGroupIds: [(useOtherGroup ? net.otherGroup : net.lbGroup).id],
    ...args,
  });
  return aws;
}

interface BotoBalancer {
  LoadBalancerArn: string;
  LoadBalancerName: string;
  Scheme: string;
  Type: string;
  SecurityGroups: string[];
  AvailabilityZones: { SubnetId: string; ZoneName: string }[];
  DNSName: string;
}

/** The stack's load balancers, as boto3 sees them (DescribeLoadBalancers cannot filter by tag). */
async function stackBalancers(): Promise<(BotoBalancer & { tags: Record<string, string> })[]> {
  const { LoadBalancers } = (await t.boto.call('elbv2', 'DescribeLoadBalancers')) as {
    LoadBalancers: BotoBalancer[];
  };
  if (LoadBalancers.length === 0) return [];
  const { TagDescriptions } = await t.boto.call('elbv2', 'DescribeTags', {
    ResourceArns: LoadBalancers.map((b) => b.LoadBalancerArn),
  });
  const tags = new Map<string, Record<string, string>>(
    (TagDescriptions as { ResourceArn: string; Tags: { Key: string; Value: string }[] }[]).map((d) => [
      d.ResourceArn,
      Object.fromEntries(d.Tags.map((x) => [x.Key, x.Value])),
    ]),
  );
  return LoadBalancers.map((b) => ({ ...b, tags: tags.get(b.LoadBalancerArn) ?? {} })).filter(
    (b) => b.tags['touchdown:stack'] === STACK,
  );
}

async function attributesOf(arn: string): Promise<Record<string, string>> {
  const { Attributes } = await t.boto.call('elbv2', 'DescribeLoadBalancerAttributes', {
    LoadBalancerArn: arn,
  });
  return Object.fromEntries((Attributes as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]));
}

async function groupId(name: string): Promise<string> {
  const { SecurityGroups } = await t.boto.call('ec2', 'DescribeSecurityGroups', {
    Filters: [{ Name: 'tag:touchdown:resource', Values: [`security-group.net/${name}`] }],
  });
  return SecurityGroups[0].GroupId;
}

describe('load balancer', () => {
  it('is created with its tags and attributes, is found in batched calls, and re-plans to no changes', async () => {
    const plan = await t.apply(stack({ tags: { team: 'web' } }));
    assert.equal(actions(plan)['load-balancer.web'], 'create');
    const [lb, ...others] = await stackBalancers();
    assert.equal(others.length, 0);
    assert.equal(lb!.LoadBalancerName, 'lb-test-web');
    assert.equal(lb!.Type, 'application');
    assert.equal(lb!.Scheme, 'internet-facing');
    assert.deepEqual(lb!.tags, {
      'touchdown:stack': STACK,
      'touchdown:resource': 'load-balancer.web',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assert.deepEqual(lb!.AvailabilityZones.map((z) => z.ZoneName).sort(), ['us-east-1a', 'us-east-1b']);
    assert.deepEqual(lb!.SecurityGroups, [await groupId('lb')]);
    const attrs = await attributesOf(lb!.LoadBalancerArn);
    assert.equal(attrs['idle_timeout.timeout_seconds'], '60');
    assert.equal(attrs['routing.http.drop_invalid_header_fields.enabled'], 'true');
    assert.equal(attrs['deletion_protection.enabled'], 'false');
    assert.equal(attrs['access_logs.s3.enabled'], 'false');

    // Outputs a Route53 alias needs.
    const engine = t.engine(stack({ tags: { team: 'web' } }));
    const { plan: again, world } = await engine.plan();
    assertNoChanges(again);
    const outputs = world.found.get('load-balancer.web')!.found.outputs as Record<string, string>;
    assert.equal(outputs.dnsName, lb!.DNSName);
    assert.equal(outputs.arn, lb!.LoadBalancerArn);
    assert.match(outputs.arnSuffix!, /^app\/lb-test-web\/\w+$/);
    assert.ok(outputs.canonicalHostedZoneId);
  });

  it('is found with one DescribeLoadBalancers and one DescribeTags for several load balancers', async () => {
    const build = () => {
      const aws = new AwsStack(STACK);
      const net = network(aws);
      for (const name of ['web', 'admin', 'api']) {
        aws.add(LoadBalancer, { name, subnetIds: net.subnetIds, securityGroupIds: [net.lbGroup.id] });
      }
      return aws;
    };
    await t.apply(build());
    const clients = t.aws.clients();
    assertNoChanges((await t.engine(build(), { aws: clients }).plan()).plan);
    const calls = clients.calls.filter((c) => c.service === 'elbv2');
    const count = (op: string) => calls.filter((c) => c.operation === op).length;
    assert.equal(count('DescribeLoadBalancers'), 1);
    assert.equal(count('DescribeTags'), 1);
    assert.equal(count('DescribeLoadBalancerAttributes'), 3, 'attributes have no batched read');
  });

  it('updates attributes, security groups and tags in place', async () => {
    await t.apply(stack());
    const [before] = await stackBalancers();
    const changed = stack(
      {
        idleTimeoutSeconds: 120,
        dropInvalidHeaderFields: false,
        accessLogs: { bucket: 'lb-test-logs', prefix: 'web' },
        tags: { env: 'prod' },
      },
      { useOtherGroup: true },
    );
    const plan = await t.plan(changed);
    assert.equal(actions(plan)['load-balancer.web'], 'update');
    await t.apply(changed);
    const [after] = await stackBalancers();
    assert.equal(after!.LoadBalancerArn, before!.LoadBalancerArn);
    assert.deepEqual(after!.SecurityGroups, [await groupId('other')]);
    assert.equal(after!.tags.env, 'prod');
    const attrs = await attributesOf(after!.LoadBalancerArn);
    assert.equal(attrs['idle_timeout.timeout_seconds'], '120');
    assert.equal(attrs['routing.http.drop_invalid_header_fields.enabled'], 'false');
    assert.equal(attrs['access_logs.s3.enabled'], 'true');
    assert.equal(attrs['access_logs.s3.bucket'], 'lb-test-logs');
    assert.equal(attrs['access_logs.s3.prefix'], 'web');
    assertNoChanges(await t.plan(changed));

    // Leaving access logs out turns them off again.
    await t.apply(stack());
    assert.equal((await attributesOf(after!.LoadBalancerArn))['access_logs.s3.enabled'], 'false');
  });

  it('is replaced when its scheme changes, and the plan says why', async () => {
    await t.apply(stack());
    const [before] = await stackBalancers();
    const plan = await t.plan(stack({ scheme: 'internal' }));
    const change = plan.resources.find((r) => r.address === 'load-balancer.web')!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['scheme']);
    await t.apply(stack({ scheme: 'internal' }));
    const after = await stackBalancers();
    assert.equal(after.length, 1);
    assert.notEqual(after[0]!.LoadBalancerArn, before!.LoadBalancerArn);
    assert.equal(after[0]!.Scheme, 'internal');
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(stack());
    const [lb] = await stackBalancers();
    await t.boto.call('elbv2', 'DeleteLoadBalancer', { LoadBalancerArn: lb!.LoadBalancerArn });
    assert.equal(actions(await t.plan(stack()))['load-balancer.web'], 'create');
    await t.apply(stack());
    assert.equal((await stackBalancers()).length, 1);
  });

  it('is put back after an attribute is changed outside Touchdown', async () => {
    await t.apply(stack());
    const [lb] = await stackBalancers();
    await t.boto.call('elbv2', 'ModifyLoadBalancerAttributes', {
      LoadBalancerArn: lb!.LoadBalancerArn,
      Attributes: [{ Key: 'idle_timeout.timeout_seconds', Value: '300' }],
    });
    const plan = await t.plan(stack());
    const change = plan.resources.find((r) => r.address === 'load-balancer.web')!;
    assert.deepEqual(change.changes, [{ name: 'idleTimeoutSeconds', before: 300, after: 60 }]);
    await t.apply(stack());
    assert.equal((await attributesOf(lb!.LoadBalancerArn))['idle_timeout.timeout_seconds'], '60');
  });

  it('is deleted by destroy', async () => {
    await t.apply(stack());
    const plan = await t.destroy(stack());
    assert.equal(actions(plan)['load-balancer.web'], 'delete');
    assert.equal((await stackBalancers()).length, 0);
  });
});

/** Makes DescribeLoadBalancers report this state, as AWS does for minutes after a create. */
async function holdIn(aws: AwsClients, state: { Code: string; Reason?: string }): Promise<void> {
  const elbv2 = await aws.elbv2();
  type Answer = { output: { LoadBalancers?: { State?: unknown }[] } };
  elbv2.middlewareStack.add(
    (next, context) => async (args) => {
      const answer = (await next(args)) as Answer;
      if (context.commandName === 'DescribeLoadBalancersCommand')
        for (const b of answer.output.LoadBalancers ?? []) b.State = state;
      return answer as never;
    },
    { step: 'initialize', name: 'holdLoadBalancerState' },
  );
}

describe('load balancer waits', () => {
  // The local AWS turns a new load balancer active on the first Describe, so it cannot be held in
  // 'provisioning' there: these tests rewrite DescribeLoadBalancers' answers in the client instead.
  const quick = { initialDelayMs: 20, maxDelayMs: 100, defaultTimeoutMs: 30_000, timeoutFactor: 0.0005 };

  it('times out with the state it was stuck in while AWS keeps it provisioning', async () => {
    const aws = t.aws.clients();
    await holdIn(aws, { Code: 'provisioning' });
    const { report } = await t.engine(stack(), { aws, timing: quick }).apply();
    assert.equal(report!.failed.length, 1);
    const [failure] = report!.failed;
    assert.equal(failure!.address, 'load-balancer.web');
    assert.match(
      failure!.error!,
      /^waiting for load balancer "web": gave up waiting for load balancer "web" to become active after .*; it was still "provisioning"\. AWS usually needs 2 to 5 minutes/,
    );
  });

  it('fails with AWS reason when the load balancer lands in the failed state', async () => {
    const aws = t.aws.clients();
    await holdIn(aws, { Code: 'failed', Reason: 'insufficient capacity in us-east-1a' });
    const { report } = await t.engine(stack(), { aws, timing: quick }).apply();
    assert.match(
      report!.failed[0]!.error!,
      /creating load balancer "web": it failed to provision: insufficient capacity in us-east-1a/,
    );
  });
});

describe('the seed architecture', () => {
  it('puts an ALB in two public subnets with an HTTPS listener, an HTTP redirect and a path rule', async () => {
    const { CertificateArn: certificateArn } = await t.boto.call('acm', 'RequestCertificate', {
      DomainName: 'xkcd.example.com',
      ValidationMethod: 'DNS',
    });
    const build = () => {
      const aws = new AwsStack(STACK);
      const net = network(aws);
      const lb = aws.add(LoadBalancer, {
        name: 'web',
        subnetIds: net.subnetIds,
        securityGroupIds: [net.lbGroup.id],
      });
      const web = aws.add(TargetGroup, { name: 'web', vpcId: net.vpc.id, port: 8000 });
      const api = aws.add(TargetGroup, {
        name: 'api',
        vpcId: net.vpc.id,
        port: 8001,
        healthCheck: { path: '/api/health' },
      });
      aws.add(Listener, {
        name: 'http',
        loadBalancerArn: lb.arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: { redirectToHttps: true },
      });
      const https = aws.add(Listener, {
        name: 'https',
        loadBalancerArn: lb.arn,
        port: 443,
        protocol: 'HTTPS',
        certificateArn,
        defaultAction: { forward: web.arn },
      });
      aws.add(ListenerRule, {
        name: 'api',
        listenerArn: https.arn,
        priority: 10,
        conditions: { pathPatterns: ['/api/*'] },
        targetGroupArn: api.arn,
      });
      return aws;
    };
    await t.apply(build());

    const [lb] = await stackBalancers();
    assert.deepEqual(lb!.AvailabilityZones.map((z) => z.ZoneName).sort(), ['us-east-1a', 'us-east-1b']);
    const { TargetGroups } = await t.boto.call('elbv2', 'DescribeTargetGroups');
    const group = (name: string) =>
      (TargetGroups as { TargetGroupName: string; TargetGroupArn: string }[]).find(
        (g) => g.TargetGroupName === `lb-test-${name}`,
      )!.TargetGroupArn;
    const { Attributes } = await t.boto.call('elbv2', 'DescribeTargetGroupAttributes', {
      TargetGroupArn: group('web'),
    });
    assert.ok(
      (Attributes as { Key: string; Value: string }[]).some(
        (a) => a.Key === 'deregistration_delay.timeout_seconds' && a.Value === '30',
      ),
    );

    const { Listeners } = await t.boto.call('elbv2', 'DescribeListeners', {
      LoadBalancerArn: lb!.LoadBalancerArn,
    });
    interface BotoListener {
      ListenerArn: string;
      Port: number;
      Protocol: string;
      SslPolicy?: string;
      Certificates?: { CertificateArn: string }[];
      DefaultActions: { Type: string; TargetGroupArn?: string; RedirectConfig?: Record<string, string> }[];
    }
    const byPort = new Map((Listeners as BotoListener[]).map((l) => [l.Port, l]));
    const http = byPort.get(80)!;
    assert.equal(http.Protocol, 'HTTP');
    assert.equal(http.DefaultActions[0]!.Type, 'redirect');
    assert.equal(http.DefaultActions[0]!.RedirectConfig!.Protocol, 'HTTPS');
    assert.equal(http.DefaultActions[0]!.RedirectConfig!.Port, '443');
    assert.equal(http.DefaultActions[0]!.RedirectConfig!.StatusCode, 'HTTP_301');
    const https = byPort.get(443)!;
    assert.equal(https.Protocol, 'HTTPS');
    assert.equal(https.SslPolicy, 'ELBSecurityPolicy-TLS13-1-2-2021-06');
    assert.equal(https.Certificates![0]!.CertificateArn, certificateArn);
    assert.equal(https.DefaultActions[0]!.TargetGroupArn, group('web'));

    const { Rules } = await t.boto.call('elbv2', 'DescribeRules', { ListenerArn: https.ListenerArn });
    const rule = (
      Rules as { IsDefault: boolean; Priority: string; Conditions: unknown[]; Actions: unknown[] }[]
    ).find((r) => !r.IsDefault)!;
    assert.equal(rule.Priority, '10');
    assert.deepEqual(rule.Conditions, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }]);
    assert.equal((rule.Actions[0] as { TargetGroupArn: string }).TargetGroupArn, group('api'));

    assertNoChanges(await t.plan(build()));
    await t.destroy(build());
    assert.equal((await stackBalancers()).length, 0);
    assert.deepEqual((await t.boto.call('elbv2', 'DescribeTargetGroups')).TargetGroups, []);
  });
});
