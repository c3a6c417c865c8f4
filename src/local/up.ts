// `touchdown up`: the stack on this machine. Services found, emulated resources applied, then the release
// phase as on AWS (migrate, collectstatic; a failure stops here with its output), then web processes behind
// the entry point, Celery workers and the schedule, until stopped.
import { join } from 'node:path';
import type { AwsClients } from '../aws/clients.js';
import { ConfigError, Interrupted } from '../core/errors.js';
import { FileLock, LockHeld } from '../core/lock.js';
import { runStep } from '../core/step.js';
import { words } from '../django/blueprint/fargate.js';
import { releaseCommands } from '../django/one-off.js';
import { localEnvironment } from './blueprint.js';
import { EntryPoint } from './entry.js';
import type { UpEventSink } from './events.js';
import { freePort, waitUntilAnswering } from './local-aws.js';
import { pathWith } from './python.js';
import { SavedState } from './saved-state.js';
import { LocalScheduler } from './schedule.js';
import { type LocalState, logDir, readState, runningStack, STACK_VARIABLE, writeState } from './state.js';
import { killLeftovers } from './stop.js';
import { type ManagedProcess, Supervisor, TARGET_IP } from './supervisor.js';
import { djangoDir, type LocalTarget, suggest } from './target.js';
import {
  closeServices,
  emulatorClients,
  type FoundServices,
  findServices,
  type Provisioned,
  provision,
  type ServiceOptions,
  savedDir,
} from './wiring.js';

export interface UpOptions extends ServiceOptions {
  target: LocalTarget;
  /** The entry point's port. @default the manifest's local.port (8000) */
  port?: number;
  detached: boolean;
  events: UpEventSink;
  /** Stops the start part way (Ctrl-C while starting). */
  signal: AbortSignal;
}

export interface RunningStack {
  url: string;
  state: LocalState;
  /** Stops everything in order and saves the local AWS's data; resolves once nothing runs. */
  stop(): Promise<void>;
}

/** A release command (migrate, collectstatic) failed: nothing was started. */
export class ReleaseFailed extends Error {
  override readonly name = 'ReleaseFailed';
  constructor(
    readonly step: string,
    readonly code: number,
    readonly output: string[],
  ) {
    super(`${step} exited with code ${code}; nothing was started`);
  }
}

/** The web processes never passed the health check the load balancer would make: nothing serves. */
export class WebUnhealthy extends Error {
  override readonly name = 'WebUnhealthy';
  constructor(
    message: string,
    /** The failing process's name and its last lines of output. */
    readonly process: string,
    readonly output: string[],
  ) {
    super(message);
  }
}

/** How long `up` waits for the web processes to pass their health check before it says it serves. */
const WEB_START_MS = 60_000;
/** Failed answers in a row that make a target unhealthy (the target group's UnhealthyThresholdCount). */
const UNHEALTHY_THRESHOLD = 3;
/** Exits before its first passed check that make a process a crash loop, not a slow start. */
const CRASH_LOOP_EXITS = 3;

/** Settings a process must get from the stack alone, never from the shell touchdown runs in. */
const CONTRACT =
  /^(AWS_|DJANGO_|DATABASE_|CELERY_|TOUCHDOWN_|REDIS_URL$|CACHE_URL$|ALLOWED_HOSTS$|CSRF_TRUSTED_ORIGINS$|EMAIL_BACKEND$|DEFAULT_FROM_EMAIL$|VIRTUAL_ENV$|PORT$)/;

export async function up(o: UpOptions): Promise<RunningStack> {
  const t = o.target;
  const m = t.loaded.manifest;
  const port = o.port ?? m.local.port;
  const lock = new FileLock(join(t.dir, 'up.lock'), t.stack, 'touchdown up');
  try {
    await lock.acquire({ timeoutMs: 0 });
  } catch (err) {
    if (!(err instanceof LockHeld)) throw err;
    const running = runningStack(await readState(t.dir));
    throw new ConfigError(
      `${t.stack} already runs${running?.url ? ` at ${running.url}` : ''} (pid ${err.holder.pid}): \`${suggest(t, 'touchdown down')}\` stops it, \`${suggest(t, 'touchdown logs --local -f')}\` shows it`,
    );
  }
  await killLeftovers(await readState(t.dir));

  const state: LocalState = {
    stack: t.stack,
    pid: process.pid,
    detached: o.detached,
    status: 'starting',
    startedAt: new Date().toISOString(),
    region: m.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    port,
    processes: {},
    services: {},
  };
  let writing = Promise.resolve();
  let pending = false;
  // State is written after every change, one write at a time, the last change always included.
  const record = (): Promise<void> => {
    if (pending) return writing;
    pending = true;
    writing = writing.then(async () => {
      pending = false;
      for (const [name, p] of supervisor.processes) {
        state.processes[name] = {
          state: p.state,
          restarts: p.restarts,
          ...(p.pid ? { pid: p.pid } : {}),
          ...(p.spec.port ? { port: p.spec.port } : {}),
        };
      }
      await writeState(t.dir, state).catch(() => {});
    });
    return writing;
  };
  const events = o.events;
  const supervisor = new Supervisor(logDir(t.dir), events, () => void record());
  const web: string[] = [];
  let aws: AwsClients | undefined;
  let provisioned: Provisioned | undefined;
  const scheduler = new LocalScheduler((job, next, problem) =>
    events({
      type: 'local.schedule',
      name: job.name,
      cron: job.cron,
      ...(next ? { next: next.toISOString() } : {}),
      ...(problem ? { detail: problem } : {}),
    }),
  );
  const buckets: { static?: string; media?: string } = {};
  const entryLog = await supervisor.openLog('entry');
  const entry = new EntryPoint({
    port,
    backends: () =>
      web.map((name) => {
        const p = supervisor.processes.get(name)!;
        return {
          name,
          port: p.spec.port!,
          healthy: p.healthy,
          serving: p.serving,
          markDown: () => p.markDown(),
        };
      }),
    buckets,
    s3: () => aws!.s3(),
    log: (line) => {
      entryLog.write(line);
      events({ type: 'local.log', name: 'entry', line });
    },
  });

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await announceStop();
      scheduler.stop();
      await supervisor.stop([['local-aws']], 10_000).catch(() => {});
      await entry.close();
      state.status = state.status === 'stopping' ? 'stopped' : state.status;
      await record();
      await lock.release();
      if (supervisor.processes.size > 0) events({ type: 'local.stopped' });
    })();
    return stopped;
  };
  let announced = false;
  const announceStop = async () => {
    if (announced) return;
    announced = true;
    // Nothing to say when nothing was started (a missing service).
    if (supervisor.processes.size > 0) events({ type: 'local.stopping' });
    if (state.status !== 'failed') state.status = 'stopping';
    await record();
  };
  // The emulator's data is saved before the emulator stops (the app has stopped writing by then).
  const stopSaving = async () => {
    await announceStop();
    scheduler.stop();
    if (aws && provisioned && supervisor.processes.get('local-aws')?.serving !== false) {
      await stopApp(supervisor).catch(() => {});
      await new SavedState(savedDir(t), aws)
        .save(provisioned.resources.buckets, `/${m.app}/${t.stage}/`)
        .then((s) =>
          events({
            type: 'local.service',
            service: 'saved data',
            detail: `${s.objects} object(s) (${s.copied} changed) and ${s.parameters} parameter(s) saved to ${savedDir(t)}`,
          }),
        )
        .catch((err) =>
          events({
            type: 'local.log',
            name: 'touchdown',
            line: `saving the local AWS's data failed: ${err.message}`,
          }),
        );
    }
    await stop();
  };

  const step = <T>(name: string, run: () => Promise<T>): Promise<T> => {
    if (o.signal.aborted) throw new Interrupted('stopped before it started');
    return runStep(events, name, run);
  };

  let opened: FoundServices | undefined;
  try {
    await record();
    const found = await step('services', async () => {
      opened = await findServices(t, o);
      await entry.listen();
      return opened;
    });
    describeServices(found, events);
    state.python = found.python.path;
    state.localAws = { endpoint: found.localAws.endpoint, startedByTouchdown: Boolean(found.localAws.start) };
    const base = baseEnvironment(found, t.stack);
    if (found.localAws.start) {
      const moto = found.localAws.start;
      await step('local AWS', async () => {
        const p = await supervisor.start({
          name: 'local-aws',
          command: moto.command,
          env: base,
          cwd: t.dir,
          restart: false,
        });
        await waitUntilAnswering(found.localAws.endpoint, () => p.serving);
      });
    }
    aws = emulatorClients(state.region, found.localAws.endpoint);
    const clients = aws;
    provisioned = await step('buckets, parameters, database', () =>
      provision(t, found, clients, events, o.signal),
    );
    state.services = provisioned.services;
    state.buckets = provisioned.resources.buckets;
    Object.assign(buckets, provisioned.resources.buckets);
    describeProvisioned(provisioned, events);
    const env = {
      ...base,
      ...localEnvironment(t, provisioned.resources, { ...provisioned.wiring, port }),
      ...provisioned.secrets,
    };
    const cwd = djangoDir(t);
    const python = found.python.path;

    // The release phase, as on AWS: nothing serves until it has succeeded.
    for (const [name, args] of releaseCommands(m)) {
      await step(name, async () => {
        const r = await supervisor.runOnce(
          { name, command: [python, 'manage.py', ...args], env, cwd },
          'release',
        );
        if (r.code !== 0) throw new ReleaseFailed(name, r.code, r.output);
      });
    }

    await step('processes', async () => {
      for (let i = 1; i <= m.local.processes; i++) {
        const name = `web-${i}`;
        const webPort = await freePort();
        web.push(name);
        await supervisor.start({
          name,
          command: m.web.command ? words(m.web.command) : gunicorn(python, m.django, webPort, env),
          env: { ...env, PORT: String(webPort) },
          cwd,
          restart: true,
          port: webPort,
          healthCheck: m.web.healthCheck,
        });
      }
      for (const [worker, w] of Object.entries(m.workers)) {
        for (let i = 1; i <= w.count; i++) {
          await supervisor.start({
            name: `worker-${worker}-${i}`,
            command: words(w.command),
            env,
            cwd,
            restart: true,
          });
        }
      }
      // Serving means passing the load balancer's health check, on every web process.
      await waitUntilHealthy(
        web.map((n) => supervisor.processes.get(n)!),
        { path: m.web.healthCheck, settings: m.django.settings },
        o.signal,
      );
    });
    for (const s of m.schedules) {
      scheduler.add({
        name: s.name,
        cron: s.cron,
        run: async () => {
          await supervisor.runOnce(
            { name: `schedule-${s.name}`, command: [python, 'manage.py', ...words(s.command)], env, cwd },
            `schedule-${s.name}`,
          );
        },
      });
    }
    state.url = `http://localhost:${port}`;
    state.status = 'running';
    await record();
    events({ type: 'local.ready', url: state.url, stack: t.stack, localAws: found.localAws.endpoint });
    return { url: state.url, state, stop: stopSaving };
  } catch (err) {
    if (opened) await closeServices(opened);
    state.status = 'failed';
    state.error = {
      message: (err as Error).message,
      ...(err instanceof ReleaseFailed || err instanceof WebUnhealthy
        ? { output: err.output.slice(-40) }
        : {}),
    };
    await stop();
    throw err;
  }
}

/**
 * Waits until every web process passes its health check; fails as soon as one is judged unhealthy as the ALB
 * judges (failing answers in a row), crash-loops, or is still not healthy after WEB_START_MS.
 */
async function waitUntilHealthy(
  processes: ManagedProcess[],
  app: { path: string; settings: string },
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + WEB_START_MS;
  for (;;) {
    if (signal.aborted) throw new Interrupted('stopped before it served');
    if (processes.every((p) => p.healthy)) return;
    const failing = processes.find(
      (p) =>
        !p.healthy &&
        (p.failedAnswers >= UNHEALTHY_THRESHOLD || p.restarts >= CRASH_LOOP_EXITS || Date.now() >= deadline),
    );
    if (failing) throw new WebUnhealthy(whyUnhealthy(failing, app), failing.spec.name, [...failing.recent]);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Why a web process fails the load balancer's health check, and what to do, in the user's words. */
export function whyUnhealthy(p: ManagedProcess, app: { path: string; settings: string }): string {
  const name = p.spec.name;
  const check = p.lastCheck;
  const host = `${TARGET_IP}:${p.spec.port}`;
  const snippet = `keep \`from .touchdown_settings import *\` the last line of ${app.settings}, after MIDDLEWARE and ALLOWED_HOSTS`;
  if (check?.status === undefined) {
    const exits = p.restarts > 0 ? `; it exited ${p.restarts} time(s), last ${p.lastExit}` : '';
    return `${name} never answered the health check on ${app.path} (${check?.problem ?? 'not started'}${exits}): its last lines are below`;
  }
  const said = `${name} answered the load balancer's health check (GET ${app.path}, Host: ${host}) with HTTP ${check.status}`;
  if (check.status >= 500) return `${said}: the app fails; its last lines are below`;
  if (check.status === 404) {
    return `${said}: on AWS every target would be unhealthy. Touchdown's settings snippet answers this path for the load balancer: ${snippet}; or set web.healthCheck to a path that answers 200`;
  }
  return `${said}: on AWS every target would be unhealthy (Django refuses that Host unless ALLOWED_HOSTS allows it). Touchdown's settings snippet answers health checks before ALLOWED_HOSTS applies: ${snippet}`;
}

/** The web processes and workers first: what they use (the local AWS) stops after them. */
async function stopApp(supervisor: Supervisor): Promise<void> {
  await Promise.all(
    [...supervisor.processes.values()].filter((p) => p.spec.name !== 'local-aws').map((p) => p.stop(10_000)),
  );
}

/** The container's command (the Dockerfile touchdown init writes): gunicorn with gthread (or uvicorn) workers. */
function gunicorn(
  python: string,
  app: { wsgi?: string; asgi?: string },
  port: number,
  env: NodeJS.ProcessEnv,
): string[] {
  const workers = app.wsgi
    ? ['--threads', '4', '--worker-class', 'gthread']
    : ['--worker-class', 'uvicorn_worker.UvicornWorker'];
  return [
    python,
    '-m',
    'gunicorn',
    (app.wsgi ?? app.asgi)!,
    '--bind',
    `127.0.0.1:${port}`,
    '--workers',
    env.WEB_CONCURRENCY ?? '2',
    ...workers,
    '--timeout',
    '30',
    '--graceful-timeout',
    '20',
    '--access-logfile',
    '-',
  ];
}

/** This shell's environment without any of the contract's settings, with the app's Python first on PATH. */
export function baseEnvironment(found: FoundServices, stack: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!CONTRACT.test(k)) env[k] = v;
  env[STACK_VARIABLE] = stack;
  env.PATH = pathWith(found.python);
  if (found.python.virtualEnv) env.VIRTUAL_ENV = found.python.virtualEnv;
  return env;
}

function describeServices(found: FoundServices, events: UpEventSink): void {
  const say = (service: string, detail: string) => events({ type: 'local.service', service, detail });
  say('python', `${found.python.path} (${found.python.how})`);
  say('local AWS', `${found.localAws.endpoint} (${found.localAws.how})`);
  if (found.postgres) {
    const s = found.postgres.server;
    say('postgres', `${s.user}@${s.host}:${s.port}`);
  }
  if (found.redis) say('redis', found.redis.url);
  if (found.memcached) say('memcached', found.memcached);
  if (found.rabbitmq) say('rabbitmq', found.rabbitmq.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@'));
}

function describeProvisioned(p: Provisioned, events: UpEventSink): void {
  const say = (service: string, detail: string) => events({ type: 'local.service', service, detail });
  const s = p.services;
  if (s.postgres)
    say('postgres', `database and role ${s.postgres.database} on ${p.wiring.database?.hostPort}`);
  if (s.redis) say('redis', `logical database ${s.redis.database} on ${s.redis.url}`);
  if (s.rabbitmq) say('rabbitmq', `queue ${s.rabbitmq.queue}`);
  const b = p.resources.buckets;
  const names = [b.static, b.media].filter(Boolean);
  if (names.length > 0) say('buckets', names.join(', '));
}
