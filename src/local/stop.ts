// `touchdown down`: stops the stack that runs here (in another terminal or detached) and, with --volumes,
// removes its data: the PostgreSQL database and role, the Redis logical database, the RabbitMQ queue, the
// emulated buckets and parameters, and what was saved of them.
import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { allPages } from '../aws/pages.js';
import { Engine } from '../core/engine.js';
import type { EventSink } from '../core/events.js';
import { runStep } from '../core/step.js';
import { localResources } from './blueprint.js';
import { answers } from './local-aws.js';
import { connectAdmin, dropDatabase, reconnectAdmin } from './postgres.js';
import { findPython } from './python.js';
import { REGISTRY, RedisConnection, redisServer, releaseDatabase } from './redis.js';
import { DEFAULT_RABBITMQ_URL } from './services.js';
import { isAlive, type LocalState, readState, STACK_VARIABLE } from './state.js';
import { signalGroup } from './supervisor.js';
import { databaseName, djangoDir, type LocalTarget } from './target.js';
import { emulatorClients, LOCAL_TYPES, type ServiceOptions, savedDir } from './wiring.js';

const run = promisify(execFile);

export interface DownOptions extends ServiceOptions {
  volumes: boolean;
  events: EventSink;
  /** How long the stack may take to stop before it is killed. @default 60 s */
  graceMs?: number;
}

export interface DownResult {
  /** Whether a running stack was stopped. */
  stopped: boolean;
  /** What --volumes removed, in words. */
  removed: string[];
  /** What could not be removed, and why. */
  problems: string[];
}

export async function down(t: LocalTarget, o: DownOptions): Promise<DownResult> {
  const result: DownResult = { stopped: false, removed: [], problems: [] };
  let state = await readState(t.dir);
  if (state && isAlive(state.pid) && state.pid !== process.pid && state.status !== 'stopped') {
    o.events({ type: 'step', step: `stopping ${t.stack} (pid ${state.pid})`, state: 'start' });
    const started = Date.now();
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + (o.graceMs ?? 60_000);
    while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(state.pid)) process.kill(state.pid, 'SIGKILL');
    o.events({
      type: 'step',
      step: `stopping ${t.stack} (pid ${state.pid})`,
      state: 'done',
      ms: Date.now() - started,
    });
    result.stopped = true;
    state = (await readState(t.dir)) ?? state;
  }
  await killLeftovers(state);
  if (!o.volumes) return result;

  const m = t.loaded.manifest;
  const attempt = async (what: string, remove: () => Promise<string | undefined>) => {
    try {
      const done = await runStep(o.events, `removing ${what}`, remove);
      if (done) result.removed.push(done);
    } catch (err) {
      result.problems.push(`${what}: ${(err as Error).message}`);
    }
  };

  if (m.database) {
    await attempt('the PostgreSQL database', async () => {
      const name = state?.services.postgres?.database ?? databaseName(t);
      const admin = state?.services.postgres
        ? await reconnectAdmin(state.services.postgres, o.databaseUrl)
        : await connectAdmin(o.databaseUrl ?? process.env.DATABASE_URL);
      try {
        await dropDatabase(admin, name);
      } finally {
        await admin.close();
      }
      return `PostgreSQL database and role ${name}`;
    });
  }
  if (m.cache && m.cache.engine !== 'memcached') {
    await attempt('the Redis database', async () => {
      const server = redisServer(o.redisUrl ?? state?.services.redis?.url ?? process.env.REDIS_URL);
      const conn = await RedisConnection.open(server);
      try {
        const recorded = await conn.command('HGET', REGISTRY, t.stack);
        const db =
          state?.services.redis?.database ?? (recorded === null ? server.database : Number(recorded));
        if (db === undefined) return undefined;
        await releaseDatabase(conn, t.stack, db);
        return `Redis logical database ${db}`;
      } finally {
        conn.close();
      }
    });
  }
  if (Object.keys(m.workers).length > 0 && m.local.broker === 'rabbitmq') {
    await attempt('the RabbitMQ queue', async () => {
      const python = await findPython(t.projectDir, o.python ?? state?.python);
      const url = o.rabbitmqUrl ?? process.env.RABBITMQ_URL ?? DEFAULT_RABBITMQ_URL;
      // Celery's own client library (kombu) is in the app's environment; no AMQP client is needed here.
      const script =
        'import sys\nfrom kombu import Connection\nwith Connection(sys.argv[1]) as c:\n    c.default_channel.queue_delete(sys.argv[2])';
      await run(python.path, ['-c', script, url, t.stack], { cwd: djangoDir(t), timeout: 30_000 });
      return `RabbitMQ queue ${t.stack}`;
    });
  }
  const endpoint =
    o.localAws ??
    process.env.TOUCHDOWN_LOCAL_AWS ??
    (state?.localAws && !state.localAws.startedByTouchdown ? state.localAws.endpoint : undefined);
  if (endpoint && (await answers(endpoint))) {
    await attempt('the emulated buckets and parameters', async () => {
      const region = state?.region ?? m.region ?? process.env.AWS_REGION ?? 'us-east-1';
      const aws = emulatorClients(region, endpoint);
      const resources = localResources(t, region, await aws.account());
      const engine = new Engine({ stack: resources.stack, registry: LOCAL_TYPES, aws, events: o.events });
      const destroyed = await engine.destroy({ force: true });
      const failed = destroyed.report?.failed[0];
      if (failed) throw new Error(failed.error ?? `${failed.address} failed`);
      // Secrets set by people are not the engine's: they go with the stack too.
      const ssm = await aws.ssm();
      const left = await allPages(
        (NextToken) => ssm.getParametersByPath({ Path: `/${m.app}/${t.stage}/`, Recursive: true, NextToken }),
        (p) => p.Parameters,
      );
      const names = left.map((p) => p.Name!);
      for (let i = 0; i < names.length; i += 10)
        await ssm.deleteParameters({ Names: names.slice(i, i + 10) });
      return `${destroyed.plan.resources.length} emulated resource(s) at ${endpoint}`;
    });
  }
  await attempt('the saved emulator data', async () => {
    await rm(savedDir(t), { recursive: true, force: true });
    return `saved data in ${savedDir(t)}`;
  });
  return result;
}

/** Process groups a stack's touchdown left running when it was killed: stopped now. */
export async function killLeftovers(state: LocalState | undefined): Promise<number> {
  if (!state || (isAlive(state.pid) && state.pid !== process.pid)) return 0;
  let killed = 0;
  for (const p of Object.values(state.processes)) {
    if (p.pid && isAlive(p.pid) && (await startedFor(p.pid, state.stack)) && signalGroup(p.pid, 'SIGKILL'))
      killed++;
  }
  return killed;
}

/** Whether a pid is still one of the stack's processes (not a new process that got the same number). */
async function startedFor(pid: number, stack: string): Promise<boolean> {
  const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => undefined);
  // Without /proc (macOS) the recorded pid is all there is to go by.
  if (environ === undefined) return process.platform !== 'linux';
  return environ.split('\0').includes(`${STACK_VARIABLE}=${stack}`);
}
