import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { Stack } from '../../core/stack.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { KmsKey } from './key.js';

const t = useLocalAws({ declaredTypesOnly: true });

const ACCOUNT = '123456789012';
const policyFor = (actions: string | string[]) => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Account',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: actions,
      Resource: '*',
    },
  ],
});

interface Options {
  description?: string;
  enableKeyRotation?: boolean;
  keySpec?: 'SYMMETRIC_DEFAULT' | 'RSA_2048';
  policy?: Record<string, unknown>;
  deletionWindowDays?: number;
  tags?: Record<string, string>;
}

function keys(o: Options = {}) {
  const aws = new AwsStack('key-test');
  aws.add(KmsKey, { name: 'media', tags: { team: 'web' }, ...o });
  return aws;
}

// The shared registry does not list KmsKey yet; destroy finds only the types it is given.
async function destroy(stack: Stack) {
  const { plan, report } = await t.engine(stack, { registry: [...resourceTypes, KmsKey] }).destroy();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

interface Key {
  KeyId: string;
  KeyState: string;
  KeySpec: string;
  Description: string;
  DeletionDate?: string;
}

/** The stack's keys as boto3 sees them, pending deletion included. */
async function stackKeys(): Promise<Key[]> {
  const { ResourceTagMappingList } = await t.boto.call('resourcegroupstaggingapi', 'GetResources', {
    ResourceTypeFilters: ['kms:key'],
    TagFilters: [{ Key: 'touchdown:stack', Values: ['key-test'] }],
  });
  const arns = (ResourceTagMappingList as { ResourceARN: string }[]).map((r) => r.ResourceARN);
  return Promise.all(
    arns.map(async (KeyId) => (await t.boto.call('kms', 'DescribeKey', { KeyId })).KeyMetadata),
  );
}

async function liveKey(): Promise<Key> {
  const live = (await stackKeys()).filter((k) => k.KeyState !== 'PendingDeletion');
  assert.equal(live.length, 1, 'one live key');
  return live[0]!;
}

async function rotation(KeyId: string): Promise<boolean> {
  return (await t.boto.call('kms', 'GetKeyRotationStatus', { KeyId })).KeyRotationEnabled;
}

describe('KMS key', () => {
  it('is created with its tags, rotating; a second plan shows no changes', async () => {
    const plan = await t.apply(keys());
    assert.equal(actions(plan)['kms-key.media'], 'create');
    const key = await liveKey();
    assert.equal(key.Description, 'Managed by Touchdown');
    assert.equal(await rotation(key.KeyId), true);
    const { Tags } = await t.boto.call('kms', 'ListResourceTags', { KeyId: key.KeyId });
    assert.deepEqual(
      Object.fromEntries((Tags as { TagKey: string; TagValue: string }[]).map((x) => [x.TagKey, x.TagValue])),
      {
        'touchdown:stack': 'key-test',
        'touchdown:resource': 'kms-key.media',
        'touchdown:region': 'us-east-1',
        'touchdown:deletion-window-days': '30',
        team: 'web',
      },
    );
    assertNoChanges(await t.plan(keys()));
  });

  it('is created with a key policy, which re-plans to no changes', async () => {
    await t.apply(keys({ policy: policyFor(['kms:*']) }));
    const key = await liveKey();
    const { Policy } = await t.boto.call('kms', 'GetKeyPolicy', { KeyId: key.KeyId, PolicyName: 'default' });
    assert.equal(JSON.parse(Policy).Statement[0].Sid, 'Account');
    assertNoChanges(await t.plan(keys({ policy: policyFor(['kms:*']) })));
  });

  it('updates description, rotation, policy, deletion window and tags in place', async () => {
    await t.apply(keys({ policy: policyFor('kms:*') }));
    const before = await liveKey();
    const changed: Options = {
      description: 'media uploads',
      enableKeyRotation: false,
      policy: policyFor(['kms:Describe*', 'kms:Encrypt', 'kms:Decrypt', 'kms:PutKeyPolicy']),
      deletionWindowDays: 7,
      tags: { team: 'platform' },
    };
    const plan = await t.plan(keys(changed));
    assert.equal(actions(plan)['kms-key.media'], 'update');
    await t.apply(keys(changed));
    const after = await liveKey();
    assert.equal(after.KeyId, before.KeyId);
    assert.equal(after.Description, 'media uploads');
    assert.equal(await rotation(after.KeyId), false);
    const { Policy } = await t.boto.call('kms', 'GetKeyPolicy', {
      KeyId: after.KeyId,
      PolicyName: 'default',
    });
    assert.equal(JSON.parse(Policy).Statement[0].Action.length, 4);
    const { Tags } = await t.boto.call('kms', 'ListResourceTags', { KeyId: after.KeyId });
    const tags = Object.fromEntries(
      (Tags as { TagKey: string; TagValue: string }[]).map((x) => [x.TagKey, x.TagValue]),
    );
    assert.equal(tags.team, 'platform');
    assert.equal(tags['touchdown:deletion-window-days'], '7');
    assertNoChanges(await t.plan(keys(changed)));
  });

  it('is replaced when its key spec changes, and the plan says why', async () => {
    await t.apply(keys());
    const before = await liveKey();
    const rsa: Options = { keySpec: 'RSA_2048', enableKeyRotation: false };
    const plan = await t.plan(keys(rsa));
    const change = plan.resources.find((r) => r.address === 'kms-key.media')!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['keySpec']);
    await t.apply(keys(rsa));
    const after = await liveKey();
    assert.notEqual(after.KeyId, before.KeyId);
    assert.equal(after.KeySpec, 'RSA_2048');
    const old = (await stackKeys()).find((k) => k.KeyId === before.KeyId)!;
    assert.equal(old.KeyState, 'PendingDeletion');
    assertNoChanges(await t.plan(keys(rsa)));
  });

  it('is created again after being scheduled for deletion outside Touchdown', async () => {
    await t.apply(keys());
    const key = await liveKey();
    await t.boto.call('kms', 'ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 });
    assert.equal(actions(await t.plan(keys()))['kms-key.media'], 'create');
    await t.apply(keys());
    assert.notEqual((await liveKey()).KeyId, key.KeyId);
  });

  it('is put back after rotation is turned off outside Touchdown', async () => {
    await t.apply(keys());
    const key = await liveKey();
    await t.boto.call('kms', 'DisableKeyRotation', { KeyId: key.KeyId });
    const plan = await t.plan(keys());
    assert.deepEqual(plan.resources.find((r) => r.address === 'kms-key.media')!.changes, [
      { name: 'enableKeyRotation', before: false, after: true },
    ]);
    await t.apply(keys());
    assert.equal(await rotation(key.KeyId), true);
  });

  it('is scheduled for deletion by destroy, with its deletion window', async () => {
    await t.apply(keys({ deletionWindowDays: 7 }));
    const plan = await destroy(keys({ deletionWindowDays: 7 }));
    assert.equal(actions(plan)['kms-key.media'], 'delete');
    const [key, ...others] = await stackKeys();
    assert.equal(others.length, 0);
    assert.equal(key!.KeyState, 'PendingDeletion');
    const days = (Date.parse(key!.DeletionDate!) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, `deletion in ${days} days`);
    // A key pending deletion is gone for Touchdown: a second destroy has nothing to do.
    assert.deepEqual(actions(await destroy(keys())), {});
  });

  it('refuses rotation on a key KMS cannot rotate, before calling AWS', async () => {
    await assert.rejects(t.plan(keys({ keySpec: 'RSA_2048' })), /KMS rotates only SYMMETRIC_DEFAULT keys/);
  });
});
