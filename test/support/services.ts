// The real services the examples need: PostgreSQL, Redis and RabbitMQ on this machine, started when not running.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How this machine kind starts each service when it is not running (as root, Debian packages). */
const SERVICES = {
  postgres: {
    port: 5432,
    start: ['sh', '-c', 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'],
  },
  redis: {
    port: 6379,
    start: [
      'redis-server',
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1',
      '--port',
      '6379',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/var/lib/redis',
      '--logfile',
      '/var/log/redis/ci.log',
    ],
  },
  rabbitmq: { port: 5672, start: ['rabbitmq-server', '-detached'] },
} as const;

export type ServiceName = keyof typeof SERVICES;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once every named service accepts connections, starting those that do not. */
export async function ensureServices(...names: ServiceName[]): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const { port, start } = SERVICES[name];
      if (await listening(port)) return;
      await run(start[0], start.slice(1) as string[]).catch((err: Error) => {
        throw new Error(`${name} is not running on port ${port} and starting it failed: ${err.message}`);
      });
      for (let i = 0; i < 120; i++) {
        if (await listening(port)) return;
        await delay(500);
      }
      throw new Error(`${name} did not start listening on port ${port} within a minute`);
    }),
  );
}

/** A fresh, empty PostgreSQL database for one test run. */
export async function freshDatabase(name: string): Promise<string> {
  const psql = (sql: string) =>
    run('psql', ['-U', 'postgres', '-h', 'localhost', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  await psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await psql(`CREATE DATABASE "${name}"`);
  return `postgres://postgres@localhost:5432/${name}`;
}
