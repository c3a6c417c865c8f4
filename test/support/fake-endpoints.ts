// Endpoints that misbehave as a broken network or a failing AWS does, for the bad-input suite: a server error
// page, an answer that is not AWS's, a server that accepts and never answers, a port nobody listens on. Each
// records what it was asked, so a test can prove nothing was asked to change.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';

export interface Asked {
  method: string;
  path: string;
  /** The operation, as the request names it: X-Amz-Target (JSON APIs), Action= (query APIs), or the path. */
  operation: string;
}

/** A connection to the hung endpoint: what it asked, and when it came and went in the order of events (no clock). */
export interface HeldConnection {
  /** The service, from the request's SigV4 credential scope. */
  service: string;
  operation: string;
  opened: number;
  closed: number;
}

export interface FakeEndpoint {
  url: string;
  asked: Asked[];
  /** The hung endpoint's connections the client gave up (closed), in the order they closed. */
  held: HeldConnection[];
  close(): Promise<void>;
}

/**
 * How many of the client's waits on a hung endpoint came one after another (the longest chain of connections, each
 * opened after the one before it closed; a retry always follows its attempt): its wait is that many read timeouts.
 */
export function waitsInARow(held: HeldConnection[]): number {
  const chain = new Map<HeldConnection, number>();
  for (const c of [...held].sort((a, b) => a.opened - b.opened)) {
    const before = held.filter(
      (d) => chain.has(d) && (d.closed < c.opened || (d.operation === c.operation && d.opened < c.opened)),
    );
    chain.set(c, 1 + Math.max(0, ...before.map((d) => chain.get(d)!)));
  }
  return Math.max(0, ...chain.values());
}

/**
 * identity-only: answers who the caller is, that no secrets or counts are set and the region's zones, then a server
 * error to all else.
 */
export type Misbehaviour = 'server-error' | 'garbage' | 'hang' | 'refuse-all' | 'identity-only';

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

function operationOf(req: IncomingMessage, text: string): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.split('.').at(-1)!;
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(text)?.[1];
  return action ?? `${req.method} ${req.url}`;
}

/** Operations that change something, by AWS's naming; what the suite asserts never happened. */
export const changes = (asked: Asked[]) =>
  asked.filter(
    (a) =>
      !/^(Describe|Get|List|Head|Check|Search|Lookup)/.test(a.operation) && !/^(GET|HEAD) /.test(a.operation),
  );

export async function startFakeEndpoint(kind: Misbehaviour): Promise<FakeEndpoint> {
  const asked: Asked[] = [];
  const held: HeldConnection[] = [];
  let events = 0;
  const sockets = new Set<Socket>();
  const server =
    kind === 'hang'
      ? createTcpServer((socket) => {
          // Accepts the connection and reads the request, but never answers.
          sockets.add(socket);
          const opened = events++;
          let text = '';
          socket.on('data', (d) => {
            text += d;
          });
          socket.on('close', () => {
            sockets.delete(socket);
            if (!text) return;
            const [method = '', path = ''] = text.split(' ', 2);
            const target = /^x-amz-target: *(\S+)/im.exec(text)?.[1]?.split('.').at(-1);
            const action = /(?:^|&|\n)Action=([A-Za-z]+)/.exec(text)?.[1];
            const operation = target ?? action ?? `${method} ${path}`;
            asked.push({ method, path, operation });
            const service = /\/([a-z0-9-]+)\/aws4_request/.exec(text)?.[1] ?? 'unknown';
            held.push({ service, operation, opened, closed: events++ });
          });
        })
      : createHttpServer(async (req, res) => {
          const text = await body(req);
          asked.push({ method: req.method ?? '', path: req.url ?? '', operation: operationOf(req, text) });

          const operation = operationOf(req, text);
          if (kind === 'identity-only' && operation === 'GetCallerIdentity') {
            res.writeHead(200, { 'content-type': 'text/xml' });
            res.end(
              '<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account>' +
                '<Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDATEST</UserId></GetCallerIdentityResult>' +
                '</GetCallerIdentityResponse>',
            );
          } else if (kind === 'identity-only' && operation === 'GetParametersByPath') {
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
            res.end(JSON.stringify({ Parameters: [] }));
          } else if (kind === 'identity-only' && operation === 'GetParameter') {
            // No parameter set yet (scale's counts, say), as SSM answers it.
            res.writeHead(400, {
              'content-type': 'application/x-amz-json-1.1',
              'x-amzn-errortype': 'ParameterNotFound',
            });
            res.end(JSON.stringify({ __type: 'ParameterNotFound', message: 'no such parameter' }));
          } else if (kind === 'identity-only' && operation === 'DescribeAvailabilityZones') {
            res.writeHead(200, { 'content-type': 'text/xml' });
            const zone = (z: string, id: number) =>
              `<item><zoneName>us-east-1${z}</zoneName><zoneId>use1-az${id}</zoneId><zoneState>available</zoneState>` +
              '<optInStatus>opt-in-not-required</optInStatus><regionName>us-east-1</regionName>' +
              '<zoneType>availability-zone</zoneType></item>';
            res.end(
              '<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
                `<requestId>fake</requestId><availabilityZoneInfo>${zone('a', 1)}${zone('b', 2)}${zone('c', 4)}` +
                '</availabilityZoneInfo></DescribeAvailabilityZonesResponse>',
            );
          } else if (kind === 'server-error' || kind === 'identity-only') {
            res.writeHead(500, { 'content-type': 'text/html' });
            res.end('<html><body><h1>500 Internal Server Error</h1></body></html>');
          } else if (kind === 'garbage') {
            res.writeHead(200, { 'content-type': 'text/xml' });
            res.end('<<<this is not what AWS answers>>>');
          } else if (req.headers['x-amz-target']) {
            // AWS's JSON protocol (SSM, ECS, logs...): the error type in a header and the body.
            res.writeHead(400, {
              'content-type': 'application/x-amz-json-1.1',
              'x-amzn-errortype': 'AccessDeniedException',
            });
            res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'refused by the test' }));
          } else {
            res.writeHead(403, { 'content-type': 'text/xml' });
            res.end(
              '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>refused by the test</Message></Error></ErrorResponse>',
            );
          }
        });
  const endpoint = { asked, held } as FakeEndpoint;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  endpoint.url = `http://localhost:${port}`;
  endpoint.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return endpoint;
}

/** A local port nobody listens on (taken, then let go). */
export async function closedPort(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://localhost:${port}`;
}
