// Where a no-op plan's time goes, call by call: when each AWS call starts, leaves (signed), reaches the AWS
// model, is answered and is parsed, in ms from the plan's start, and which type's finder made it; for
// plan-scale's network stack through the model at a per-call latency, in this process.
//   node --import tsx bench/plan-trace.ts [resources, default 10] [--latency=100] [--rounds=3] [--quiet]
//     [--thread: the model in a thread of its own] [--profile=file.cpuprofile: the timed rounds' CPU profile]
import { AsyncLocalStorage } from 'node:async_hooks';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { AwsClients } from '../src/aws/clients.js';
import { resourceTypes } from '../src/aws/registry.js';
import { Engine } from '../src/core/engine.js';
import { startAwsModel } from '../test/support/aws-model/proxy.js';
import { startLocalAws } from '../test/support/local-aws.js';
import { startModelThread } from './model-worker.js';
import { network } from './network-stack.js';
import { arg, median } from './results.js';

const n = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 10);
const latencyMs = Number(arg('latency') ?? 100);
const rounds = Number(arg('rounds') ?? 3);
const profile = arg('profile');
const quiet = process.argv.includes('--quiet');

interface Row {
  by: string;
  op: string;
  init: number;
  sent?: number;
  arrived?: number;
  received?: number;
  done?: number;
}
let t0 = 0;
const now = () => performance.now() - t0;
let rows: Row[] = [];
const byTrace = new Map<string, Row>();

// Which type's finder made each call.
const finding = new AsyncLocalStorage<string>();
for (const t of resourceTypes) {
  const find = t.find.bind(t);
  (t as { find: typeof find }).find = (ctx, wanted) => finding.run(t.kind, () => find(ctx, wanted));
}

type Handler = (args: { request: { headers: Record<string, string> } }) => Promise<unknown>;
interface Traced {
  middlewareStack: {
    add(
      mw: (next: Handler, context: { commandName?: string; traceRow?: Row }) => Handler,
      options: { step: string; name: string; priority: string },
    ): void;
  };
}

// Every client gets two more middlewares: around the whole call, and around the HTTP exchange alone (after
// signing, before parsing). AwsClients.count is where the product adds its own.
const proto = AwsClients.prototype as unknown as { count: (service: string, client: Traced) => void };
const count = proto.count;
proto.count = function (this: AwsClients, service: string, client: Traced) {
  count.call(this, service, client);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = `${service}:${String(context.commandName).replace(/Command$/, '')}`;
      const row: Row = { by: finding.getStore() ?? '', op, init: now() };
      rows.push(row);
      context.traceRow = row;
      try {
        return await next(args);
      } finally {
        row.done = now();
      }
    },
    { step: 'initialize', name: 'traceCall', priority: 'high' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const row = context.traceRow!;
      row.sent = now();
      const trace = `t${rows.indexOf(row)}`;
      args.request.headers['x-trace'] = trace;
      byTrace.set(trace, row);
      const answer = await next(args);
      row.received = now();
      return answer;
    },
    { step: 'deserialize', name: 'traceExchange', priority: 'low' },
  );
};

const arrived = (trace: string, at: number) => {
  const row = byTrace.get(trace);
  if (row) row.arrived = at - t0;
};

const local = await startLocalAws();
try {
  const stack = network(n);
  const engine = (aws: AwsClients) => new Engine({ stack, registry: resourceTypes, aws, concurrency: 10 });
  await engine(local.clients()).apply();
  const model = process.argv.includes('--thread')
    ? await startModelThread(local.endpoint, latencyMs, (trace, at) =>
        arrived(trace, at - performance.timeOrigin),
      )
    : await startAwsModel({
        upstream: local.endpoint,
        latencyMs,
        speedup: 1,
        onCall: (call) => arrived(String(call.headers['x-trace']), performance.now()),
      });
  const session = profile ? new Session() : undefined;
  session?.connect();
  await session?.post('Profiler.enable');
  await session?.post('Profiler.start');
  const totals: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      rows = [];
      const aws = new AwsClients({ region: local.region, endpoint: model.endpoint, maxAttempts: 3 });
      const cpu = process.cpuUsage();
      const elu = performance.eventLoopUtilization();
      t0 = performance.now();
      const { plan } = await engine(aws).plan();
      const total = now();
      const used = process.cpuUsage(cpu);
      const busy = performance.eventLoopUtilization(elu).active;
      const last = Math.max(...rows.map((row) => row.received ?? 0));
      totals.push(total);
      console.log(
        `round ${r + 1}: ${Math.round(total)} ms, ${plan.apiCalls} calls, noop ${plan.summary.noop}/${n}; ` +
          `process CPU ${Math.round((used.user + used.system) / 1000)} ms, main thread busy ${Math.round(busy)} ms; ` +
          `last answer at ${Math.round(last)} ms, ${Math.round(total - last)} ms before the plan's end`,
      );
      if (quiet) continue;
      const f = (x?: number) => (x === undefined ? '' : x.toFixed(0).padStart(5));
      for (const row of rows)
        console.log(
          `  ${row.by.padEnd(22)} ${row.op.padEnd(40)} start${f(row.init)} sent${f(row.sent)} ` +
            `arrived${f(row.arrived)} answered${f(row.received)} parsed${f(row.done)}`,
        );
    }
    console.log(`median ${Math.round(median(totals))} ms of ${rounds}`);
    if (session) {
      const { profile: taken } = await session.post('Profiler.stop');
      await writeFile(profile!, JSON.stringify(taken));
    }
  } finally {
    await model.stop();
  }
} finally {
  await local.stop();
}
