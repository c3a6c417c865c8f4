// The stack's processes on this machine, as ECS runs tasks: each started in its own process group, its
// output kept in a log file, restarted with backoff when it dies, health-checked when it serves HTTP, and
// stopped with SIGTERM, then SIGKILL after a grace period.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ProcessState, UpEventSink } from './events.js';

export interface ProcessSpec {
  /** web-1, worker-default-1, local-aws; also the log file's name. */
  name: string;
  command: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Started again when it exits (services); one-off commands are not. */
  restart: boolean;
  /** The port it serves HTTP on. */
  port?: number;
  /** The path that answers 200 when it is up (the manifest's web.healthCheck). */
  healthCheck?: string;
}

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A process that ran this long before dying is restarted at once again (it was not crash-looping). */
const STABLE_MS = 30_000;
const HEALTHY_CHECK_MS = 10_000;
const LOG_ROTATE_BYTES = 20 * 1024 * 1024;

export class ProcessLog {
  private stream?: WriteStream;
  constructor(readonly path: string) {}

  async open(): Promise<void> {
    const size = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
    if (size > LOG_ROTATE_BYTES) await rename(this.path, `${this.path}.1`).catch(() => {});
    this.stream = createWriteStream(this.path, { flags: 'a' });
    // A full disk must not stop the stack: the line is lost, the process runs on.
    this.stream.on('error', () => {});
  }

  write(line: string): void {
    // Output a process's children write after it exited can arrive once the log is closed.
    if (this.stream && !this.stream.writableEnded) this.stream.write(`${new Date().toISOString()} ${line}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.stream ? this.stream.end(resolve) : resolve()));
  }
}

/** Lines of a process's output kept in memory, to show when it fails. */
const RECENT_LINES = 40;

/** Forwards a child's output line by line to its log and to the events (and to `recent`, the last lines). */
function pipeLines(
  child: ChildProcess,
  name: string,
  log: ProcessLog,
  events: UpEventSink,
  recent?: string[],
): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      log.write(line);
      if (recent && recent.push(line) > RECENT_LINES) recent.shift();
      events({ type: 'local.log', name, line });
    });
  }
}

function spawnGroup(spec: ProcessSpec): ChildProcess {
  // Its own process group: signals reach gunicorn's or Celery's children too, and a Ctrl-C in the
  // terminal reaches only touchdown, which stops everything in order.
  return spawn(spec.command[0]!, spec.command.slice(1), {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
}

/** Sends a signal to a process group; a group that is gone is fine. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export class ManagedProcess {
  state: ProcessState = 'starting';
  restarts = 0;
  healthy = false;
  /** Health checks answered with a failing status in a row (the ALB's UnhealthyThresholdCount counts these). */
  failedAnswers = 0;
  /** The last health check's answer. */
  lastCheck?: HealthAnswer;
  /** Its last lines of output, across restarts. */
  readonly recent: string[] = [];
  /** How it ended last time: "exited with code 1". */
  lastExit?: string;
  pid?: number;
  private child?: ChildProcess;
  private startedAt = 0;
  private failures = 0;
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private exited?: Promise<void>;

  constructor(
    readonly spec: ProcessSpec,
    private readonly log: ProcessLog,
    private readonly events: UpEventSink,
    private readonly onChange: () => void,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    const child = spawnGroup(this.spec);
    this.child = child;
    this.pid = child.pid;
    this.healthy = false;
    this.set(this.spec.healthCheck ? 'starting' : 'running');
    pipeLines(child, this.spec.name, this.log, this.events, this.recent);
    this.exited = new Promise((resolve) => {
      child.once('error', (err) => {
        this.log.write(`could not start ${this.spec.command[0]}: ${err.message}`);
        this.events({ type: 'local.log', name: this.spec.name, line: `could not start: ${err.message}` });
      });
      // 'exit', not 'close': workers the leader left behind hold its output open.
      child.once('exit', (code, signal) => {
        // Whatever the leader left behind in its group goes with it (gunicorn's workers, Celery's pool).
        if (child.pid) signalGroup(child.pid, 'SIGKILL');
        this.onExit(code, signal);
        resolve();
      });
    });
    if (this.spec.healthCheck) this.check(child);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.healthy = false;
    this.pid = undefined;
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    this.lastExit = how;
    if (this.stopping || !this.spec.restart) {
      this.set(this.stopping ? 'stopped' : 'exited', how);
      return;
    }
    this.failures = Date.now() - this.startedAt >= STABLE_MS ? 0 : this.failures + 1;
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.max(0, this.failures - 1));
    this.set('restarting', `${how}; starting again in ${(delay / 1000).toFixed(1)}s`);
    this.timer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      this.start();
    }, delay);
  }

  /** Polls the health check: every second until healthy, then less often (a refused connection counts at once). */
  private check(child: ChildProcess): void {
    const again = () => {
      if (this.child !== child || this.stopping || child.exitCode !== null) return;
      this.timer = setTimeout(() => this.check(child), this.healthy ? HEALTHY_CHECK_MS : 1_000);
    };
    probe(this.spec.port!, this.spec.healthCheck!).then((answer) => {
      if (this.child !== child || this.stopping || child.exitCode !== null) return;
      this.lastCheck = answer;
      this.failedAnswers = answer.status !== undefined && !answer.healthy ? this.failedAnswers + 1 : 0;
      const healthy = answer.healthy;
      const problem = answer.problem;
      if (healthy !== this.healthy || this.state === 'starting') {
        const stillStarting = !healthy && Date.now() - this.startedAt < 60_000 && this.state === 'starting';
        this.healthy = healthy;
        if (!stillStarting) this.set(healthy ? 'healthy' : 'unhealthy', problem);
      }
      again();
    });
  }

  /** The entry point saw it refuse a connection: take it out of rotation until a check passes. */
  markDown(): void {
    if (this.healthy) {
      this.healthy = false;
      this.set('unhealthy', 'refused a connection');
    }
  }

  get serving(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.pid !== undefined;
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const pid = this.pid;
    if (!pid || !this.exited) {
      if (this.state !== 'stopped') this.set('stopped');
      return;
    }
    this.set('stopping');
    signalGroup(pid, 'SIGTERM');
    const killed = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killed);
  }

  private set(state: ProcessState, detail?: string): void {
    this.state = state;
    this.events({
      type: 'local.process',
      name: this.spec.name,
      state,
      restarts: this.restarts,
      ...(this.pid ? { pid: this.pid } : {}),
      ...(this.spec.port ? { port: this.spec.port } : {}),
      ...(detail ? { detail } : {}),
    });
    this.onChange();
  }
}

/**
 * The address the health check names as Host: on AWS the load balancer sends the target's private IP and port
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html), one the
 * project cannot know in advance; this one stands for it, in the app subnets' range.
 */
export const TARGET_IP = '10.0.100.10';

export interface HealthAnswer {
  healthy: boolean;
  /** The HTTP status, when the process answered. */
  status?: number;
  /** Where a redirect pointed (the load balancer does not follow it). */
  location?: string;
  /** What went wrong, in words. */
  problem?: string;
}

/**
 * One health check, made as the ALB makes it: `Host: <target IP>:<port>`, its User-Agent, no redirect followed,
 * healthy on 200-399 (the target group's matcher).
 */
export function probe(port: number, path: string, timeoutMs = 2_000): Promise<HealthAnswer> {
  return new Promise((resolve) => {
    const req = request(
      // No kept-alive connection: an idle one would hold a gunicorn thread and slow its shutdown.
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        headers: { host: `${TARGET_IP}:${port}`, 'user-agent': 'ELB-HealthChecker/2.0' },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 500;
        const healthy = status >= 200 && status < 400;
        resolve({
          healthy,
          status,
          ...(res.headers.location ? { location: res.headers.location } : {}),
          ...(healthy ? {} : { problem: `${path} answered HTTP ${status}` }),
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path} did not answer within ${timeoutMs / 1000}s`)));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ healthy: false, problem: err.code === 'ECONNREFUSED' ? 'not listening yet' : err.message }),
    );
    req.end();
  });
}

export class Supervisor {
  readonly processes = new Map<string, ManagedProcess>();
  private readonly logs: ProcessLog[] = [];
  /** One-off commands running now: stopped with the rest. */
  private readonly oneOffs = new Set<ChildProcess>();

  constructor(
    private readonly logDir: string,
    private readonly events: UpEventSink,
    private readonly onChange: () => void = () => {},
  ) {}

  /** A log file of its own, closed with the others when the stack stops. */
  async openLog(name: string): Promise<ProcessLog> {
    await mkdir(this.logDir, { recursive: true });
    const log = new ProcessLog(join(this.logDir, `${name}.log`));
    await log.open();
    this.logs.push(log);
    return log;
  }

  async start(spec: ProcessSpec): Promise<ManagedProcess> {
    const managed = new ManagedProcess(spec, await this.openLog(spec.name), this.events, this.onChange);
    this.processes.set(spec.name, managed);
    managed.start();
    return managed;
  }

  /** Runs a command to its end (migrate, a scheduled job): its exit code and its output. */
  async runOnce(
    spec: Omit<ProcessSpec, 'restart'>,
    logName = spec.name,
  ): Promise<{ code: number; output: string[] }> {
    const log = await this.openLog(logName);
    log.write(`$ ${spec.command.join(' ')}`);
    const output: string[] = [];
    const child = spawnGroup({ ...spec, restart: false });
    this.oneOffs.add(child);
    pipeLines(child, spec.name, log, (e) => {
      if (e.type === 'local.log') output.push(e.line);
      this.events(e);
    });
    const code = await new Promise<number>((resolve) => {
      child.once('error', (err) => {
        output.push(`could not start ${spec.command[0]}: ${err.message}`);
        resolve(127);
      });
      child.once('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    this.oneOffs.delete(child);
    log.write(`exit code ${code}`);
    this.logs.splice(this.logs.indexOf(log), 1);
    await log.close();
    return { code, output };
  }

  /**
   * Stops every process: those not named first, then the named groups one after the other (what the app
   * uses, such as the local AWS, after the app); the processes of a group at once.
   */
  async stop(last: string[][] = [], graceMs = 10_000): Promise<void> {
    for (const child of this.oneOffs) if (child.pid) signalGroup(child.pid, 'SIGTERM');
    const order = last;
    const listed = new Set(order.flat());
    const rest = [...this.processes.keys()].filter((n) => !listed.has(n));
    for (const group of [rest, ...order]) {
      await Promise.all(group.map((n) => this.processes.get(n)?.stop(graceMs)));
    }
    await Promise.all(this.logs.map((l) => l.close()));
  }
}
