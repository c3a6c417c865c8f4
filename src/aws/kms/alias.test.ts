import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { Stack } from '../../core/stack.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { KmsAlias } from './alias.js';
import { KmsKey } from './key.js';

const t = useLocalAws({ declaredTypesOnly: true });

/** Two keys in the stack, and an alias on one of them (or none). */
function aliased(o: { name?: string; target?: 'media' | 'backup'; alias?: boolean } = {}) {
  const aws = new AwsStack('alias-test');
  const keys = {
    media: aws.add(KmsKey, { name: 'media' }),
    backup: aws.add(KmsKey, { name: 'backup' }),
  };
  if (o.alias !== false) {
    // The key's ARN is given; the alias compares it with the key id KMS reports.
    aws.add(KmsAlias, { name: o.name ?? 'alias/radpress-media', targetKeyId: keys[o.target ?? 'media'].arn });
  }
  return aws;
}

// The shared registry does not list these types yet: an engine looks for undeclared types only
// when they are in the registry it is given.
const registry = [...resourceTypes, KmsKey, KmsAlias];

async function destroy(stack: Stack) {
  const { plan, report } = await t.engine(stack, { registry }).destroy();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

async function applyAll(stack: Stack) {
  const { plan, report } = await t.engine(stack, { registry }).apply();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

/** Our aliases (not AWS's own alias/aws/…) by name, with the key id each points to. */
async function aliases(): Promise<Record<string, string>> {
  const { Aliases } = await t.boto.call('kms', 'ListAliases', {});
  return Object.fromEntries(
    (Aliases as { AliasName: string; TargetKeyId?: string }[])
      .filter((a) => !a.AliasName.startsWith('alias/aws/'))
      .map((a) => [a.AliasName, a.TargetKeyId ?? '']),
  );
}

/** The stack's live key ids by address. */
async function keyIds(): Promise<Record<string, string>> {
  const { ResourceTagMappingList } = await t.boto.call('resourcegroupstaggingapi', 'GetResources', {
    ResourceTypeFilters: ['kms:key'],
    TagFilters: [{ Key: 'touchdown:stack', Values: ['alias-test'] }],
  });
  const out: Record<string, string> = {};
  for (const r of ResourceTagMappingList as {
    ResourceARN: string;
    Tags: { Key: string; Value: string }[];
  }[]) {
    const { KeyMetadata } = await t.boto.call('kms', 'DescribeKey', { KeyId: r.ResourceARN });
    if (KeyMetadata.KeyState === 'PendingDeletion') continue;
    out[r.Tags.find((x) => x.Key === 'touchdown:resource')!.Value] = KeyMetadata.KeyId;
  }
  return out;
}

describe('KMS alias', () => {
  it('is created pointing at its key; a second plan shows no changes', async () => {
    const plan = await t.apply(aliased());
    assert.equal(actions(plan)['kms-alias.alias/radpress-media'], 'create');
    const ids = await keyIds();
    assert.deepEqual(await aliases(), { 'alias/radpress-media': ids['kms-key.media'] });
    assertNoChanges(await t.plan(aliased()));
  });

  it('is pointed at another key in place', async () => {
    await t.apply(aliased());
    const plan = await t.plan(aliased({ target: 'backup' }));
    assert.equal(actions(plan)['kms-alias.alias/radpress-media'], 'update');
    await t.apply(aliased({ target: 'backup' }));
    const ids = await keyIds();
    assert.deepEqual(await aliases(), { 'alias/radpress-media': ids['kms-key.backup'] });
    assertNoChanges(await t.plan(aliased({ target: 'backup' })));
  });

  it('is renamed by a delete and a create: a new name is a new alias', async () => {
    await t.apply(aliased());
    const plan = await t.plan(aliased({ name: 'alias/radpress-uploads' }));
    // A new name is a new identity: the old alias is no longer declared and the new one is created.
    assert.equal(actions(plan)['kms-alias.alias/radpress-media'], 'delete');
    assert.equal(actions(plan)['kms-alias.alias/radpress-uploads'], 'create');
    await t.apply(aliased({ name: 'alias/radpress-uploads' }));
    const ids = await keyIds();
    assert.deepEqual(await aliases(), { 'alias/radpress-uploads': ids['kms-key.media'] });
  });

  it('is found as no longer declared, through its key, once removed from the stack', async () => {
    await t.apply(aliased());
    const plan = await applyAll(aliased({ alias: false }));
    const change = plan.resources.find((r) => r.address === 'kms-alias.alias/radpress-media')!;
    assert.equal(change.action, 'delete');
    assert.equal(change.reason, 'no longer declared');
    assert.deepEqual(await aliases(), {});
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(aliased());
    await t.boto.call('kms', 'DeleteAlias', { AliasName: 'alias/radpress-media' });
    assert.equal(actions(await t.plan(aliased()))['kms-alias.alias/radpress-media'], 'create');
    await t.apply(aliased());
    const ids = await keyIds();
    assert.deepEqual(await aliases(), { 'alias/radpress-media': ids['kms-key.media'] });
  });

  it('is pointed back after being retargeted outside Touchdown', async () => {
    await t.apply(aliased());
    const ids = await keyIds();
    await t.boto.call('kms', 'UpdateAlias', {
      AliasName: 'alias/radpress-media',
      TargetKeyId: ids['kms-key.backup'],
    });
    const plan = await t.plan(aliased());
    const change = plan.resources.find((r) => r.address === 'kms-alias.alias/radpress-media')!;
    assert.equal(change.action, 'update');
    assert.deepEqual(
      change.changes.map((c) => c.name),
      ['targetKeyId'],
    );
    assert.equal(change.changes[0]!.before, ids['kms-key.backup']);
    await t.apply(aliased());
    assert.deepEqual(await aliases(), { 'alias/radpress-media': ids['kms-key.media'] });
  });

  it('is deleted by destroy, before its key', async () => {
    await t.apply(aliased());
    const plan = await destroy(aliased());
    assert.equal(actions(plan)['kms-alias.alias/radpress-media'], 'delete');
    assert.deepEqual(await aliases(), {});
    assert.deepEqual(await keyIds(), {});
  });

  it('refuses a name that is not an alias, before calling AWS', async () => {
    const aws = new AwsStack('alias-test');
    aws.add(KmsAlias, { name: 'radpress-media', targetKeyId: 'x' });
    await assert.rejects(t.plan(aws), /write an alias like alias\/radpress-media/);
  });
});
