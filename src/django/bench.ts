// `touchdown bench`: a short load test of the app (seed 004 loads its Fargate service with hey), only ever
// against the stack's own hosts, and the web tasks' CPU over the run when the stack runs on ECS.
import type { AwsClients } from '../aws/clients.js';
import { ConfigError } from '../core/errors.js';

export interface BenchOptions {
  durationSeconds: number;
  connections: number;
  signal?: AbortSignal;
}

export interface BenchResult {
  url: string;
  start: string;
  finish: string;
  durationSeconds: number;
  connections: number;
  /** Requests answered. */
  requests: number;
  /** Requests sent, counting those still unanswered when the run ended. */
  sent: number;
  requestsPerSecond: number;
  /** Milliseconds. */
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  statusCodes: Record<string, number>;
  /** Connection errors and timeouts: requests that got no answer at all. */
  errors: number;
  timeouts: number;
  /** Answers outside 200-299. */
  non2xx: number;
}

export interface Cpu {
  /** Per minute over the run, in percent of what the task definition reserves. */
  points: { time: string; average: number; maximum: number }[];
  average?: number;
  maximum?: number;
}

/**
 * The URL to load: `target` is a path on the stack's first host, or a full URL that must be on one of the
 * stack's hosts. Refused (nothing sent) otherwise: a load test of someone else's site is an attack.
 */
export function benchUrl(target: string | undefined, own: string[], where: string): URL {
  const hosts = own.map((o) => new URL(o));
  if (hosts.length === 0) throw new ConfigError(`${where} has no address to load yet`);
  const given = target ?? '/';
  const absolute = /^https?:\/\//i.test(given);
  if (!absolute && !given.startsWith('/'))
    throw new ConfigError(
      `"${given}": give a path starting with / (e.g. /healthz), or a URL on ${own.join(', ')}`,
    );
  const url = absolute ? new URL(given) : new URL(given, hosts[0]);
  const ours = hosts.some((h) => h.host.toLowerCase() === url.host.toLowerCase());
  if (!ours)
    throw new ConfigError(
      `${url.host} is not ${where}'s: touchdown bench loads only the stack's own hosts (${hosts.map((h) => h.host).join(', ')}); nothing was sent`,
    );
  return url;
}

/** The stack's own addresses from its outputs (URL, load balancer, CloudFront) and its domain. */
export function ownAddresses(outputs: Record<string, unknown>, domain: string | undefined): string[] {
  const out: string[] = [];
  const add = (v: unknown, scheme: string) => {
    if (typeof v !== 'string' || v === '') return;
    out.push(/^https?:\/\//.test(v) ? v : `${scheme}://${v}`);
  };
  add(outputs.url, 'https');
  if (domain) add(domain, 'https');
  // The load balancer answers HTTPS on the domain's certificate only: its own name is reached over HTTP.
  add(outputs.loadBalancer, 'http');
  add(outputs.cdn, 'https');
  add(outputs.api, 'https');
  return [...new Set(out)];
}

/** Runs the load with autocannon (loaded only here) and summarises it. */
export async function runBench(url: URL, o: BenchOptions): Promise<BenchResult> {
  const { default: autocannon } = await import('autocannon');
  const instance = autocannon({
    url: url.toString(),
    duration: o.durationSeconds,
    connections: o.connections,
    // Each request waits for the app: a slow answer counts as slow, not as a new request.
    pipelining: 1,
    timeout: 30,
  });
  const stop = () => (instance as unknown as { stop(): void }).stop();
  o.signal?.addEventListener('abort', stop, { once: true });
  const r = await instance;
  o.signal?.removeEventListener('abort', stop);
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {}))
    statusCodes[code] = (s as { count: number }).count;
  const answered = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    url: url.toString(),
    start: new Date(r.start).toISOString(),
    finish: new Date(r.finish).toISOString(),
    durationSeconds: r.duration,
    connections: o.connections,
    requests: answered,
    sent: (r.requests as { sent?: number }).sent ?? answered,
    requestsPerSecond: r.duration > 0 ? Math.round((answered / r.duration) * 10) / 10 : 0,
    latency: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
      average: r.latency.average,
    },
    statusCodes,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}

/**
 * The web service's CPU over the run, from CloudWatch (ECS sends it once a minute; the last minute may not
 * have arrived yet). https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service_utilization.html
 */
export async function serviceCpu(
  aws: AwsClients,
  cluster: string,
  service: string,
  start: Date,
  finish: Date,
): Promise<Cpu> {
  const cw = await aws.client('cloudWatch');
  const minute = 60_000;
  const from = new Date(Math.floor(start.getTime() / minute) * minute);
  const to = new Date(Math.ceil(finish.getTime() / minute) * minute + minute);
  const metric = (Stat: string) => ({
    Id: Stat.toLowerCase(),
    MetricStat: {
      Metric: {
        Namespace: 'AWS/ECS',
        MetricName: 'CPUUtilization',
        Dimensions: [
          { Name: 'ClusterName', Value: cluster },
          { Name: 'ServiceName', Value: service },
        ],
      },
      Period: 60,
      Stat,
    },
  });
  const { MetricDataResults } = await cw.getMetricData({
    StartTime: from,
    EndTime: to,
    MetricDataQueries: [metric('Average'), metric('Maximum')],
    ScanBy: 'TimestampAscending',
  });
  const avg = MetricDataResults?.find((m) => m.Id === 'average');
  const max = MetricDataResults?.find((m) => m.Id === 'maximum');
  const points = (avg?.Timestamps ?? []).map((t, i) => {
    const j = max?.Timestamps?.findIndex((x) => x.getTime() === t.getTime()) ?? -1;
    const average = avg?.Values?.[i] ?? 0;
    return { time: t.toISOString(), average, maximum: j >= 0 ? (max?.Values?.[j] ?? average) : average };
  });
  if (points.length === 0) return { points };
  return {
    points,
    average: points.reduce((a, p) => a + p.average, 0) / points.length,
    maximum: Math.max(...points.map((p) => p.maximum)),
  };
}
