import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { Stack } from '../../core/stack.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { InstanceProfile } from './instance-profile.js';
import { Role } from './role.js';

const t = useLocalAws({ declaredTypesOnly: true });

const trust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** Seed 000's radpress-app pair: the role, and the instance profile that hands it to instances. */
function app(o: { withRole?: boolean; path?: string; tags?: Record<string, string> } = {}) {
  const aws = new AwsStack('profile-test');
  const role = aws.add(Role, { name: 'radpress-app', assumeRolePolicy: trust });
  aws.add(InstanceProfile, {
    name: 'radpress-app',
    path: o.path,
    roles: o.withRole === false ? [] : [role.name],
    tags: o.tags ?? { team: 'web' },
  });
  return aws;
}

// The shared registry does not list these types yet; destroy finds only the types it is given.
async function destroy(stack: Stack) {
  const registry = [...resourceTypes, Role, InstanceProfile];
  const { plan, report } = await t.engine(stack, { registry }).destroy();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

async function getProfile(name = 'radpress-app-us-east-1') {
  const r = await t.boto
    .call('iam', 'GetInstanceProfile', { InstanceProfileName: name })
    .catch(() => undefined);
  return r?.InstanceProfile as
    | {
        InstanceProfileId: string;
        Path: string;
        Roles: { RoleName: string }[];
        Tags?: { Key: string; Value: string }[];
      }
    | undefined;
}

const roleNames = (p: { Roles: { RoleName: string }[] } | undefined) => p?.Roles.map((r) => r.RoleName);

describe('instance profile', () => {
  it('is created with its tags and its role; a second plan shows no changes', async () => {
    const plan = await t.apply(app());
    assert.equal(actions(plan)['instance-profile.radpress-app'], 'create');
    const profile = await getProfile();
    assert.deepEqual(roleNames(profile), ['radpress-app-us-east-1']);
    const tags = Object.fromEntries((profile!.Tags ?? []).map((x) => [x.Key, x.Value]));
    assert.deepEqual(tags, {
      'touchdown:stack': 'profile-test',
      'touchdown:resource': 'instance-profile.radpress-app',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    assertNoChanges(await t.plan(app()));
  });

  it('lets go of its role and changes tags in place, then takes the role back', async () => {
    await t.apply(app());
    const before = await getProfile();
    const plan = await t.plan(app({ withRole: false, tags: { team: 'platform' } }));
    assert.equal(actions(plan)['instance-profile.radpress-app'], 'update');
    await t.apply(app({ withRole: false, tags: { team: 'platform' } }));
    const after = await getProfile();
    assert.equal(after!.InstanceProfileId, before!.InstanceProfileId);
    assert.deepEqual(roleNames(after), []);
    assert.ok(after!.Tags?.some((x) => x.Key === 'team' && x.Value === 'platform'));
    await t.apply(app());
    assert.deepEqual(roleNames(await getProfile()), ['radpress-app-us-east-1']);
  });

  it('is replaced when its path changes, and the plan says why', async () => {
    await t.apply(app());
    const before = await getProfile();
    const plan = await t.plan(app({ path: '/apps/' }));
    const change = plan.resources.find((r) => r.address === 'instance-profile.radpress-app')!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['path']);
    await t.apply(app({ path: '/apps/' }));
    const after = await getProfile();
    assert.equal(after!.Path, '/apps/');
    assert.notEqual(after!.InstanceProfileId, before!.InstanceProfileId);
    assert.deepEqual(roleNames(after), ['radpress-app-us-east-1']);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(app());
    await t.boto.call('iam', 'RemoveRoleFromInstanceProfile', {
      InstanceProfileName: 'radpress-app-us-east-1',
      RoleName: 'radpress-app-us-east-1',
    });
    await t.boto.call('iam', 'DeleteInstanceProfile', { InstanceProfileName: 'radpress-app-us-east-1' });
    assert.equal(actions(await t.plan(app()))['instance-profile.radpress-app'], 'create');
    await t.apply(app());
    assert.deepEqual(roleNames(await getProfile()), ['radpress-app-us-east-1']);
  });

  it('gets its role back after it is removed outside Touchdown', async () => {
    await t.apply(app());
    await t.boto.call('iam', 'RemoveRoleFromInstanceProfile', {
      InstanceProfileName: 'radpress-app-us-east-1',
      RoleName: 'radpress-app-us-east-1',
    });
    const plan = await t.plan(app());
    const change = plan.resources.find((r) => r.address === 'instance-profile.radpress-app')!;
    assert.deepEqual(change.changes, [{ name: 'roles', before: [], after: ['radpress-app-us-east-1'] }]);
    await t.apply(app());
    assert.deepEqual(roleNames(await getProfile()), ['radpress-app-us-east-1']);
  });

  it('is deleted by destroy before its role', async () => {
    await t.apply(app());
    const plan = await destroy(app());
    assert.equal(actions(plan)['instance-profile.radpress-app'], 'delete');
    assert.equal(actions(plan)['role.radpress-app'], 'delete');
    assert.deepEqual((await t.boto.call('iam', 'ListInstanceProfiles', {})).InstanceProfiles, []);
    assert.deepEqual((await t.boto.call('iam', 'ListRoles', {})).Roles, []);
  });

  it('refuses a second role, before calling AWS', async () => {
    const aws = new AwsStack('profile-test');
    const a = aws.add(Role, { name: 'a', assumeRolePolicy: trust });
    const b = aws.add(Role, { name: 'b', assumeRolePolicy: trust });
    aws.add(InstanceProfile, { name: 'both', roles: [a.name, b.name] });
    await assert.rejects(t.plan(aws), /at most one role/);
  });
});
