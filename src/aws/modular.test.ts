// The clients built from the modular SDK answer as the aggregated ones did, against the local AWS: a listed
// command, a command src/ never calls (loaded with the whole client), and what is not an operation.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type LocalAws, startLocalAws } from '../../test/support/local-aws.js';
import * as sts from './sdk/client-sts.js';

let local: LocalAws;
before(async () => {
  local = await startLocalAws();
});
after(() => local.stop());

it('sends a listed command through the modular client', async () => {
  const client = await local.clients().sts();
  const { Account } = await client.getCallerIdentity({});
  assert.match(Account ?? '', /^\d{12}$/);
});

it('sends a command src/ does not list, loading the whole client for it', async () => {
  assert.ok(!('GetSessionToken' in sts.make.commands), 'the test needs a command left out of the list');
  const client = sts.make({ region: local.region, endpoint: local.endpoint });
  const { Credentials } = await client.getSessionToken({ DurationSeconds: 900 });
  assert.ok(Credentials?.AccessKeyId, 'GetSessionToken answered');
});

it('is no promise, and names a method no command has', async () => {
  const client = sts.make({ region: local.region, endpoint: local.endpoint });
  assert.equal((client as unknown as { then?: unknown }).then, undefined);
  assert.equal(await Promise.resolve(client), client, 'a promise resolves to the client itself');
  const missing = (client as unknown as { noSuchThing(): Promise<unknown> }).noSuchThing();
  await assert.rejects(missing, /STSClient\.noSuchThing is not an operation/);
});
