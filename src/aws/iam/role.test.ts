import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { interpolate } from '../../core/ref.js';
import type { Stack } from '../../core/stack.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { Role } from './role.js';

// The test attaches an AWS managed policy: the local AWS has them all, as every AWS account does.
const t = useLocalAws({ declaredTypesOnly: true });

const trust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';

interface Options {
  path?: string;
  description?: string;
  maxSessionDuration?: number;
  managedPolicyArns?: string[];
  extraPolicy?: boolean;
  tags?: Record<string, string>;
}

/** Seed 000's app role, whose inline policy names the deployer role and a bucket derived from it. */
function roles(o: Options = {}) {
  const aws = new AwsStack('role-test');
  const deployer = aws.add(Role, { name: 'radpress-deployer', assumeRolePolicy: trust });
  const app = {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['iam:PassRole'], Resource: deployer.arn },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: [interpolate`arn:aws:s3:::${deployer.name}-media/*`],
      },
    ],
  };
  const policies: Record<string, Record<string, unknown>> = { app };
  if (o.extraPolicy) {
    policies.logs = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'logs:*', Resource: '*' }],
    };
  }
  aws.add(Role, {
    name: 'radpress-app',
    path: o.path,
    assumeRolePolicy: trust,
    policies,
    managedPolicyArns: o.managedPolicyArns ?? [READ_ONLY],
    description: o.description ?? 'radpress application servers',
    maxSessionDuration: o.maxSessionDuration,
    tags: o.tags ?? { team: 'web' },
  });
  return aws;
}

// The shared registry does not list Role yet; destroy finds only the types it is given.
async function destroy(stack: Stack) {
  const { plan, report } = await t.engine(stack, { registry: [...resourceTypes, Role] }).destroy();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

async function getRole(name: string) {
  const r = await t.boto.call('iam', 'GetRole', { RoleName: name }).catch(() => undefined);
  return r?.Role as
    | {
        RoleId: string;
        Path: string;
        Arn: string;
        Description?: string;
        MaxSessionDuration: number;
        Tags?: { Key: string; Value: string }[];
      }
    | undefined;
}

async function inlinePolicy(role: string, name: string) {
  const r = await t.boto.call('iam', 'GetRolePolicy', { RoleName: role, PolicyName: name });
  return r.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] };
}

async function managed(role: string): Promise<string[]> {
  const r = await t.boto.call('iam', 'ListAttachedRolePolicies', { RoleName: role });
  return (r.AttachedPolicies as { PolicyArn: string }[]).map((p) => p.PolicyArn);
}

describe('IAM role', () => {
  it('is created with its tags, policies and managed policy; a second plan shows no changes', async () => {
    const plan = await t.apply(roles());
    assert.equal(actions(plan)['role.radpress-app'], 'create');
    const app = await getRole('radpress-app-us-east-1');
    const deployer = await getRole('radpress-deployer-us-east-1');
    const tags = Object.fromEntries((app!.Tags ?? []).map((x) => [x.Key, x.Value]));
    assert.deepEqual(tags, {
      'touchdown:stack': 'role-test',
      'touchdown:resource': 'role.radpress-app',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assert.equal(app!.Description, 'radpress application servers');
    assert.equal(app!.MaxSessionDuration, 3600);
    // The references inside the policy document were resolved before it reached IAM.
    const doc = await inlinePolicy('radpress-app-us-east-1', 'app');
    assert.equal(doc.Statement[0]!.Resource, deployer!.Arn);
    assert.deepEqual(doc.Statement[1]!.Resource, ['arn:aws:s3:::radpress-deployer-us-east-1-media/*']);
    assert.deepEqual(await managed('radpress-app-us-east-1'), [READ_ONLY]);
    assertNoChanges(await t.plan(roles()));
  });

  it('reads the stack in one list, one GetRole per role and its policy calls', async () => {
    await t.apply(roles());
    // Only the role type is looked for here (no registry), so the count is the role finder's alone.
    const { plan } = await t.engine(roles(), { registry: [] }).plan();
    // ListRoles + 2 × GetRole + 2 × (ListRolePolicies + ListAttachedRolePolicies) + 1 GetRolePolicy.
    assert.equal(plan.apiCalls, 1 + 2 + 4 + 1);
  });

  it('updates policies, description, session length, managed policies and tags in place', async () => {
    await t.apply(roles());
    const before = await getRole('radpress-app-us-east-1');
    const changed = {
      description: 'app servers',
      maxSessionDuration: 7200,
      managedPolicyArns: [],
      extraPolicy: true,
      tags: { team: 'platform' },
    };
    const plan = await t.plan(roles(changed));
    assert.equal(actions(plan)['role.radpress-app'], 'update');
    await t.apply(roles(changed));
    const after = await getRole('radpress-app-us-east-1');
    assert.equal(after!.RoleId, before!.RoleId);
    assert.equal(after!.Description, 'app servers');
    assert.equal(after!.MaxSessionDuration, 7200);
    assert.deepEqual(await managed('radpress-app-us-east-1'), []);
    assert.deepEqual((await inlinePolicy('radpress-app-us-east-1', 'logs')).Statement[0]!.Action, 'logs:*');
    assert.ok(after!.Tags?.some((x) => x.Key === 'team' && x.Value === 'platform'));
    assertNoChanges(await t.plan(roles(changed)));
  });

  it('is replaced when its path changes, and the plan says why', async () => {
    await t.apply(roles());
    const before = await getRole('radpress-app-us-east-1');
    const plan = await t.plan(roles({ path: '/apps/' }));
    const change = plan.resources.find((r) => r.address === 'role.radpress-app')!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['path']);
    await t.apply(roles({ path: '/apps/' }));
    const after = await getRole('radpress-app-us-east-1');
    assert.equal(after!.Path, '/apps/');
    assert.notEqual(after!.RoleId, before!.RoleId);
    assert.deepEqual(await managed('radpress-app-us-east-1'), [READ_ONLY]);
    assertNoChanges(await t.plan(roles({ path: '/apps/' })));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(roles());
    await t.boto.call('iam', 'DetachRolePolicy', {
      RoleName: 'radpress-app-us-east-1',
      PolicyArn: READ_ONLY,
    });
    await t.boto.call('iam', 'DeleteRolePolicy', { RoleName: 'radpress-app-us-east-1', PolicyName: 'app' });
    await t.boto.call('iam', 'DeleteRole', { RoleName: 'radpress-app-us-east-1' });
    assert.equal(actions(await t.plan(roles()))['role.radpress-app'], 'create');
    await t.apply(roles());
    assert.ok(await getRole('radpress-app-us-east-1'));
    assert.deepEqual(await managed('radpress-app-us-east-1'), [READ_ONLY]);
  });

  it('is put back after its settings and an inline policy are changed outside Touchdown', async () => {
    await t.apply(roles());
    // moto's UpdateRole clears a description it is not given, so it is passed as it was.
    await t.boto.call('iam', 'UpdateRole', {
      RoleName: 'radpress-app-us-east-1',
      Description: 'radpress application servers',
      MaxSessionDuration: 7200,
    });
    await t.boto.call('iam', 'DeleteRolePolicy', { RoleName: 'radpress-app-us-east-1', PolicyName: 'app' });
    const plan = await t.plan(roles());
    const change = plan.resources.find((r) => r.address === 'role.radpress-app')!;
    assert.equal(change.action, 'update');
    assert.deepEqual(
      change.changes.map((c) => c.name),
      ['policies', 'maxSessionDuration'],
    );
    assert.deepEqual(
      change.changes.find((c) => c.name === 'maxSessionDuration'),
      { name: 'maxSessionDuration', before: 7200, after: 3600 },
    );
    await t.apply(roles());
    assert.equal((await getRole('radpress-app-us-east-1'))!.MaxSessionDuration, 3600);
    assert.ok(await inlinePolicy('radpress-app-us-east-1', 'app'));
    assertNoChanges(await t.plan(roles()));
  });

  it('is deleted by destroy, policies and instance profiles outside the stack let go first', async () => {
    await t.apply(roles());
    await t.boto.call('iam', 'CreateInstanceProfile', { InstanceProfileName: 'elsewhere' });
    await t.boto.call('iam', 'AddRoleToInstanceProfile', {
      InstanceProfileName: 'elsewhere',
      RoleName: 'radpress-app-us-east-1',
    });
    const plan = await destroy(roles());
    assert.equal(actions(plan)['role.radpress-app'], 'delete');
    const { Roles } = await t.boto.call('iam', 'ListRoles', {});
    assert.deepEqual(Roles, []);
    const { InstanceProfile } = await t.boto.call('iam', 'GetInstanceProfile', {
      InstanceProfileName: 'elsewhere',
    });
    assert.deepEqual(InstanceProfile.Roles, []);
  });

  it('refuses a name IAM would refuse, before calling AWS', async () => {
    const aws = new AwsStack('role-test');
    aws.add(Role, { name: 'radpress app!', assumeRolePolicy: trust });
    await assert.rejects(t.plan(aws), /letters, digits and \+=,\.@_- only/);
  });
});
