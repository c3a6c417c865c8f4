import assert from 'node:assert/strict';
import { it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { OidcProvider } from './oidc-provider.js';

const t = useLocalAws({ declaredTypesOnly: true });

const GITHUB = 'https://token.actions.githubusercontent.com';
const ARN = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
const THUMB_A = 'a'.repeat(40);
const THUMB_B = 'b'.repeat(40);

function stack(name = 'oidc-a', o: { clientIds?: string[]; thumbprints?: string[] } = {}) {
  const aws = new AwsStack(name);
  aws.add(OidcProvider, {
    name: 'github',
    url: GITHUB,
    clientIds: o.clientIds ?? ['sts.amazonaws.com'],
    thumbprints: o.thumbprints,
  });
  return aws;
}

interface Provider {
  Url: string;
  ClientIDList: string[];
  ThumbprintList: string[];
  Tags?: { Key: string; Value: string }[];
}

async function provider(): Promise<Provider | undefined> {
  return t.boto
    .call<Provider>('iam', 'GetOpenIDConnectProvider', { OpenIDConnectProviderArn: ARN })
    .catch(() => undefined);
}

const tagKeys = (p: Provider | undefined) => (p?.Tags ?? []).map((tag) => tag.Key.toLowerCase()).sort();

it('creates the provider with its audience, marked as this stack’s, then plans nothing', async () => {
  await t.apply(stack('oidc-a', { thumbprints: [THUMB_A] }));
  const p = await provider();
  assert.equal(p?.Url, 'token.actions.githubusercontent.com');
  assert.deepEqual(p?.ClientIDList, ['sts.amazonaws.com']);
  assert.deepEqual(p?.ThumbprintList, [THUMB_A]);
  assert.deepEqual(tagKeys(p), ['touchdown:created-by', 'touchdown:uses:oidc-a']);
  assertNoChanges(await t.plan(stack('oidc-a', { thumbprints: [THUMB_A] })));
});

it('adds a client ID and changes thumbprints in place', async () => {
  await t.apply(stack('oidc-a', { thumbprints: [THUMB_A] }));
  const next = stack('oidc-a', { clientIds: ['sts.amazonaws.com', 'my-org'], thumbprints: [THUMB_B] });
  assert.deepEqual(actions(await t.plan(next)), { 'oidc-provider.github': 'update' });
  await t.apply(next);
  const p = await provider();
  assert.deepEqual([...(p?.ClientIDList ?? [])].sort(), ['my-org', 'sts.amazonaws.com']);
  assert.deepEqual(p?.ThumbprintList, [THUMB_B]);
  assertNoChanges(await t.plan(next));
});

it('adopts a provider made by hand, keeps its other client IDs, and leaves it when no longer declared', async () => {
  await t.boto.call('iam', 'CreateOpenIDConnectProvider', {
    Url: GITHUB,
    ClientIDList: ['someone-else'],
    ThumbprintList: [THUMB_A],
  });
  await t.apply(stack());
  let p = await provider();
  assert.deepEqual([...(p?.ClientIDList ?? [])].sort(), ['someone-else', 'sts.amazonaws.com']);
  assert.deepEqual(tagKeys(p), ['touchdown:uses:oidc-a'], 'marked as used, not as made by Touchdown');
  assertNoChanges(await t.plan(stack()));

  await t.apply(new AwsStack('oidc-a'));
  p = await provider();
  assert.ok(p, 'a provider made by hand stays');
  assert.deepEqual(tagKeys(p), []);
  assert.ok(p.ClientIDList.includes('someone-else'));
});

it('is shared by two stacks: the first one to go leaves it to the other, the last one deletes it', async () => {
  await t.apply(stack('oidc-a'));
  await t.apply(stack('oidc-b'));
  assert.deepEqual(tagKeys(await provider()), [
    'touchdown:created-by',
    'touchdown:uses:oidc-a',
    'touchdown:uses:oidc-b',
  ]);
  assertNoChanges(await t.plan(stack('oidc-a')));

  await t.apply(new AwsStack('oidc-a'));
  assert.deepEqual(tagKeys(await provider()), ['touchdown:created-by', 'touchdown:uses:oidc-b']);
  assertNoChanges(await t.plan(stack('oidc-b')));

  await t.apply(new AwsStack('oidc-b'));
  assert.equal(await provider(), undefined, 'boto3 finds it deleted');
});

it('deleted behind Touchdown’s back, it is planned as a create', async () => {
  await t.apply(stack());
  await t.boto.call('iam', 'DeleteOpenIDConnectProvider', { OpenIDConnectProviderArn: ARN });
  assert.deepEqual(actions(await t.plan(stack())), {
    'oidc-provider.github': 'create',
  });
});
