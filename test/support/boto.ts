// boto3 as the independent witness: tests check what Touchdown made with AWS's own Python SDK.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot, venvPython } from './paths.js';

export class BotoError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Boto {
  private child?: ChildProcess;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 1;

  constructor(
    private readonly endpoint: string,
    private readonly region = 'us-east-1',
  ) {}

  /** Started on the first call: Python and boto3 cost half a CPU second a file, and some files never ask. */
  private started(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(
      venvPython,
      [join(repoRoot, 'test', 'support', 'boto_peer.py'), this.endpoint, this.region],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
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
    return child;
  }

  /** Calls one operation, spelt as AWS spells it: call('ec2', 'DescribeVpcs', { Filters: [...] }). */
  // biome-ignore lint/suspicious/noExplicitAny: answers are whatever AWS returns
  call<T = any>(service: string, op: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.started().stdin!.write(`${JSON.stringify({ id, service, op, params })}\n`);
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
    this.child?.stdin?.end();
  }
}
