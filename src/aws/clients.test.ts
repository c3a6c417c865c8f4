// The client factory passes its HTTP handler options to every client: a server that never answers is given
// up on after the request timeout instead of holding the command forever.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
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

/** An endpoint that resets the first `resets` connections after reading each request, then answers as STS does. */
async function resetting(resets: number) {
  let asked = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      asked += 1;
      if (asked <= resets) return req.socket.destroy();
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
          '<Arn>arn:aws:iam::123456789012:user/dev</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>' +
          '</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { endpoint: `http://localhost:${port}`, asked: () => asked, close: () => server.close() };
}

// The SDK's handler calls a reset connection a TimeoutError; only a real timeout counts toward the two that end a call.
it('retries a call whose connection is reset more often than a timeout is', { timeout: 60_000 }, async () => {
  Object.assign(process.env, TEST_CREDENTIALS);
  const endpoint = await resetting(3);
  try {
    const aws = new AwsClients({ region: 'us-east-1', endpoint: endpoint.endpoint, maxAttempts: 4 });
    const { Account } = await (await aws.sts()).getCallerIdentity({});
    assert.equal(Account, '123456789012');
    assert.equal(endpoint.asked(), 4, 'three resets, then the answer');
  } finally {
    endpoint.close();
  }
});

it('says a connection reset on every try was reset, not that the endpoint was silent', {
  timeout: 60_000,
}, async () => {
  Object.assign(process.env, TEST_CREDENTIALS);
  const endpoint = await resetting(Number.POSITIVE_INFINITY);
  try {
    const aws = new AwsClients({ region: 'us-east-1', endpoint: endpoint.endpoint, maxAttempts: 3 });
    await assert.rejects((await aws.sts()).getCallerIdentity({}), (err: Error) => {
      assert.match(
        err.message,
        /sts GetCallerIdentity: cannot reach http:\/\/localhost:\d+: the connection was reset \(3 attempts\)/,
      );
      return true;
    });
    assert.equal(endpoint.asked(), 3);
  } finally {
    endpoint.close();
  }
});
