// boto3 as the independent witness: tests check what Touchdown made with AWS's own Python SDK.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { repoRoot, venvPython } from './paths.js';

export class BotoError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The run's shared boto3 peer, which scripts/test.sh starts beside the pooled local AWS servers. */
function sharedPeerSocket(): string | undefined {
  const pool = process.env.TOUCHDOWN_TEST_AWS_POOL;
  const socket = pool && join(pool, 'boto.sock');
  return socket && existsSync(socket) ? socket : undefined;
}

export class Boto {
  private link?: { input: Readable; output: Writable };
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 1;

  constructor(
    private readonly endpoint: string,
    private readonly region = 'us-east-1',
  ) {}

  /**
   * Connected on the first call: to the run's shared peer when there is one, else to a child of this file's own
   * (Python and boto3 cost half a CPU second a process, and some files never ask).
   */
  private started(): Writable {
    if (this.link) return this.link.output;
    const socket = sharedPeerSocket();
    let name: string;
    if (socket) {
      name = `the shared boto3 peer (${socket})`;
      const conn = connect(socket);
      conn.on('error', (err) => this.failAll(`${name} failed: ${err.message}`));
      conn.on('close', () => this.failAll(`${name} closed the connection`));
      this.link = { input: conn, output: conn };
    } else {
      name = 'the boto3 peer (test/support/boto_peer.py)';
      const child = spawn(
        venvPython,
        [join(repoRoot, 'test', 'support', 'boto_peer.py'), this.endpoint, this.region],
        {
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      child.on('error', (err) => this.failAll(`${name} failed: ${err.message}`));
      child.on('exit', (code, signal) => this.failAll(`${name} exited (${signal ?? `code ${code}`})`));
      child.stdin!.on('error', (err) => this.failAll(`${name} failed: ${err.message}`));
      this.link = { input: child.stdout!, output: child.stdin! };
    }
    createInterface({ input: this.link.input }).on('line', (line) => {
      const answer = JSON.parse(line) as {
        id: number;
        result?: unknown;
        error?: { code: string; message: string };
      };
      const waiter = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (answer.error) waiter?.reject(new BotoError(answer.error.code, answer.error.message));
      else waiter?.resolve(answer.result);
    });
    return this.link.output;
  }

  /** A peer gone mid-call fails the test that waits on it, naming the peer, instead of leaving it hanging. */
  private failAll(reason: string): void {
    for (const [id, waiter] of this.pending) {
      this.pending.delete(id);
      waiter.reject(new Error(`boto3 call ${id} got no answer: ${reason}`));
    }
  }

  /** Calls one operation, spelt as AWS spells it: call('ec2', 'DescribeVpcs', { Filters: [...] }). */
  // biome-ignore lint/suspicious/noExplicitAny: answers are whatever AWS returns
  call<T = any>(service: string, op: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const request = { id, endpoint: this.endpoint, region: this.region, service, op, params };
      this.started().write(`${JSON.stringify(request)}\n`);
    });
  }

  /** The error code an operation fails with, or undefined when it succeeds. */
  async errorOf(
    service: string,
    op: string,
    params: Record<string, unknown> = {},
  ): Promise<string | undefined> {
    try {
      await this.call(service, op, params);
      return undefined;
    } catch (err) {
      if (err instanceof BotoError) return err.code;
      throw err;
    }
  }

  close(): void {
    this.link?.output.end();
  }
}
