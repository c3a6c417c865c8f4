import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import type { ConfigError } from '../../core/errors.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { Listener } from './listener.js';
import { LoadBalancer } from './load-balancer.js';
import { TargetGroup } from './target-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'listener-test';

type ListenerArgs = Partial<ArgsInput<typeof Listener.fields>>;

/** A VPC with two public subnets, two load balancers and two target groups. */
function base(name = STACK) {
  const aws = new AwsStack(name);
  const vpc = aws.addVpc({ name: 'net', cidrBlock: '10.0.0.0/16' });
  vpc.addInternetGateway({ name: 'igw' });
  const a = vpc.addSubnet({ name: 'a', cidrBlock: '10.0.0.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'b', cidrBlock: '10.0.1.0/24', availabilityZone: 'us-east-1b' });
  const sg = vpc.addSecurityGroup({ name: 'lb' });
  const balancer = (n: string) =>
    aws.add(LoadBalancer, { name: n, subnetIds: [a.id, b.id], securityGroupIds: [sg.id] });
  const group = (n: string) => aws.add(TargetGroup, { name: n, vpcId: vpc.id, port: 8000 });
  return { aws, web: balancer('web'), admin: balancer('admin'), app: group('app'), other: group('other') };
}

/** One listener; `balancer` and `forwardTo` pick which of the base resources it uses. */
function stack(
  args: ListenerArgs = {},
  { balancer = 'web', forwardTo = 'app' }: { balancer?: 'web' | 'admin'; forwardTo?: 'app' | 'other' } = {},
) {
  const b = base();
  b.aws.add(Listener, {
    name: 'http',
    loadBalancerArn: b[balancer].arn,
    port: 80,
    protocol: 'HTTP',
    defaultAction: { forward: b[forwardTo].arn },
    ...args,
  });
  return b.aws;
}

interface BotoListener {
  ListenerArn: string;
  LoadBalancerArn: string;
  Port: number;
  Protocol: string;
  SslPolicy?: string;
  Certificates?: { CertificateArn: string }[];
  DefaultActions: {
    Type: string;
    TargetGroupArn?: string;
    FixedResponseConfig?: { StatusCode: string; MessageBody?: string; ContentType?: string };
  }[];
}

async function balancerArn(name: string): Promise<string> {
  const { LoadBalancers } = await t.boto.call('elbv2', 'DescribeLoadBalancers', {
    Names: [`${STACK}-${name}`],
  });
  return LoadBalancers[0].LoadBalancerArn;
}

async function groupArn(name: string): Promise<string> {
  const { TargetGroups } = await t.boto.call('elbv2', 'DescribeTargetGroups', {
    Names: [`${STACK}-${name}`],
  });
  return TargetGroups[0].TargetGroupArn;
}

/** Every listener of every load balancer, with its tags, as boto3 sees them. */
async function allListeners() {
  const { LoadBalancers } = await t.boto.call('elbv2', 'DescribeLoadBalancers');
  const out = [];
  for (const b of LoadBalancers as { LoadBalancerArn: string }[]) {
    const { Listeners } = await t.boto.call('elbv2', 'DescribeListeners', {
      LoadBalancerArn: b.LoadBalancerArn,
    });
    for (const l of Listeners as BotoListener[]) {
      const { TagDescriptions } = await t.boto.call('elbv2', 'DescribeTags', {
        ResourceArns: [l.ListenerArn],
      });
      const tags = Object.fromEntries(
        (TagDescriptions[0].Tags as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]),
      );
      out.push({ ...l, tags });
    }
  }
  return out;
}

async function certificate(): Promise<string> {
  const { CertificateArn } = await t.boto.call('acm', 'RequestCertificate', {
    DomainName: 'xkcd.example.com',
    ValidationMethod: 'DNS',
  });
  return CertificateArn;
}

describe('listener', () => {
  it('is created with its tags in the create call, and a second plan shows no changes', async () => {
    const plan = await t.apply(stack({ tags: { team: 'web' } }));
    assert.equal(actions(plan)['listener.http'], 'create');
    const [l, ...others] = await allListeners();
    assert.equal(others.length, 0);
    assert.equal(l!.LoadBalancerArn, await balancerArn('web'));
    assert.equal(l!.Port, 80);
    assert.equal(l!.Protocol, 'HTTP');
    assert.deepEqual(l!.tags, {
      'touchdown:stack': STACK,
      'touchdown:resource': 'listener.http',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assert.equal(l!.DefaultActions[0]!.Type, 'forward');
    assert.equal(l!.DefaultActions[0]!.TargetGroupArn, await groupArn('app'));
    assertNoChanges(await t.plan(stack({ tags: { team: 'web' } })));
  });

  it('updates port, default action, protocol, certificate and tags in place', async () => {
    await t.apply(stack());
    const [before] = await allListeners();
    const maintenance = stack({
      port: 8080,
      defaultAction: { fixedResponse: { status: 503, body: 'Back soon' } },
      tags: { env: 'prod' },
    });
    assert.equal(actions(await t.plan(maintenance))['listener.http'], 'update');
    await t.apply(maintenance);
    const [during] = await allListeners();
    assert.equal(during!.ListenerArn, before!.ListenerArn);
    assert.equal(during!.Port, 8080);
    assert.equal(during!.tags.env, 'prod');
    assert.deepEqual(during!.DefaultActions[0]!.FixedResponseConfig, {
      StatusCode: '503',
      MessageBody: 'Back soon',
      ContentType: 'text/plain',
    });
    assertNoChanges(await t.plan(maintenance));

    const certificateArn = await certificate();
    const https = stack({ port: 443, protocol: 'HTTPS', certificateArn }, { forwardTo: 'other' });
    await t.apply(https);
    const [after] = await allListeners();
    assert.equal(after!.ListenerArn, before!.ListenerArn);
    assert.equal(after!.Protocol, 'HTTPS');
    assert.equal(after!.SslPolicy, 'ELBSecurityPolicy-TLS13-1-2-2021-06');
    assert.equal(after!.Certificates![0]!.CertificateArn, certificateArn);
    assert.equal(after!.DefaultActions[0]!.TargetGroupArn, await groupArn('other'));
    assertNoChanges(await t.plan(https));
  });

  it('is replaced when it moves to another load balancer, and the plan says why', async () => {
    await t.apply(stack());
    const [before] = await allListeners();
    const change = (await t.plan(stack({}, { balancer: 'admin' }))).resources.find(
      (r) => r.address === 'listener.http',
    )!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['loadBalancerArn']);
    await t.apply(stack({}, { balancer: 'admin' }));
    const after = await allListeners();
    assert.equal(after.length, 1);
    assert.notEqual(after[0]!.ListenerArn, before!.ListenerArn);
    assert.equal(after[0]!.LoadBalancerArn, await balancerArn('admin'));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(stack());
    const [l] = await allListeners();
    await t.boto.call('elbv2', 'DeleteListener', { ListenerArn: l!.ListenerArn });
    assert.equal(actions(await t.plan(stack()))['listener.http'], 'create');
    await t.apply(stack());
    assert.equal((await allListeners()).length, 1);
  });

  it('is put back after its default action is changed outside Touchdown', async () => {
    await t.apply(stack());
    const [l] = await allListeners();
    await t.boto.call('elbv2', 'ModifyListener', {
      ListenerArn: l!.ListenerArn,
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
    });
    const change = (await t.plan(stack())).resources.find((r) => r.address === 'listener.http')!;
    assert.deepEqual(change.changes, [
      {
        name: 'defaultAction',
        before: { fixedResponse: { status: 404, contentType: 'text/plain' } },
        after: { forward: await groupArn('app') },
      },
    ]);
    await t.apply(stack());
    const [after] = await allListeners();
    assert.equal(after!.DefaultActions[0]!.TargetGroupArn, await groupArn('app'));
  });

  it('is deleted once no longer declared, and by destroy', async () => {
    await t.apply(stack());
    // Until the registry lists the ELBv2 types, the engine looks for undeclared listeners only when told to.
    const registry = [...resourceTypes, Listener];
    const { plan, report } = await t.engine(base().aws, { registry }).apply();
    assert.deepEqual(report?.failed, []);
    assert.equal(actions(plan)['listener.http'], 'delete');
    assert.equal((await allListeners()).length, 0);

    await t.apply(stack());
    assert.equal(actions(await t.destroy(stack()))['listener.http'], 'delete');
    assert.equal((await allListeners()).length, 0);
  });

  it('is found on a load balancer outside the stack, named by its ARN', async () => {
    await t.apply(base('listener-shared').aws);
    const arn = (await t.boto.call('elbv2', 'DescribeLoadBalancers', { Names: ['listener-shared-web'] }))
      .LoadBalancers[0].LoadBalancerArn as string;
    const own = () => {
      const aws = new AwsStack(STACK);
      aws.add(Listener, {
        name: 'http',
        loadBalancerArn: arn,
        port: 80,
        protocol: 'HTTP',
        defaultAction: { fixedResponse: { status: 404 } },
      });
      return aws;
    };
    await t.apply(own());
    assertNoChanges(await t.plan(own()));
    await t.destroy(own());
    assert.equal((await allListeners()).length, 0);
  });

  it('refuses HTTPS without a certificate', async () => {
    await assert.rejects(t.plan(stack({ protocol: 'HTTPS', port: 443 })), (err: ConfigError) => {
      assert.match(err.message, /certificateArn: an HTTPS listener needs a certificate/);
      return true;
    });
  });
});
