import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { AwsStack } from '../stack.js';
import { SecurityGroup } from './security-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'secgroup-test';
const LB = 'security-group.main/lb';
const APP = 'security-group.main/app';

type Rules = ArgsInput<typeof SecurityGroup.fields>['ingress'];
const HTTPS: NonNullable<Rules> = [
  { protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', description: 'https' },
];

/** A load balancer's group open to the world, and an app's group open to the load balancer's. */
function network(
  lb: { description?: string; ingress?: Rules; egress?: Rules; tags?: Record<string, string> } = {},
) {
  const aws = new AwsStack(STACK);
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
  const lbGroup = aws.add(SecurityGroup, { name: 'lb', vpcId: vpc.id, ingress: HTTPS, ...lb }, vpc);
  aws.add(
    SecurityGroup,
    {
      name: 'app',
      vpcId: vpc.id,
      ingress: [{ protocol: 'tcp', fromPort: 8000, toPort: 8000, sourceSecurityGroupId: lbGroup.id }],
    },
    vpc,
  );
  return aws;
}

interface BotoGroup {
  GroupId: string;
  GroupName: string;
  Description: string;
  VpcId: string;
  Tags: { Key: string; Value: string }[];
}

async function groups(stack = STACK): Promise<Record<string, BotoGroup>> {
  const { SecurityGroups } = await t.boto.call('ec2', 'DescribeSecurityGroups', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: [stack] }],
  });
  return Object.fromEntries(
    (SecurityGroups as BotoGroup[]).map((g) => [
      g.Tags.find((x) => x.Key === 'touchdown:resource')!.Value,
      g,
    ]),
  );
}

/** A group's rules as boto3 reads them, one line each, sorted. */
async function rules(groupId: string): Promise<string[]> {
  const { SecurityGroupRules } = await t.boto.call('ec2', 'DescribeSecurityGroupRules', {
    Filters: [{ Name: 'group-id', Values: [groupId] }],
  });
  return (
    SecurityGroupRules as {
      IsEgress: boolean;
      IpProtocol: string;
      FromPort: number;
      ToPort: number;
      CidrIpv4?: string;
      ReferencedGroupInfo?: { GroupId: string };
      Description?: string;
    }[]
  )
    .map((r) =>
      [
        r.IsEgress ? 'out' : 'in',
        r.IpProtocol,
        `${r.FromPort}-${r.ToPort}`,
        r.CidrIpv4 ?? r.ReferencedGroupInfo?.GroupId,
        r.Description ?? '',
      ]
        .join(' ')
        .trim(),
    )
    .sort();
}

describe('SecurityGroup', () => {
  it('is created with its rules, a reference to another group and tags; a second plan shows no changes', async () => {
    const plan = await t.apply(network({ tags: { tier: 'lb' } }));
    assert.equal(actions(plan)[LB], 'create');
    assert.equal(actions(plan)[APP], 'create');
    const { [LB]: lb, [APP]: app, ...others } = await groups();
    assert.deepEqual(others, {});
    assert.equal(lb!.GroupName, `${STACK}-main-lb`);
    assert.equal(lb!.Description, 'Managed by Touchdown');
    assert.equal(lb!.VpcId, app!.VpcId);
    assert.deepEqual(await rules(lb!.GroupId), ['in tcp 443-443 0.0.0.0/0 https', 'out -1 -1--1 0.0.0.0/0']);
    assert.deepEqual(await rules(app!.GroupId), [
      `in tcp 8000-8000 ${lb!.GroupId}`,
      'out -1 -1--1 0.0.0.0/0',
    ]);
    assert.deepEqual(Object.fromEntries(lb!.Tags.map((x) => [x.Key, x.Value])), {
      'touchdown:stack': STACK,
      'touchdown:resource': LB,
      'touchdown:region': 'us-east-1',
      Name: 'main-lb',
      tier: 'lb',
    });
    assertNoChanges(await t.plan(network({ tags: { tier: 'lb' } })));
  });

  it('keeps the description of a rule citing another group (a second plan shows no changes)', async () => {
    const described = () => {
      const aws = new AwsStack(STACK);
      const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
      const lb = vpc.addSecurityGroup({ name: 'lb', ingress: HTTPS });
      const rule = { protocol: 'tcp' as const, fromPort: 8000, toPort: 8000, sourceSecurityGroupId: lb.id };
      vpc.addSecurityGroup({ name: 'app', ingress: [{ ...rule, description: 'gunicorn' }] });
      return aws;
    };
    await t.apply(described());
    const { [APP]: app } = await groups();
    // DescribeSecurityGroups, not DescribeSecurityGroupRules: moto drops descriptions of group-citing rules there.
    const pair = (app as unknown as { IpPermissions: { UserIdGroupPairs: { Description?: string }[] }[] })
      .IpPermissions[0]!.UserIdGroupPairs[0]!;
    assert.equal(pair.Description, 'gunicorn');
    assertNoChanges(await t.plan(described()));
  });

  it('rejects rules without ports or a source, and repeated rules, before calling AWS', () => {
    const declare = (ingress: Rules) => {
      const aws = new AwsStack(STACK);
      aws.add(SecurityGroup, { name: 'x', vpcId: 'vpc-1', ingress });
      return () => aws.check();
    };
    assert.throws(declare([{ protocol: 'tcp', cidrIpv4: '0.0.0.0/0' }]), /needs fromPort and toPort/);
    assert.throws(declare([{ protocol: 'tcp', fromPort: 80, toPort: 80 }]), /exactly one of/);
    assert.throws(declare([...HTTPS, { ...HTTPS[0]!, description: 'again' }]), /ingress\.1: repeats rule 0/);
  });

  it('authorizes and revokes the difference in place, in and out', async () => {
    await t.apply(network());
    const before = (await groups())[LB]!;
    const changed = network({
      ingress: [
        { protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', description: 'TLS' },
        { protocol: 'tcp', fromPort: 80, toPort: 80, cidrIpv4: '0.0.0.0/0' },
      ],
      egress: [{ protocol: 'tcp', fromPort: 8000, toPort: 8000, cidrIpv4: '10.1.0.0/16' }],
    });
    const plan = await t.plan(changed);
    assert.equal(actions(plan)[LB], 'update');
    await t.apply(changed);
    const after = (await groups())[LB]!;
    assert.equal(after.GroupId, before.GroupId);
    assert.deepEqual(await rules(after.GroupId), [
      'in tcp 443-443 0.0.0.0/0 TLS',
      'in tcp 80-80 0.0.0.0/0',
      'out tcp 8000-8000 10.1.0.0/16',
    ]);
    assertNoChanges(await t.plan(changed));
  });

  it('is replaced when its description changes, and groups citing it follow', async () => {
    await t.apply(network());
    const before = (await groups())[LB]!;
    const plan = await t.plan(network({ description: 'Load balancer' }));
    const change = plan.resources.find((r) => r.address === LB)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['description']);
    assert.equal(actions(plan)[APP], 'update');
    await t.apply(network({ description: 'Load balancer' }));
    const { [LB]: lb, [APP]: app } = await groups();
    assert.notEqual(lb!.GroupId, before.GroupId);
    assert.equal(lb!.Description, 'Load balancer');
    assert.deepEqual(await rules(app!.GroupId), [
      `in tcp 8000-8000 ${lb!.GroupId}`,
      'out -1 -1--1 0.0.0.0/0',
    ]);
    assert.equal(
      await t.boto.errorOf('ec2', 'DescribeSecurityGroups', { GroupIds: [before.GroupId] }),
      'InvalidGroup.NotFound',
    );
    assertNoChanges(await t.plan(network({ description: 'Load balancer' })));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(network());
    const app = (await groups())[APP]!;
    await t.boto.call('ec2', 'DeleteSecurityGroup', { GroupId: app.GroupId });
    assert.equal(actions(await t.plan(network()))[APP], 'create');
    await t.apply(network());
    const again = (await groups())[APP]!;
    assert.notEqual(again.GroupId, app.GroupId);
    assert.equal((await rules(again.GroupId)).length, 2);
  });

  it('gets its rules back after they are changed outside Touchdown', async () => {
    await t.apply(network());
    const lb = (await groups())[LB]!;
    await t.boto.call('ec2', 'RevokeSecurityGroupIngress', {
      GroupId: lb.GroupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    await t.boto.call('ec2', 'AuthorizeSecurityGroupIngress', {
      GroupId: lb.GroupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    });
    const plan = await t.plan(network());
    assert.deepEqual(plan.resources.find((r) => r.address === LB)!.changes, [
      {
        name: 'ingress',
        before: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }],
        after: HTTPS,
      },
    ]);
    await t.apply(network());
    assert.deepEqual(await rules(lb.GroupId), ['in tcp 443-443 0.0.0.0/0 https', 'out -1 -1--1 0.0.0.0/0']);
  });

  it('is deleted by destroy', async () => {
    await t.apply(network());
    const plan = await t.destroy(network());
    assert.equal(actions(plan)[LB], 'delete');
    assert.equal(actions(plan)[APP], 'delete');
    assert.deepEqual(await groups(), {});
  });

  it('handles two groups whose rules cite each other: apply, no changes, destroy', async () => {
    // A reference in both directions would be a cycle, so the second direction is written as an id.
    const pair = (appId?: string) => {
      const aws = new AwsStack('pair-test');
      const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
      const db = aws.add(
        SecurityGroup,
        {
          name: 'db',
          vpcId: vpc.id,
          ingress: appId
            ? [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, sourceSecurityGroupId: appId }]
            : [],
        },
        vpc,
      );
      aws.add(
        SecurityGroup,
        {
          name: 'app',
          vpcId: vpc.id,
          ingress: [{ protocol: '-1', sourceSecurityGroupId: db.id }],
          egress: [{ protocol: 'tcp', fromPort: 5432, toPort: 5432, sourceSecurityGroupId: db.id }],
        },
        vpc,
      );
      return aws;
    };
    await t.apply(pair());
    const appId = (await groups('pair-test'))[APP]!.GroupId;
    await t.apply(pair(appId));
    const { [APP]: app, 'security-group.main/db': db } = await groups('pair-test');
    assert.deepEqual(await rules(db!.GroupId), [`in tcp 5432-5432 ${appId}`, 'out -1 -1--1 0.0.0.0/0']);
    assert.deepEqual(await rules(app!.GroupId), [
      `in -1 -1--1 ${db!.GroupId}`,
      `out tcp 5432-5432 ${db!.GroupId}`,
    ]);
    assertNoChanges(await t.plan(pair(appId)));
    const aws = t.aws.clients();
    const { report } = await t.engine(pair(appId), { aws }).destroy();
    assert.deepEqual(report?.failed ?? [], []);
    assert.deepEqual(await groups('pair-test'), {});
    // AWS refuses to delete a group another one cites (moto does not check): the three rules
    // citing across go before the first group does.
    const ops = aws.calls.map((c) => c.operation);
    const firstDelete = ops.indexOf('DeleteSecurityGroup');
    assert.equal(ops.slice(0, firstDelete).filter((op) => op.startsWith('RevokeSecurityGroup')).length, 3);
  });
});
