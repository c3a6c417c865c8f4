// One factory for every AWS client: loaded on first use (the CLI starts fast), one retry policy,
// endpoints and credentials from the standard AWS chain, and a count of every call made.
import type { EC2 } from '@aws-sdk/client-ec2';
import type { IAM } from '@aws-sdk/client-iam';
import type { KMS } from '@aws-sdk/client-kms';
import type { ResourceGroupsTaggingAPI } from '@aws-sdk/client-resource-groups-tagging-api';
import type { S3 } from '@aws-sdk/client-s3';
import type { SecretsManager } from '@aws-sdk/client-secrets-manager';
import type { SSM } from '@aws-sdk/client-ssm';
import type { STS } from '@aws-sdk/client-sts';

export interface AwsOptions {
  region: string;
  /** Overrides the endpoint of every service (a local AWS). AWS_ENDPOINT_URL is honoured without it. */
  endpoint?: string;
  /** Attempts per call, counting the first; throttling, 5xx and dropped connections are retried with jittered backoff. */
  maxAttempts?: number;
}

export interface ApiCall {
  service: string;
  operation: string;
}

interface Sendable {
  middlewareStack: {
    add(
      mw: (
        next: (a: unknown) => Promise<unknown>,
        ctx: Record<string, unknown>,
      ) => (a: unknown) => Promise<unknown>,
      opts: { step: 'initialize'; name: string },
    ): void;
  };
}

export class AwsClients {
  /** Every API call made through these clients, in order. Benchmarks and tests read it. */
  readonly calls: ApiCall[] = [];
  private readonly cache = new Map<string, Promise<unknown>>();
  private accountId?: Promise<string>;

  constructor(readonly options: AwsOptions) {}

  get region(): string {
    return this.options.region;
  }

  /** True when the clients talk to an endpoint other than AWS's own (for example a local AWS). */
  get customEndpoint(): boolean {
    return Boolean(this.options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? process.env.AWS_ENDPOINT_URL_S3);
  }

  ec2 = () => this.load('ec2', async () => new (await import('@aws-sdk/client-ec2')).EC2(this.config()));
  s3 = () =>
    this.load(
      's3',
      async () =>
        new (await import('@aws-sdk/client-s3')).S3({
          ...this.config(),
          forcePathStyle: this.customEndpoint,
        }),
    );
  iam = () => this.load('iam', async () => new (await import('@aws-sdk/client-iam')).IAM(this.config()));
  ssm = () => this.load('ssm', async () => new (await import('@aws-sdk/client-ssm')).SSM(this.config()));
  kms = () => this.load('kms', async () => new (await import('@aws-sdk/client-kms')).KMS(this.config()));
  sts = () => this.load('sts', async () => new (await import('@aws-sdk/client-sts')).STS(this.config()));
  secretsManager = () =>
    this.load(
      'secretsmanager',
      async () => new (await import('@aws-sdk/client-secrets-manager')).SecretsManager(this.config()),
    );
  tagging = () =>
    this.load(
      'tagging',
      async () =>
        new (await import('@aws-sdk/client-resource-groups-tagging-api')).ResourceGroupsTaggingAPI(
          this.config(),
        ),
    );

  /** The account the credentials belong to, asked once. */
  account(): Promise<string> {
    this.accountId ??= this.sts()
      .then((sts) => sts.getCallerIdentity({}))
      .then((r) => r.Account ?? '');
    return this.accountId;
  }

  private config() {
    return {
      region: this.options.region,
      maxAttempts: this.options.maxAttempts ?? 8,
      retryMode: 'standard' as const,
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
    };
  }

  private load<T>(service: string, make: () => Promise<T>): Promise<T> {
    let client = this.cache.get(service) as Promise<T> | undefined;
    if (!client) {
      client = make().then((c) => {
        (c as unknown as { send: unknown; middlewareStack?: unknown }).middlewareStack &&
          this.count(service, c as unknown as Sendable);
        return c;
      });
      this.cache.set(service, client);
    }
    return client;
  }

  private count(service: string, client: Sendable): void {
    client.middlewareStack.add(
      (next, context) => (args) => {
        this.calls.push({
          service,
          operation: String(context.commandName ?? 'unknown').replace(/Command$/, ''),
        });
        return next(args);
      },
      { step: 'initialize', name: 'touchdownCallCounter' },
    );
  }
}

export type { EC2, IAM, KMS, ResourceGroupsTaggingAPI, S3, SecretsManager, SSM, STS };
