// The stack's cache on this machine's Redis (or Valkey): a logical database of its own, chosen once and
// recorded in the server itself, so two stacks never share one and a stack keeps its own across runs.
// The few commands this needs are spoken directly (RESP), without a client library.
import { connect, type Socket } from 'node:net';
import { ConfigError } from '../core/errors.js';

/** The hash (in database 0) of stack → logical database. */
export const REGISTRY = 'touchdown:local:databases';
const DEFAULT_URL = 'redis://localhost:6379';

type Reply = string | number | null | Reply[];

export interface RedisServer {
  /** redis://[user:password@]host:port, without a database. */
  url: string;
  /** The database the URL asked for, if any: then it is the user's choice, not ours. */
  database?: number;
}

export function redisServer(url = DEFAULT_URL): RedisServer {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`--redis-url ${url}: write it like redis://localhost:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new ConfigError(`--redis-url ${url}: use redis:// (rediss:// is for TLS)`);
  const db = u.pathname.replace(/^\//, '');
  u.pathname = '';
  return { url: u.toString().replace(/\/$/, ''), ...(db ? { database: Number(db) } : {}) };
}

export class RedisConnection {
  private buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const parsed = parse(this.buffer, 0);
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.end);
        const w = this.waiting.shift();
        if (parsed.value instanceof Error) w?.reject(parsed.value);
        else w?.resolve(parsed.value);
      }
    });
    const fail = (err: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the connection closed')));
  }

  /** Connects and authenticates; a server that is not there gives the one message saying what to do. */
  static async open(server: RedisServer, from = '--redis-url'): Promise<RedisConnection> {
    const u = new URL(server.url);
    if (u.protocol === 'rediss:') throw new ConfigError(`${from}: TLS (rediss://) is not supported locally`);
    const port = Number(u.port || 6379);
    const host = u.hostname.replace(/^\[|\]$/g, '') || 'localhost';
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port, timeout: 5_000 });
      s.once('connect', () => {
        s.setTimeout(0);
        resolve(s);
      });
      s.once('timeout', () => reject(new Error('no answer within 5 seconds')));
      s.once('error', reject);
    }).catch((err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'nothing is listening there' : err.message;
      throw new ConfigError(
        `no Redis at ${host}:${port} (${why}): install and start Redis or Valkey (apt install redis-server, or brew install redis && brew services start redis), or pass --redis-url redis://HOST:PORT (or set REDIS_URL)`,
      );
    });
    const conn = new RedisConnection(socket);
    try {
      if (u.password) {
        const user = decodeURIComponent(u.username);
        const password = decodeURIComponent(u.password);
        await conn.command(...(user ? ['AUTH', user, password] : ['AUTH', password]));
      }
      await conn.command('PING');
    } catch (err) {
      conn.close();
      throw new ConfigError(`Redis at ${host}:${port}: ${(err as Error).message}; check ${from}`);
    }
    return conn;
  }

  command(...args: (string | number)[]): Promise<Reply> {
    const parts = args.map(String);
    const wire = `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(wire);
    });
  }

  close(): void {
    this.socket.end();
  }
}

/** One RESP2 reply from the buffer at offset, or undefined when it has not all arrived. */
function parse(buf: Buffer, at: number): { value: Reply | Error; end: number } | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (buf[at]) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new Error(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return undefined;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, pos);
        if (!item) return undefined;
        if (item.value instanceof Error) return { value: item.value, end: item.end };
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      return { value: new Error(`unexpected reply from Redis: ${line}`), end: next };
  }
}

/**
 * The stack's logical database: the one recorded for it, else the lowest empty one nobody has, recorded
 * at once (HSETNX, so two stacks starting together cannot take the same one). Never 0, which apps use by default.
 */
export async function allocateDatabase(conn: RedisConnection, stack: string): Promise<number> {
  await conn.command('SELECT', 0);
  const mine = await conn.command('HGET', REGISTRY, stack);
  if (mine !== null) return Number(mine);
  const taken = new Set(((await conn.command('HVALS', REGISTRY)) as string[]).map(Number));
  const config = await conn.command('CONFIG', 'GET', 'databases').catch(() => null);
  const count = Array.isArray(config) && config[1] ? Number(config[1]) : 16;
  for (let db = 1; db < count; db++) {
    if (taken.has(db)) continue;
    await conn.command('SELECT', db);
    const size = await conn.command('DBSIZE');
    await conn.command('SELECT', 0);
    if (size !== 0) continue;
    if ((await conn.command('HSETNX', REGISTRY, stack, db)) === 1) return db;
    return Number(await conn.command('HGET', REGISTRY, stack));
  }
  throw new ConfigError(
    `Redis has no empty logical database left for ${stack} (it has ${count}): pass --redis-url redis://HOST:PORT/N to choose one, or free one with \`touchdown down --volumes\` in another project`,
  );
}

/** Empties the stack's logical database and gives it back: `down --volumes`. */
export async function releaseDatabase(conn: RedisConnection, stack: string, db: number): Promise<void> {
  await conn.command('SELECT', db);
  await conn.command('FLUSHDB');
  await conn.command('SELECT', 0);
  await conn.command('HDEL', REGISTRY, stack);
}
