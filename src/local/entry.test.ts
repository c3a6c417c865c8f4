// The entry point against real HTTP servers on this machine: what it retries, what it does not.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Backend, EntryPoint } from './entry.js';
import { freePort } from './local-aws.js';

interface Seen {
  method: string;
  body: string;
}

async function serve(
  handler: (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => void,
) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, body });
      handler(req, body, res);
    });
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return { server, port, seen };
}

const backend = (name: string, port: number, marks: string[]): Backend => ({
  name,
  port,
  healthy: true,
  serving: true,
  markDown: () => marks.push(name),
});

describe('the entry point', () => {
  let good: Awaited<ReturnType<typeof serve>>;
  let dying: Awaited<ReturnType<typeof serve>>;
  let closed: number;
  const servers: Server[] = [];
  let backends: Backend[] = [];
  const marks: string[] = [];
  let entry: EntryPoint;
  let url: string;

  before(async () => {
    good = await serve((req, body, res) => res.end(`good ${req.method} ${body}`));
    // Takes the request and drops the connection without answering: a process killed mid-request.
    dying = await serve((req) => req.socket.destroy());
    closed = await freePort();
    servers.push(good.server, dying.server);
    const port = await freePort();
    url = `http://localhost:${port}`;
    entry = new EntryPoint({
      port,
      backends: () => backends,
      buckets: {},
      s3: () => Promise.reject(new Error('no S3 here')),
      log: () => {},
    });
    await entry.listen();
  });

  after(async () => {
    await entry.close();
    for (const s of servers) s.close();
  });

  it('sends a request a process refused to the next one, body and all, and takes that process out', async () => {
    backends = [backend('refusing', closed, marks), backend('good', good.port, marks)];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${url}/x`, { method: 'POST', body: `payload ${i}` });
      assert.equal(await res.text(), `good POST payload ${i}`);
    }
    assert.ok(marks.includes('refusing'));
  });

  it('retries an idempotent request a process dropped, but never a POST it may have acted on', async () => {
    backends = [backend('dying', dying.port, marks), backend('good', good.port, marks)];
    for (let i = 0; i < 4; i++) {
      assert.equal(await (await fetch(`${url}/page`)).text(), 'good GET ');
    }
    let failed = 0;
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${url}/form`, { method: 'POST', body: 'order=1' });
      if (res.status === 502) failed++;
      else assert.equal(await res.text(), 'good POST order=1');
    }
    assert.ok(failed > 0, 'a POST the dying process received is not sent again');
    assert.ok(dying.seen.filter((s) => s.method === 'POST').length === failed);
  });

  it('answers 503 while no process runs', async () => {
    backends = [];
    const res = await fetch(url);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /no web process is running yet/);
  });
});
