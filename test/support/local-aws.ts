// Starts the local AWS (moto server) for one test file, on a free port, and stops it with the process.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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
  stop(): Promise<void>;
}

export const TEST_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: 'testing',
};

/** Emulator gap: moto loads each service on its first call, which on a busy 2-core machine can take longer than AWS's silence limit. */
const LOADED_MACHINE = { TOUCHDOWN_AWS_READ_TIMEOUT: '60' };

export interface LocalAwsOptions {
  region?: string;
  /** Settings of the emulator itself (emulator.md), e.g. MOTO_ACM_VALIDATION_WAIT or MOTO_ECS_SERVICE_RUNNING. */
  env?: Record<string, string>;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const region = options.region ?? 'us-east-1';
  const child: ChildProcess = spawn(venvPython, [join(repoRoot, 'scripts', 'local_aws.py'), '--port', '0'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`the local AWS exited with code ${code} before it started`)),
    );
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  // moto reads the first label of a dotted host as a bucket name: use localhost, not 127.0.0.1.
  const endpoint = `http://localhost:${port}`;
  Object.assign(process.env, TEST_CREDENTIALS, LOADED_MACHINE, {
    AWS_REGION: region,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  return {
    endpoint,
    region,
    env: { ...TEST_CREDENTIALS, ...LOADED_MACHINE, AWS_REGION: region, AWS_ENDPOINT_URL: endpoint },
    clients: () => new AwsClients({ region, endpoint, maxAttempts: 3 }),
    reset: async () => {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`resetting the local AWS failed: HTTP ${res.status}`);
    },
    setTransition: async (model, transition) => {
      const res = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
        method: 'POST',
        body: JSON.stringify({ model_name: model, transition }),
      });
      if (!res.ok) throw new Error(`staging ${model} in the local AWS failed: HTTP ${res.status}`);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      child.kill('SIGTERM');
      await exited;
    },
  };
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
