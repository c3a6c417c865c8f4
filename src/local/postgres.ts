// The stack's database on this machine's PostgreSQL: a role and a database of its own, as RDS gives one on AWS.
// node-postgres (not psql) so that errors come back as codes we can explain, and no shell quoting is involved.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ConfigError } from '../core/errors.js';

/** Where the server is and who may create roles there (never its password: that stays with the user). */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
}

export interface AdminConnection {
  server: PostgresServer;
  /** The host:port the app's processes connect to (a socket is for the admin's peer login only). */
  appHost: string;
  query(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

const SOCKET_DIRS = ['/var/run/postgresql', '/tmp'];
const HOW_TO_GET_ONE =
  'install and start PostgreSQL (apt install postgresql, or brew install postgresql@16 && brew services start postgresql@16), ' +
  'or pass --database-url postgres://USER:PASSWORD@HOST:PORT/postgres (or set DATABASE_URL) for a server where USER may create roles and databases';

/**
 * Connects as someone who may create roles and databases: the URL given (--database-url, DATABASE_URL), or
 * the usual places (PGHOST, the Unix socket, localhost:5432) as PGUSER, this user or postgres.
 */
export async function connectAdmin(url?: string, from = '--database-url'): Promise<AdminConnection> {
  if (url) {
    try {
      return await open({ connectionString: url });
    } catch (err) {
      throw new ConfigError(`PostgreSQL at ${from} (${redact(url)}): ${explain(err)}. ${HOW_TO_GET_ONE}`);
    }
  }
  const port = Number(process.env.PGPORT ?? 5432);
  const hosts = process.env.PGHOST
    ? [process.env.PGHOST]
    : [...SOCKET_DIRS.filter((d) => existsSync(join(d, `.s.PGSQL.${port}`))), 'localhost'];
  const users = [...new Set(process.env.PGUSER ? [process.env.PGUSER] : [userInfo().username, 'postgres'])];
  const tried: string[] = [];
  for (const host of hosts) {
    for (const user of users) {
      try {
        return await open({ host, port, user, database: 'postgres', password: process.env.PGPASSWORD });
      } catch (err) {
        tried.push(`${user}@${host}:${port}: ${explain(err)}`);
        // No server there: other user names will not help.
        if (isUnreachable(err)) break;
      }
    }
  }
  throw new ConfigError(`no PostgreSQL to use (tried ${tried.join('; ')}). ${HOW_TO_GET_ONE}`, [
    `no PostgreSQL to use: ${HOW_TO_GET_ONE}`,
    ...tried.map((t) => `tried ${t}`),
  ]);
}

/** Connects again to the server recorded by an earlier `up` (for `down --volumes`). */
export function reconnectAdmin(server: PostgresServer, url?: string): Promise<AdminConnection> {
  if (url) return connectAdmin(url);
  return open({ ...server, database: 'postgres', password: process.env.PGPASSWORD }).catch((err) => {
    throw new ConfigError(
      `PostgreSQL at ${server.user}@${server.host}:${server.port}: ${explain(err)}. Start it, or pass --database-url`,
    );
  });
}

async function open(config: pg.ClientConfig): Promise<AdminConnection> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 5_000 });
  // A server that goes away later must not crash the process: queries fail instead.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
  const c = client as unknown as { host: string; port: number; user: string };
  const server = { host: c.host, port: c.port, user: c.user };
  let closed: Promise<void> | undefined;
  return {
    server,
    appHost: `${server.host.startsWith('/') ? 'localhost' : server.host}:${server.port}`,
    query: (sql, values) => client.query(sql, values),
    close: () => {
      closed ??= client.end();
      return closed;
    },
  };
}

/** The stack's role (with this password) and its database, owned by the role; made when missing. */
export async function ensureDatabase(admin: AdminConnection, name: string, password: string): Promise<void> {
  const role = pg.escapeIdentifier(name);
  try {
    const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    // The password lives in the local Parameter Store; the role follows it, as RDS follows its secret.
    await admin.query(
      `${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${role} WITH LOGIN PASSWORD ${pg.escapeLiteral(password)}`,
    );
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!db.rowCount) {
      await admin.query(`GRANT ${role} TO CURRENT_USER`).catch(() => {});
      await admin.query(`CREATE DATABASE ${role} OWNER ${role}`);
    }
  } catch (err) {
    const { user, host, port } = admin.server;
    throw new ConfigError(
      `creating PostgreSQL database "${name}" as ${user} on ${host}:${port}: ${explain(err)}. ` +
        'Pass --database-url with a user that may create roles and databases (a superuser such as postgres)',
    );
  }
}

/** Drops the stack's database and role: `down --volumes`. */
export async function dropDatabase(admin: AdminConnection, name: string): Promise<void> {
  const id = pg.escapeIdentifier(name);
  // Connections left by processes that did not stop would block the drop.
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
  await admin.query(`DROP DATABASE IF EXISTS ${id}`);
  await admin.query(`DROP ROLE IF EXISTS ${id}`);
}

function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND';
}

function explain(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ENOENT') return 'nothing is listening there';
  if (code === 'ENOTFOUND') return 'no such host';
  if (/timeout/i.test((err as Error).message ?? '')) return 'no answer within 5 seconds';
  return (err as Error).message ?? String(err);
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
