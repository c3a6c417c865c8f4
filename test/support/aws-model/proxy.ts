// The AWS model: an HTTP proxy between the SDK and moto that makes the local AWS take AWS's time (per-call
// latency, resources ready and gone after their time in times.ts) and fail as AWS fails (throttling, 5xx,
// resets, slow answers), all scaled by one speed-up factor.
//   const model = await startAwsModel({ upstream: aws.endpoint, speedup: 100, faults: { throttle: 0.05 }, seed: 7 });
//   new AwsClients({ region, endpoint: model.endpoint });
// A test of the model's timing starts it with clock: 'manual' and moves time itself: model.clock.advance(awsMs).

import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_WAIT_TIMING, type WaitTiming } from '../../../src/core/wait.js';
import { type ClockKind, type ModelClock, modelClock } from './clock.js';
import { type Fault, type FaultRates, faultFor, serverErrorAnswer, throttleAnswer } from './faults.js';
import { IdempotencyTokens } from './idempotency.js';
import { Lifecycle } from './lifecycle.js';
import { asAwsAnswers } from './not-found.js';
import { type Answer, type Call, createsSomething, identify } from './operations.js';
import { LATENCY, SLOW_ANSWER_MS } from './times.js';

export interface ModelOptions {
  /** moto's endpoint, e.g. http://localhost:5000 */
  upstream: string;
  /** AWS seconds per real second; default TOUCHDOWN_MODEL_SPEEDUP, else 1 (real time). Applies to readiness and latency. */
  speedup?: number;
  /**
   * What moves the readiness times (not latency, which is always real time over the speed-up): 'scaled', real time
   * times the speed-up (default); 'manual', only the test's `model.clock.advance(awsMs)`.
   */
  clock?: ClockKind;
  /** Per-call latency in AWS milliseconds (scaled by speedup); default from the table. */
  latencyMs?: number;
  /** Rates 0..1. */
  faults?: FaultRates;
  /** Fault decisions are a pure function of (seed, call index), so runs replay. */
  seed?: number;
  /** Apply the readiness/deletion time model; default true. */
  times?: boolean;
  /** A fault chosen for one call, over the seeded ones (a test that needs this very call's answer lost). */
  faultOf?: (call: Call) => Fault | undefined;
  /**
   * Holds a call before it reaches the local AWS until the promise settles: its time is the test's (a test that
   * must act while the call is in flight). A call whose client went away meanwhile is never sent on.
   */
  holdOf?: (call: Call) => Promise<void> | undefined;
  /** Called with every call as it arrives, and the fault it gets (for tests and benchmarks that trace). */
  onCall?: (call: Call, fault: Fault | undefined) => void;
}

export interface ModelStats {
  /** AWS calls seen (moto's own /moto-api calls are passed through and not counted). */
  calls: number;
  /** Faults injected, by kind: throttle, serverError, reset, slow. */
  faults: Record<string, number>;
  /** Calls by `service:Operation`, e.g. `rds:DescribeDBInstances`. */
  byOperation: Record<string, number>;
  /** Calls the time model refused as AWS would (a role Lambda cannot assume yet), by reason. */
  refusals: Record<string, number>;
  /**
   * moto's own time per call, in real milliseconds. Where it exceeds the modelled latency (scaled), the
   * emulator, not the model, sets the pace: a benchmark's figures then overstate AWS time.
   */
  upstreamMs: { median: number; p90: number; max: number; overLatency: number };
}

export interface AwsModel {
  endpoint: string;
  /** AWS seconds per real second, as started. */
  speedup: number;
  /** The clock the readiness times are read on (AWS ms); a manual one is moved with `advance`. */
  clock: ModelClock;
  stop(): Promise<void>;
  stats(): ModelStats;
}

export async function startAwsModel(options: ModelOptions): Promise<AwsModel> {
  const speedup = options.speedup ?? Number(process.env.TOUCHDOWN_MODEL_SPEEDUP ?? 1);
  if (!(speedup > 0)) throw new Error(`speedup must be a positive number, got ${speedup}`);
  const real = (awsMs: number) => awsMs / speedup;
  const clock = modelClock(options.clock ?? 'scaled', speedup);
  const latency = real(options.latencyMs ?? LATENCY.ms);
  const rates = options.faults ?? {};
  const seed = options.seed ?? 1;
  const upstream = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const stats = { calls: 0, faults: {} as Record<string, number>, byOperation: {} as Record<string, number> };
  const upstreamMs: number[] = [];

  const forward = (call: Call, body: Buffer = call.body): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers = { ...call.headers, 'content-length': String(body.length) };
      delete headers['transfer-encoding'];
      delete headers.expect;
      const search = call.query.toString();
      const req = request(
        {
          agent,
          host: upstream.hostname,
          port: upstream.port,
          method: call.method,
          path: `${call.path}${search ? `?${search}` : ''}`,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const tokens = new IdempotencyTokens();
  const lifecycle = new Lifecycle(clock, (call, body) =>
    forward({ ...call, query: new URLSearchParams() }, Buffer.from(body)),
  );

  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const started = Date.now();
    // moto's own control API (reset, state manager) is the test's, not AWS's: straight through.
    if (req.url?.startsWith('/moto-api')) {
      const call = identify(-1, { method: req.method!, url: req.url, headers: req.headers }, body);
      return send(req, res, await forward(call));
    }
    const index = stats.calls++;
    const call = identify(index, { method: req.method!, url: req.url!, headers: req.headers }, body);
    const key = `${call.service}:${call.operation}`;
    stats.byOperation[key] = (stats.byOperation[key] ?? 0) + 1;
    const fault = options.faultOf?.(call) ?? faultFor(seed, index, rates, createsSomething(call));
    if (fault) stats.faults[fault.kind] = (stats.faults[fault.kind] ?? 0) + 1;
    options.onCall?.(call, fault);
    // Every answer takes at least the call's latency, moto's own time included.
    const answerAfter = async (answer: Answer, extraMs = 0) => {
      await sleep(Math.max(0, started + latency + extraMs - Date.now()));
      send(req, res, answer);
    };

    if (fault?.kind === 'throttle') return answerAfter(throttleAnswer(call));
    if (fault?.kind === 'serverError') return answerAfter(serverErrorAnswer(call, fault.status));
    if (fault?.kind === 'reset' && !fault.afterForwarding) {
      await sleep(latency / 2);
      return req.socket.destroy();
    }
    const held = options.holdOf?.(call);
    if (held) {
      await held;
      if (req.socket.destroyed) return;
    }
    const modelled = options.times !== false;
    const refused = modelled ? await lifecycle.before(call) : undefined;
    if (refused) return answerAfter(refused);
    const asked = Date.now();
    const answer = tokens.replay(call) ?? asAwsAnswers(call, await forward(call));
    tokens.remember(call, answer);
    upstreamMs.push(Date.now() - asked);
    if (fault?.kind === 'reset') {
      // The call took effect; only its answer is lost.
      await sleep(latency / 2);
      return req.socket.destroy();
    }
    const shown = modelled ? lifecycle.after(call, answer) : answer;
    return answerAfter(shown, fault?.kind === 'slow' ? real(rates.slowMs ?? SLOW_ANSWER_MS) : 0);
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: Error) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(`the AWS model could not reach the local AWS: ${err.message}`);
        }
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    // As for moto: clients must use localhost, never a dotted address (read as a bucket name).
    endpoint: `http://localhost:${port}`,
    speedup,
    clock,
    stats: () => ({
      calls: stats.calls,
      faults: { ...stats.faults },
      byOperation: { ...stats.byOperation },
      refusals: { ...lifecycle.refusals },
      upstreamMs: spread(upstreamMs, latency),
    }),
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function spread(ms: number[], latency: number): ModelStats['upstreamMs'] {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  const overLatency = sorted.filter((m) => m > latency).length / Math.max(1, sorted.length);
  return { median: at(0.5), p90: at(0.9), max: at(1), overLatency: Number(overLatency.toFixed(3)) };
}

/** The engine's own wait timing at the model's speed: the same polls and timeouts, in AWS time. */
export function scaledWaitTiming(speedup: number): WaitTiming {
  return {
    initialDelayMs: DEFAULT_WAIT_TIMING.initialDelayMs / speedup,
    maxDelayMs: DEFAULT_WAIT_TIMING.maxDelayMs / speedup,
    defaultTimeoutMs: DEFAULT_WAIT_TIMING.defaultTimeoutMs,
    timeoutFactor: (DEFAULT_WAIT_TIMING.timeoutFactor ?? 1) / speedup,
  };
}

function send(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return;
  // A HEAD answer's length is the length of what a GET would return.
  const headers: Answer['headers'] = { ...answer.headers };
  if (req.method !== 'HEAD') headers['content-length'] = String(answer.body.length);
  delete headers['transfer-encoding'];
  delete headers.connection;
  delete headers['keep-alive'];
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
