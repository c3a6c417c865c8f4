// The local AWS the stack's buckets, parameters, queues and email identity live in: an emulator (moto) that
// answers the very same S3, SSM, SQS and SES calls. One the user runs (--local-aws, TOUCHDOWN_LOCAL_AWS, or a
// loopback AWS_ENDPOINT_URL), else a moto_server this run starts and stops, from the app's virtualenv or PATH.
import { access, constants } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import type { Python } from './python.js';

/** Credentials for the emulator: never the user's own, so no call can reach a real account by mistake. */
export const EMULATOR_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'touchdown-local',
  AWS_SECRET_ACCESS_KEY: 'touchdown-local',
};

export type LocalAwsChoice =
  | { endpoint: string; how: string; start?: undefined }
  | { endpoint: string; how: string; start: { command: string[]; port: number } };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** Which local AWS to use; when none runs, the command that starts one (not started yet). */
export async function chooseLocalAws(python: Python, asked?: string): Promise<LocalAwsChoice> {
  const given = asked
    ? { url: asked, from: '--local-aws' }
    : process.env.TOUCHDOWN_LOCAL_AWS
      ? { url: process.env.TOUCHDOWN_LOCAL_AWS, from: 'TOUCHDOWN_LOCAL_AWS' }
      : process.env.AWS_ENDPOINT_URL && isLoopback(process.env.AWS_ENDPOINT_URL)
        ? { url: process.env.AWS_ENDPOINT_URL, from: 'AWS_ENDPOINT_URL' }
        : undefined;
  if (given) {
    const endpoint = normalize(given.url, given.from);
    if (!(await answers(endpoint))) {
      throw new ConfigError(
        `no local AWS answers at ${endpoint} (${given.from}): start it (moto_server -H 127.0.0.1 -p PORT), or leave ${given.from} unset and touchdown starts one`,
      );
    }
    return { endpoint, how: given.from };
  }
  const moto = await findMotoServer(python);
  if (!moto) {
    throw new ConfigError(
      `no local AWS: install the emulator into the app's virtualenv (${python.path} -m pip install "moto[server]"), or pass --local-aws URL (or set TOUCHDOWN_LOCAL_AWS) for one already running`,
    );
  }
  const port = await freePort();
  // moto reads the first label of a dotted host as a bucket name: clients use localhost, not 127.0.0.1.
  return {
    endpoint: `http://localhost:${port}`,
    how: `started by touchdown (${moto})`,
    start: { command: [moto, '-H', '127.0.0.1', '-p', String(port)], port },
  };
}

async function findMotoServer(python: Python): Promise<string | undefined> {
  const dirs = [python.bin, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = join(dir, 'moto_server');
    const ok = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return candidate;
  }
  return undefined;
}

function isLoopback(url: string): boolean {
  try {
    return LOOPBACK.has(new URL(url).hostname);
  } catch {
    return false;
  }
}

function normalize(url: string, from: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${from} ${url}: write it like http://localhost:5000`);
  }
  if (u.hostname === '127.0.0.1') u.hostname = 'localhost';
  return u.origin;
}

/**
 * True when something answers HTTP there. Where nothing listens the connection is refused at once; a server
 * that listens gets `timeoutMs` to answer, since moto on a busy machine is slow, not gone (a loaded test run
 * saw its answer take over 2 s, and up stopped, saying nothing answered).
 */
export async function answers(endpoint: string, timeoutMs = 30_000): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** Waits until a started emulator answers: while it starts its port refuses, and each refusal is retried. */
export async function waitUntilAnswering(endpoint: string, alive: () => boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(endpoint, Math.max(1_000, deadline - Date.now()))) return;
    if (!alive()) throw new Error(`the local AWS (moto_server) exited before it answered at ${endpoint}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the local AWS did not answer at ${endpoint} within ${timeoutMs / 1000}s`);
}

/** A port nothing listens on now, on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
