// The client factory passes its HTTP handler options to every client: a server that never answers is given
// up on after the request timeout instead of holding the command forever.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { it } from 'node:test';
import { TEST_CREDENTIALS } from '../../test/support/local-aws.js';
import { AwsClients } from './clients.js';

// Without the option the call would wait for the server: the test's own timeout then fails it.
it('gives up on a silent endpoint after the request timeout it was given', { timeout: 20_000 }, async () => {
  Object.assign(process.env, TEST_CREDENTIALS);
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket)); // accepts, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  try {
    const aws = new AwsClients({
      region: 'us-east-1',
      endpoint: `http://localhost:${port}`,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 300 },
    });
    const sts = await aws.sts();
    await assert.rejects(sts.getCallerIdentity({}), (err: Error) =>
      /timeout/i.test(`${err.name} ${err.message}`),
    );
    assert.ok(sockets.length >= 1, 'the request reached the silent server');
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});
