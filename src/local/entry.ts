// The stack's one address on this machine, as the load balancer and CloudFront are on AWS: /static/* and
// /media/* come from the private buckets (read with signed S3 calls, as CloudFront's origin access does), the
// rest goes round robin to the web processes that pass their health check. A request no process received
// (connection refused) goes to the next process; so does an idempotent request without a body that failed
// before its answer began (as nginx's proxy_next_upstream does). Written on node:http rather than a proxy
// library because that retry rule is the point, and the proxying around it is a page of code.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { S3 } from '@aws-sdk/client-s3';
import { errorCode, httpStatus } from '../aws/errors.js';
import { ConfigError } from '../core/errors.js';

export interface Backend {
  name: string;
  port: number;
  /** Passed its last health check. */
  healthy: boolean;
  /** Its process is running (healthy or not). */
  serving: boolean;
  /** Refused a connection: out of rotation until its next health check passes. */
  markDown(): void;
}

export interface EntryOptions {
  port: number;
  backends: () => Backend[];
  buckets: { static?: string; media?: string };
  s3: () => Promise<S3>;
  /** Lines worth a person's attention: retries, failures. */
  log: (line: string) => void;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export class EntryPoint {
  private readonly servers: Server[] = [];
  private next = 0;
  /** Requests the entry point answered with an error of its own (no process could answer them). */
  failed = 0;
  retried = 0;

  constructor(private readonly o: EntryOptions) {}

  /** Takes the port on 127.0.0.1 (and ::1 when the machine has it); fails at once when it is taken. */
  async listen(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    const v4 = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      v4.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'EADDRINUSE'
            ? new ConfigError(
                `port ${this.o.port} is in use (another program, or another touchdown up): pass --port N or set local.port in touchdown.yml`,
              )
            : err,
        ),
      );
      v4.listen(this.o.port, '127.0.0.1', resolve);
    });
    this.servers.push(v4);
    const v6 = createServer(handler);
    await new Promise<void>((resolve) => {
      // Browsers try ::1 for localhost first; a machine without IPv6 has IPv4 alone.
      v6.once('error', () => resolve());
      v6.listen(this.o.port, '::1', () => {
        this.servers.push(v6);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    for (const purpose of ['static', 'media'] as const) {
      const bucket = this.o.buckets[purpose];
      if (bucket && path.startsWith(`/${purpose}/`)) {
        this.serveObject(bucket, path, req, res).catch((err) => this.fail(res, 502, `S3: ${err.message}`));
        return;
      }
    }
    this.proxy(req, res, new Set());
  }

  /** The next process in rotation that is healthy; when none is, any running one (as a load balancer fails open). */
  private pick(tried: Set<string>): Backend | undefined {
    const all = this.o.backends().filter((b) => !tried.has(b.name));
    const pool =
      all.filter((b) => b.healthy).length > 0 ? all.filter((b) => b.healthy) : all.filter((b) => b.serving);
    if (pool.length === 0) return undefined;
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    return pool[this.next % pool.length];
  }

  private proxy(req: IncomingMessage, res: ServerResponse, tried: Set<string>): void {
    const backend = this.pick(tried);
    if (!backend) {
      const what =
        tried.size > 0 ? 'no web process could take this request' : 'no web process is running yet';
      this.fail(res, tried.size > 0 ? 502 : 503, `${what}; see touchdown logs --local`);
      return;
    }
    tried.add(backend.name);
    const hasBody =
      Boolean(req.headers['transfer-encoding']) || Number(req.headers['content-length'] ?? 0) > 0;
    const retryable = IDEMPOTENT.has(req.method ?? 'GET') && !hasBody;
    const upstream = request(
      {
        host: '127.0.0.1',
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: forwarded(req, this.o.port),
        // A fresh connection per request: a kept-alive one the process closed meanwhile would fail a POST.
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, withoutHopByHop(answer.headers));
        answer.pipe(res);
        answer.once('error', () => res.destroy());
      },
    );
    let sent = false;
    const send = () => {
      sent = true;
      if (hasBody) req.pipe(upstream);
      else upstream.end();
    };
    // The body is read only once connected, so a refused connection leaves it whole for the next process.
    upstream.once('socket', (socket: Socket) => (socket.connecting ? socket.once('connect', send) : send()));
    upstream.once('error', (err: NodeJS.ErrnoException) => {
      const refused = err.code === 'ECONNREFUSED';
      if (refused) backend.markDown();
      if (!res.headersSent && (refused || (retryable && sent))) {
        this.retried++;
        this.o.log(
          `${req.method} ${req.url}: ${backend.name} ${refused ? 'refused the connection' : `failed (${err.message})`}; trying another process`,
        );
        this.proxy(req, res, tried);
        return;
      }
      this.o.log(`${req.method} ${req.url}: ${backend.name} failed (${err.message})`);
      if (res.headersSent) res.destroy();
      else this.fail(res, 502, `${backend.name} failed while answering: ${err.message}`);
    });
    req.once('aborted', () => upstream.destroy());
  }

  private async serveObject(bucket: string, path: string, req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let key: string;
    try {
      key = decodeURIComponent(path.slice(1));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const s3 = await this.o.s3();
    const h = req.headers;
    const conditions = {
      Bucket: bucket,
      Key: key,
      ...(h['if-none-match'] ? { IfNoneMatch: h['if-none-match'] } : {}),
      ...(h['if-modified-since'] ? { IfModifiedSince: new Date(h['if-modified-since']) } : {}),
    };
    try {
      const got =
        req.method === 'HEAD'
          ? await s3.headObject(conditions)
          : await s3.getObject({ ...conditions, ...(h.range ? { Range: h.range } : {}) });
      const headers: Record<string, string | number> = { 'accept-ranges': 'bytes' };
      if (got.ContentType) headers['content-type'] = got.ContentType;
      if (got.ContentLength !== undefined) headers['content-length'] = got.ContentLength;
      if (got.ETag) headers.etag = got.ETag;
      if (got.LastModified) headers['last-modified'] = got.LastModified.toUTCString();
      if (got.CacheControl) headers['cache-control'] = got.CacheControl;
      if (got.ContentEncoding) headers['content-encoding'] = got.ContentEncoding;
      if ('ContentRange' in got && got.ContentRange) headers['content-range'] = got.ContentRange;
      res.writeHead(got.$metadata.httpStatusCode ?? 200, headers);
      const body = 'Body' in got ? (got.Body as Readable | undefined) : undefined;
      if (body) body.pipe(res);
      else res.end();
    } catch (err) {
      const status = httpStatus(err);
      if (status === 304) res.writeHead(304).end();
      else if (status === 404 || /NoSuchKey|NotFound/.test(errorCode(err))) this.fail(res, 404, 'not found');
      else if (status === 412 || status === 416) res.writeHead(status).end();
      else throw err;
    }
  }

  private fail(res: ServerResponse, status: number, message: string): void {
    if (status >= 500) this.failed++;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`${status === 404 ? 'Not found' : 'touchdown up'}: ${message}\n`);
  }
}

function forwarded(req: IncomingMessage, port: number): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const client = req.socket.remoteAddress ?? '';
  const before = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = before ? `${before}, ${client}` : client;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(port);
  if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
  if (req.headers['transfer-encoding']) headers['transfer-encoding'] = 'chunked';
  return headers;
}

function withoutHopByHop(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}
