// `touchdown bench [path]`: load the deployed app (or, with --local, the one `touchdown up` runs) for a short
// while and print requests per second, latency percentiles, status codes, errors, and the web tasks' CPU.
import { findConfig, isManifest } from '../../config/load.js';
import { loadManifest } from '../../config/load-manifest.js';
import { ConfigError } from '../../core/errors.js';
import {
  type BenchResult,
  benchUrl,
  type Cpu,
  ownAddresses,
  runBench,
  serviceCpu,
} from '../../django/bench.js';
import { services } from '../../django/operations.js';
import { readState, runningStack } from '../../local/state.js';
import { localTarget, suggest } from '../../local/target.js';
import { type GlobalOptions, openApp, parseDuration } from '../session.js';
import { streams } from '../streams.js';

export interface BenchCommandOptions extends GlobalOptions {
  local?: boolean;
  duration?: string;
  connections?: number;
}

const out = (s: string) => streams.stdout.write(`${s}\n`);

export async function benchCommand(path: string | undefined, options: BenchCommandOptions): Promise<number> {
  // Flags first: a bad one is refused before anything is read or sent.
  const durationSeconds = parseDuration(options.duration ?? '10s') / 1000;
  if (durationSeconds < 1 || durationSeconds > 3600)
    throw new ConfigError(`--duration ${options.duration}: give 1s to 1h`);
  const connections = options.connections ?? 10;
  if (connections > 1000) throw new ConfigError(`--connections ${connections}: at most 1000`);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  try {
    const run = { durationSeconds, connections, signal: controller.signal };
    if (options.local) {
      const result = await runBench(await localUrl(path, options), run);
      show(result, undefined, 'local');
      return 0;
    }
    const s = await openApp(options, 'bench');
    try {
      const { world } = await s.engine.plan();
      s.close();
      const outputs = s.engine.outputsOf(world);
      const url = benchUrl(path, ownAddresses(outputs, s.app.manifest.domain?.name), s.app.stackName);
      const ecs = s.app.manifest.web.compute === 'lambda' ? undefined : services(world, s.engine.stack);
      if (!options.json)
        streams.stderr.write(`loading ${url} for ${durationSeconds}s with ${connections} connections\n`);
      const result = await runBench(url, run);
      const web = ecs?.services.web;
      const cpu =
        ecs && web
          ? await serviceCpu(s.aws, ecs.cluster, web, new Date(result.start), new Date(result.finish))
          : undefined;
      show(result, cpu, s.app.manifest.web.compute);
      return 0;
    } finally {
      s.close();
    }
  } finally {
    process.off('SIGINT', onSigint);
  }

  function show(r: BenchResult, cpu: Cpu | undefined, compute: string) {
    if (options.json) {
      out(
        JSON.stringify(
          { ...r, ...(compute === 'local' || compute === 'lambda' ? {} : { cpu: cpu ?? null }) },
          null,
          2,
        ),
      );
      return;
    }
    out(`${r.url}: ${r.requests} requests in ${r.durationSeconds}s over ${r.connections} connections`);
    out(`  requests per second  ${r.requestsPerSecond}`);
    const l = r.latency;
    out(`  latency (ms)         p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  max ${l.max}`);
    const codes = Object.entries(r.statusCodes).map(([c, n]) => `${c}: ${n}`);
    out(`  status codes         ${codes.join(', ') || 'none (no answer)'}`);
    out(
      `  errors               ${r.errors} (of which ${r.timeouts} timeouts), ${r.non2xx} answers outside 2xx`,
    );
    // Requests in flight when the run ended reach the app, but have no latency to count.
    if (r.sent > r.requests)
      out(
        `  unanswered           ${r.sent - r.requests} still in flight when the run ended (not in the figures)`,
      );
    if (compute === 'local' || compute === 'lambda') return;
    if (!cpu || cpu.average === undefined) {
      // ECS sends CPU once a minute: a run that just ended may have none yet.
      out(
        '  web CPU              no CPU data yet (ECS reports it each minute; look again with --duration 2m or later in CloudWatch)',
      );
      return;
    }
    out(
      `  web CPU              average ${cpu.average.toFixed(1)}%, highest ${cpu.maximum!.toFixed(1)}% (${cpu.points.length} minute(s))`,
    );
  }
}

/** The URL on the stack `touchdown up` runs now: localhost on its port. */
async function localUrl(path: string | undefined, options: GlobalOptions): Promise<URL> {
  const config = await findConfig(options.config);
  if (!isManifest(config))
    throw new ConfigError('touchdown bench --local loads a Django app run by touchdown up (touchdown.yml)');
  const t = localTarget(await loadManifest(config, options.stage), options.stage !== undefined);
  const state = runningStack(await readState(t.dir));
  if (!state?.url || state.status !== 'running')
    throw new ConfigError(
      `${t.stack} does not run on this machine: start it with ${suggest(t, 'touchdown up --detach')}`,
    );
  const port = new URL(state.url).port;
  return benchUrl(path, [state.url, `http://127.0.0.1:${port}`], t.stack);
}
