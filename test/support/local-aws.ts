// Starts the local AWS (moto server) for one test file, on a free port, and stops it with the process; or,
// under scripts/test.sh, leases one of the servers it started for the whole run (see leasePooled).
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as pause } from 'node:timers/promises';
import { AwsClients } from '../../src/aws/clients.js';
import type { AwsModel } from './aws-model/proxy.js';
import { repoRoot, venvPython } from './paths.js';

export interface LocalAws {
  endpoint: string;
  region: string;
  /** Environment for a child process (the CLI) to reach this local AWS. */
  env: Record<string, string>;
  /** Fresh SDK clients pointed at the local AWS, as the CLI makes them. */
  clients(): AwsClients;
  /** Wipes every resource: each test case starts from an empty account. */
  reset(): Promise<void>;
  /**
   * Stages how a model's state advances in the emulator, e.g. ('ecs::task', { progression: 'manual', times: 1e6 })
   * keeps tasks RUNNING; ('ecs::task', { progression: 'immediate' }) lets them stop at once.
   */
  setTransition(model: string, transition: Record<string, unknown>): Promise<void>;
  /** Where each load balancer's listeners answer here (only with `apps`): DNS name -> listener port -> URL. */
  loadBalancers(): Promise<LocalLoadBalancer[]>;
  /**
   * Where each API Gateway HTTP API (its execute-api endpoint) and each custom domain answers here (only with
   * `apps`): requests run the routes' Lambda integrations in a local Python.
   */
  httpApis(): Promise<LocalHttpApis>;
  /** The local PostgreSQL database that serves each RDS instance, by `<region>/<instance id>` (only with `apps`, once a task used it). */
  databases(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export interface LocalLoadBalancer {
  arn: string;
  dnsName: string;
  /** The listener's port on AWS (80, 443) -> its URL here (HTTPS listeners are served as plain HTTP). */
  listeners: Record<string, string>;
}

export interface LocalHttpApis {
  /** endpoint: https://{api-id}.execute-api.{region}.amazonaws.com; url: where it answers here. */
  apis: { apiId: string; endpoint: string; region: string; url: string }[];
  domains: { domainName: string; region: string; url: string }[];
}

/**
 * ECS tasks run as local processes (scripts/local_aws/settings.py): an image glob -> the project folder and the
 * virtualenv it runs with. Target groups health-check their targets, load balancers answer on local ports.
 */
export interface LocalApps {
  /** `env`: more ENV for the image, beside its Dockerfile's (e.g. WEB_CONCURRENCY: '1'). {} for Lambda alone. */
  images: Record<string, { dir: string; python?: string; env?: Record<string, string> }>;
  /** AWS's intervals (health checks, grace period, stop timeout) times this. @default 0.05 */
  timeScale?: number;
}

export const TEST_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: 'testing',
};

/**
 * Emulator gap: moto loads each service on its first call, which on a busy 2-core machine can take longer than AWS's
 * silence limit (over 60 s at load 50 with stress-ng beside it). The local AWS is slow, never silent: wait for its
 * answer as long as the suite lets a test file run (scripts/test.sh --test-timeout).
 */
const LOADED_MACHINE = { TOUCHDOWN_AWS_READ_TIMEOUT: '600' };

export interface LocalAwsOptions {
  region?: string;
  /**
   * Settings of the emulator itself (emulator.md), e.g. MOTO_ACM_VALIDATION_WAIT or MOTO_ECS_SERVICE_RUNNING: a
   * leased server takes them for the lease (scripts/local_aws/lease_settings.py lists those it can).
   */
  env?: Record<string, string>;
  /** Runs the app: what ECS would run starts here as processes (only in the tests that need it: it costs seconds). */
  apps?: LocalApps;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const region = options.region ?? 'us-east-1';
  const settings: Record<string, string> = {
    ...options.env,
    ...(options.apps
      ? {
          LOCAL_AWS_IMAGES: JSON.stringify(options.apps.images),
          LOCAL_AWS_TIME_SCALE: String(options.apps.timeScale ?? 0.05),
        }
      : {}),
  };
  // A server of the pool takes a file's settings for the lease; apps go to the pool's servers that run apps.
  // Default AMIs are loaded as moto builds a region's EC2 backend: a file that needs them starts a server of its
  // own, started with them (a leased apps server once served deploy-ec2 without them in a full run, cause not found).
  const lease = settings.MOTO_EC2_LOAD_DEFAULT_AMIS
    ? undefined
    : await leasePooled(options.apps ? 'apps' : 'server');
  let child: ChildProcess | undefined;
  let port: number;
  let harness: number | undefined;
  const pool = process.env.TOUCHDOWN_TEST_AWS_POOL;
  // scripts/test.sh counts these at the end: each costs seconds of CPU a leased server would not.
  if (pool && !lease)
    await appendFile(
      join(pool, 'own-servers.log'),
      `${relative(repoRoot, process.argv[1] ?? '?')} ${settings.MOTO_EC2_LOAD_DEFAULT_AMIS ? 'default AMIs' : `every ${options.apps ? 'apps' : 'plain'} server leased`}\n`,
    );
  if (lease) {
    ({ port, harness } = lease);
  } else {
    child = spawn(venvPython, [join(repoRoot, 'scripts', 'local_aws.py'), '--port', '0'], {
      stdio: ['pipe', 'pipe', 'inherit'],
      // LOCAL_AWS_APPS: runs apps, also the Lambda functions and HTTP APIs of a stack without images.
      env: { ...process.env, ...settings, ...(options.apps ? { LOCAL_AWS_APPS: 'true' } : {}) },
    });
    const started = child;
    ({ port, harness } = await new Promise<{ port: number; harness?: number }>((resolve, reject) => {
      const lines = createInterface({ input: started.stdout! });
      started.once('error', reject);
      started.once('exit', (code) =>
        reject(new Error(`the local AWS exited with code ${code} before it started`)),
      );
      lines.once('line', (line) => resolve(JSON.parse(line) as { port: number; harness?: number }));
    }));
  }
  // An address, not a name: no DNS lookup per call (moto closes every connection). moto 5.2.5 reads an IPv4 host
  // as path-style S3, as it reads localhost (moto/s3/responses.py subdomain_based_buckets).
  const endpoint = `http://127.0.0.1:${port}`;
  Object.assign(process.env, TEST_CREDENTIALS, LOADED_MACHINE, {
    AWS_REGION: region,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const moto = (path: string, body?: string) =>
    fetch(`${endpoint}/moto-api/${path}`, { method: 'POST', ...(body ? { body } : {}) });
  /** Models staged by this process: a leased server unstages them when given back (a reset keeps them). */
  const staged = new Set<string>();
  // What moto-api/config held when leased (a test may change it): given back with the server.
  const config = lease ? await (await fetch(`${endpoint}/moto-api/config`)).text() : '';
  if (lease) {
    // Also clears what a holder that died left set; the reset after it makes backends read at creation see them.
    await setLeaseSettings(endpoint, settings).catch(async (error: Error) => {
      await lease.release();
      throw error;
    });
    await moto('reset');
  }
  return {
    endpoint,
    region,
    env: { ...TEST_CREDENTIALS, ...LOADED_MACHINE, AWS_REGION: region, AWS_ENDPOINT_URL: endpoint },
    clients: () => new AwsClients({ region, endpoint, maxAttempts: 3 }),
    reset: async () => {
      const res = await moto('reset');
      if (!res.ok) throw new Error(`resetting the local AWS failed: HTTP ${res.status}`);
    },
    setTransition: async (model, transition) => {
      staged.add(model);
      const res = await moto(
        'state-manager/set-transition',
        JSON.stringify({ model_name: model, transition }),
      );
      if (!res.ok) throw new Error(`staging ${model} in the local AWS failed: HTTP ${res.status}`);
    },
    loadBalancers: () => harnessGet<LocalLoadBalancer[]>(harness, 'load-balancers'),
    httpApis: () => harnessGet<LocalHttpApis>(harness, 'http-apis'),
    databases: () => harnessGet<Record<string, string>>(harness, 'databases'),
    stop: async () => {
      if (lease) {
        for (const model of staged)
          await moto('state-manager/unset-transition', JSON.stringify({ model_name: model }));
        await moto('config', config);
        // The reset first: it stops what ran for this holder before its images are forgotten.
        await moto('reset');
        await setLeaseSettings(endpoint, {});
        return lease.release();
      }
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * scripts/test.sh starts a few local AWS servers with the default settings for the whole run and names their
 * folder in TOUCHDOWN_TEST_AWS_POOL (server-<n>.json: the port, once it answers; apps-<n>.json: one that runs
 * apps, started with LOCAL_AWS_APPS=true, and its harness port). A test file leases a free one
 * (an atomic mkdir; a lease whose process is gone is taken over), sets the file's settings on it and resets it:
 * a fresh moto spends seconds of CPU building its backends on the first plan, a reset one a fraction of a second.
 * None free: undefined.
 */
async function leasePooled(
  kind: 'server' | 'apps',
): Promise<{ port: number; harness?: number; release: () => Promise<void> } | undefined> {
  const dir = process.env.TOUCHDOWN_TEST_AWS_POOL;
  if (!dir) return undefined;
  const pattern = new RegExp(`^${kind}-\\d+\\.json$`);
  // The first files of a run start with the servers: one still starting is waited for (seconds), where a server of
  // the file's own would cost its start and first plan again; a server whose process is gone is not.
  for (;;) {
    let starting = false;
    for (const file of (await readdir(dir)).filter((f) => pattern.test(f)).sort()) {
      let port: number;
      let harness: number | undefined;
      try {
        ({ port, harness } = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
          port: number;
          harness?: number;
        });
      } catch {
        const pid = Number(
          await readFile(join(dir, file.replace(/\.json$/, '.pid')), 'utf8').catch(() => '0'),
        );
        starting ||= pid > 0 && alive(pid);
        continue;
      }
      const lock = join(dir, `${file}.lease`);
      const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
      if (holder && holder !== process.pid && !alive(holder))
        await rm(lock, { recursive: true, force: true });
      try {
        await mkdir(lock);
      } catch {
        continue; // leased by another test file
      }
      await writeFile(join(lock, 'pid'), String(process.pid));
      return {
        port,
        harness,
        release: () => rm(lock, { recursive: true, force: true }),
      };
    }
    if (!starting) return undefined;
    await pause(50);
  }
}

/** The emulator's settings for this lease; the others back at the server's own (an unknown one is refused). */
async function setLeaseSettings(endpoint: string, settings: Record<string, string>): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/local-aws/settings`, {
    method: 'POST',
    body: JSON.stringify(settings),
  });
  if (!res.ok) throw new Error(`setting the leased local AWS's settings failed: ${await res.text()}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but is another user's, so the lease is still held; only ESRCH means gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A question to the harness's own endpoint (scripts/local_aws/api.py). */
async function harnessGet<T>(port: number | undefined, path: string): Promise<T> {
  if (!port) throw new Error('the local AWS runs no apps: start it with the `apps` option');
  const res = await fetch(`http://127.0.0.1:${port}/${path}`);
  if (!res.ok) throw new Error(`asking the local AWS for /${path} failed: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/**
 * The same local AWS reached through the AWS model: clients and the CLI's environment point at the model;
 * reset and staging still go to moto itself; stop ends both. Clients keep the product's own retry count,
 * as the model's faults are meant for it.
 */
export function throughModel(local: LocalAws, model: AwsModel): LocalAws {
  return {
    ...local,
    endpoint: model.endpoint,
    env: { ...local.env, AWS_ENDPOINT_URL: model.endpoint },
    clients: () => new AwsClients({ region: local.region, endpoint: model.endpoint }),
    stop: async () => {
      await model.stop();
      await local.stop();
    },
  };
}
