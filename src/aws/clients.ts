// One factory for every AWS client: loaded on first use (the CLI starts fast), one retry policy,
// endpoints and credentials from the standard AWS chain, and a count of every call made.

import type { CloudClients } from '../core/resource.js';
import { addLostAnswerGuard } from './create-once.js';
import { addCallFacts, explainAwsError, hintFor } from './errors.js';
import { listedOf } from './tagging.js';
import { ownershipTags } from './tags.js';

// Resource types reach these clients as `ctx.aws`: the engine's interface gains every accessor below.
declare module '../core/resource.js' {
  interface CloudClients extends AwsClients {}
}

/**
 * Each service's client, imported only when first used: the modular client and the commands src/ calls
 * (src/aws/sdk/, written by scripts/sdk-modules.mjs), answering the aggregated client's methods (modular.ts).
 */
const SERVICES = {
  acm: () => import('./sdk/client-acm.js'),
  apiGateway: () => import('./sdk/client-apigatewayv2.js'),
  appAutoScaling: () => import('./sdk/client-application-auto-scaling.js'),
  autoScaling: () => import('./sdk/client-auto-scaling.js'),
  cloudFront: () => import('./sdk/client-cloudfront.js'),
  cloudWatch: () => import('./sdk/client-cloudwatch.js'),
  codebuild: () => import('./sdk/client-codebuild.js'),
  ec2: () => import('./sdk/client-ec2.js'),
  ecr: () => import('./sdk/client-ecr.js'),
  ecs: () => import('./sdk/client-ecs.js'),
  elasticache: () => import('./sdk/client-elasticache.js'),
  elbv2: () => import('./sdk/client-elastic-load-balancing-v2.js'),
  iam: () => import('./sdk/client-iam.js'),
  kms: () => import('./sdk/client-kms.js'),
  lambda: () => import('./sdk/client-lambda.js'),
  logs: () => import('./sdk/client-cloudwatch-logs.js'),
  mq: () => import('./sdk/client-mq.js'),
  opensearch: () => import('./sdk/client-opensearch.js'),
  rds: () => import('./sdk/client-rds.js'),
  route53: () => import('./sdk/client-route-53.js'),
  s3: () => import('./sdk/client-s3.js'),
  scheduler: () => import('./sdk/client-scheduler.js'),
  secretsManager: () => import('./sdk/client-secrets-manager.js'),
  ses: () => import('./sdk/client-ses.js'),
  sesv2: () => import('./sdk/client-sesv2.js'),
  sqs: () => import('./sdk/client-sqs.js'),
  ssm: () => import('./sdk/client-ssm.js'),
  sts: () => import('./sdk/client-sts.js'),
  tagging: () => import('./sdk/client-resource-groups-tagging-api.js'),
};

type Service = keyof typeof SERVICES;
type ClientOf<S extends Service> = ReturnType<Awaited<ReturnType<(typeof SERVICES)[S]>>['make']>;

export interface AwsOptions {
  region: string;
  /** Overrides the endpoint of every service (a local AWS). AWS_ENDPOINT_URL is honoured without it. */
  endpoint?: string;
  /** Attempts per call, counting the first; throttling, 5xx and dropped connections are retried with jittered backoff. */
  maxAttempts?: number;
  /**
   * The SDK's HTTP handler options for every client (NodeHttpHandlerOptions: connectionTimeout,
   * requestTimeout, in ms), over requestHandlerOptions' defaults: the one place such settings go.
   */
  requestHandler?: { connectionTimeout?: number; requestTimeout?: number };
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

/**
 * Connect and read timeouts of every call, so a hung endpoint fails (named) within 30 s instead of hanging:
 * the read timeout counts silence on the socket, not the length of an upload (AWS's APIs answer well within
 * it; TOUCHDOWN_AWS_READ_TIMEOUT, in seconds, lengthens it for a slow link). Lambda's Invoke waits for the
 * function (a release's migrate), up to Lambda's 15 minutes. A call that times out twice stops retrying
 * (errors.ts addCallFacts).
 */
export function requestHandlerOptions(service: string): { connectionTimeout: number; socketTimeout: number } {
  const read = Number(process.env.TOUCHDOWN_AWS_READ_TIMEOUT) * 1000 || 8_000;
  return {
    connectionTimeout: 5_000,
    socketTimeout: service === 'lambda' ? Math.max(read, 16 * 60_000) : read,
  };
}

export class AwsClients {
  /** Every API call made through these clients, in order. Benchmarks and tests read it. */
  readonly calls: ApiCall[] = [];
  private readonly cache = new Map<Service, Promise<unknown>>();
  private accountId?: Promise<string>;

  constructor(readonly options: AwsOptions) {}

  get region(): string {
    return this.options.region;
  }

  /** True when the clients talk to an endpoint other than AWS's own (for example a local AWS). */
  get customEndpoint(): boolean {
    return Boolean(this.options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? process.env.AWS_ENDPOINT_URL_S3);
  }

  /** The client of one service, made on first use and shared after. */
  client<S extends Service>(service: S): Promise<ClientOf<S>> {
    let client = this.cache.get(service) as Promise<ClientOf<S>> | undefined;
    if (!client) {
      client = SERVICES[service]().then((sdk) => {
        const made = sdk.make(this.config(service)) as ClientOf<S>;
        this.count(service, made as unknown as Sendable);
        return made;
      });
      this.cache.set(service, client);
    }
    return client;
  }

  acm = () => this.client('acm');
  apiGateway = () => this.client('apiGateway');
  appAutoScaling = () => this.client('appAutoScaling');
  autoScaling = () => this.client('autoScaling');
  cloudFront = () => this.client('cloudFront');
  codebuild = () => this.client('codebuild');
  ec2 = () => this.client('ec2');
  ecr = () => this.client('ecr');
  ecs = () => this.client('ecs');
  elasticache = () => this.client('elasticache');
  elbv2 = () => this.client('elbv2');
  iam = () => this.client('iam');
  kms = () => this.client('kms');
  lambda = () => this.client('lambda');
  logs = () => this.client('logs');
  mq = () => this.client('mq');
  opensearch = () => this.client('opensearch');
  rds = () => this.client('rds');
  route53 = () => this.client('route53');
  s3 = () => this.client('s3');
  scheduler = () => this.client('scheduler');
  secretsManager = () => this.client('secretsManager');
  ses = () => this.client('ses');
  sesv2 = () => this.client('sesv2');
  sqs = () => this.client('sqs');
  ssm = () => this.client('ssm');
  sts = () => this.client('sts');
  tagging = () => this.client('tagging');

  /** Advice for an AWS error (the engine adds it to the message it reports). */
  readonly hintFor: CloudClients['hintFor'] = hintFor;
  readonly ownershipTags: CloudClients['ownershipTags'] = (stack, address, user) =>
    ownershipTags(stack, address, user, this.region);

  /** Which listings of the Resource Groups Tagging API hold anything of the stack (see ResourceType.listedAs). */
  listed(stack: string, listings: readonly string[]): Promise<Set<string>> {
    return listedOf(this, stack, listings);
  }

  /** The account the credentials belong to, asked once. */
  account(): Promise<string> {
    this.accountId ??= this.sts()
      .then((sts) => sts.getCallerIdentity({}))
      .then((r) => r.Account ?? '');
    return this.accountId;
  }

  private config(service: Service) {
    return {
      region: this.options.region,
      maxAttempts: this.options.maxAttempts ?? 8,
      retryMode: 'standard' as const,
      // The defaults, and what the caller set over them. This SDK only warns when requestTimeout passes unless
      // told to throw: a timeout must end the call.
      requestHandler: {
        ...requestHandlerOptions(service),
        ...(this.options.requestHandler
          ? { throwOnRequestTimeout: true, ...this.options.requestHandler }
          : {}),
      },
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      // A local AWS serves every bucket under one host name.
      ...(service === 's3' ? { forcePathStyle: this.customEndpoint } : {}),
    };
  }

  private count(service: string, client: Sendable): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        this.calls.push({ service, operation });
        try {
          return await next(args);
        } catch (err) {
          throw explainAwsError(err, {
            service,
            operation,
            endpoint: context.touchdownEndpoint as string | undefined,
          });
        }
      },
      { step: 'initialize', name: 'touchdownCallCounter' },
    );
    addCallFacts(client.middlewareStack as unknown as Parameters<typeof addCallFacts>[0]);
    addLostAnswerGuard(client.middlewareStack as unknown as Parameters<typeof addLostAnswerGuard>[0]);
  }
}
