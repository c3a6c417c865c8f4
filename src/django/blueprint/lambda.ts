// The app on AWS Lambda behind an HTTP API (seed 002, Zappa-style): the package in a private artifacts
// bucket, one function in the app subnets (so it reaches PostgreSQL and the cache), the `live` alias that
// API Gateway and the schedules invoke, the domain on API Gateway, and the buckets behind CloudFront.
import type { PYTHON_RUNTIMES } from '../../aws/lambda/function.js';
import { physicalName } from '../../aws/names.js';
import type { AwsStack } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import { ConfigError } from '../../core/errors.js';
import { type Input, Ref } from '../../core/ref.js';
import { HANDLER_MODULE, packageLocation } from '../lambda-package.js';
import { bucketName, type Contract, type Data, dataAccess, type Names } from './data.js';
import { bucketOrigins } from './edge.js';
import { trust, words } from './fargate.js';
import type { Network } from './network.js';

/** The alias the release moves: what serves requests and runs scheduled jobs. */
export const LIVE_ALIAS = 'live';
/** The function's label; its name in AWS is `<stack>-web`. */
export const FUNCTION = 'web';
/** Lambda's longest run: migrations and nightly jobs get it; requests stop at web.timeout. */
const MAX_SECONDS = 900;
/** Graviton unless web.architecture says otherwise: about 20% cheaper per second. */
const DEFAULT_ARCHITECTURE = 'arm64';

/** The processor the function runs on; the package's wheels are installed for it. */
export function lambdaArchitecture(m: Pick<Manifest, 'web'>): 'arm64' | 'x86_64' {
  return m.web.architecture ?? DEFAULT_ARCHITECTURE;
}

export interface Serverless {
  artifacts: ReturnType<AwsStack['addBucket']>;
  api: ReturnType<AwsStack['addHttpApi']>;
  fn?: ReturnType<AwsStack['addFunction']>;
  alias?: ReturnType<AwsStack['addLambdaAlias']>;
}

/** The release the stack serves: its package (`s3://…/lambda/<sha256>.zip`) and its published version. */
export interface LambdaRelease {
  image?: string;
  version?: string;
}

/** The function's name in AWS, as the function resource derives it: the role's log permission names it first. */
export function functionName(stack: string): string {
  return physicalName(stack, FUNCTION, { max: 64, allowed: /[A-Za-z0-9_-]/ });
}

export function serverless(
  aws: AwsStack,
  m: Manifest,
  n: Names,
  net: Network,
  d: Data,
  contract: Contract,
  release: LambdaRelease,
): Serverless {
  const env = contract.environment;
  // Private, encrypted: the code of every release, by its hash.
  const artifacts = aws.addBucket({ name: bucketName(n, 'artifacts'), blockPublicAccess: true });

  const api = aws.addHttpApi({ name: 'web' });
  const accessLogs = aws.addLogGroup({ name: 'api', retentionDays: 30 });
  const stage = aws.addHttpApiStage({ apiId: api.id, accessLogs: { destinationArn: accessLogs.arn } });

  const hosts: Input<string>[] = [api.endpoint.apply((e) => new URL(e).host)];
  let url: Input<string> = api.endpoint;
  const zone = m.domain ? aws.addHostedZone({ name: 'zone', domain: m.domain.zone }) : undefined;
  if (m.domain && zone) {
    const certificate = aws.addCertificate({ name: 'web', domainName: m.domain.name, zoneId: zone.id });
    const domain = aws.addHttpApiDomain({
      name: 'web',
      domainName: m.domain.name,
      certificateArn: certificate.arn,
      apiId: api.id,
      stage: stage.name,
    });
    zone.addRecord({
      recordName: m.domain.name,
      type: 'A',
      alias: { dnsName: domain.targetDomainName, hostedZoneId: domain.hostedZoneId },
    });
    hosts.push(m.domain.name);
    url = `https://${m.domain.name}`;
  }
  bucketsBehindCdn(aws, m, n, d, contract);
  if (m.email && zone) {
    aws.addEmailDomain({ name: 'mail', domain: m.email.from.split('@')[1]!, zoneId: zone.id });
    env.EMAIL_BACKEND = 'ses';
    env.DEFAULT_FROM_EMAIL = m.email.from;
    env.AWS_SES_REGION_NAME = n.region;
  }
  env.ALLOWED_HOSTS = Ref.all(hosts).apply((h) => h.join(','));
  env.CSRF_TRUSTED_ORIGINS = Ref.all(hosts).apply((h) => h.map((x) => `https://${x}`).join(','));

  const inVpc = Boolean(m.database || m.cache);
  const role = aws.addRole({
    name: `${n.stack}-lambda`,
    assumeRolePolicy: trust('lambda.amazonaws.com'),
    policies: { app: { Version: '2012-10-17', Statement: roleStatements(n, d, inVpc) } },
  });

  aws.output('url', url);
  aws.output('api', api.endpoint);
  aws.output('function', functionName(n.stack));
  if (d.buckets.static) aws.output('staticBucket', d.buckets.static.name);
  if (d.buckets.media) aws.output('mediaBucket', d.buckets.media.name);
  if (d.database) aws.output('database', d.database.hostPort);
  const out: Serverless = { artifacts, api };
  // Before the first package there is nothing to run: the release adds what follows.
  if (!release.image) return out;
  const code = packageLocation(release.image);
  if (!code) {
    throw new ConfigError(
      `web.compute: lambda runs a zip package, not "${release.image}": let touchdown deploy build it, or ` +
        'pass --image s3://<bucket>/<key>.zip for a package already uploaded',
    );
  }

  const { AWS_REGION: _setByLambda, ...settings } = env;
  const fn = aws.addFunction({
    name: FUNCTION,
    // The manifest admits only versions Lambda runs.
    runtime: `python${m.django.python}` as (typeof PYTHON_RUNTIMES)[number],
    handler: `${HANDLER_MODULE}.handler`,
    code,
    roleArn: role.arn,
    memoryMb: m.web.memory ?? 1024,
    timeoutSeconds: MAX_SECONDS,
    architecture: lambdaArchitecture(m),
    environment: {
      ...settings,
      // The manifest refuses Lambda without a WSGI application.
      TOUCHDOWN_WSGI: m.django.wsgi!,
      TOUCHDOWN_REQUEST_TIMEOUT: String(m.web.timeout),
      TOUCHDOWN_PARAMETERS: parameterNames(contract.secrets),
    },
    vpc: inVpc
      ? { subnetIds: net.subnets.app.map((s) => s.id), securityGroupIds: [net.groups.app.id] }
      : null,
  });
  const alias = aws.addLambdaAlias({
    name: LIVE_ALIAS,
    functionName: fn.name,
    ...(release.version ? { functionVersion: release.version } : {}),
  });
  aws.addLambdaProxyRoute({
    name: 'web',
    apiId: api.id,
    functionArn: alias.arn,
    timeoutMillis: m.web.timeout * 1000,
  });
  aws
    .addLambdaPermission({
      name: 'api',
      functionName: fn.name,
      qualifier: LIVE_ALIAS,
      principal: 'apigateway.amazonaws.com',
      sourceArn: api.executionArn,
    })
    .dependsOn(alias);

  if (m.schedules.length > 0) {
    const scheduler = aws.addRole({
      name: `${n.stack}-scheduler`,
      assumeRolePolicy: trust('scheduler.amazonaws.com'),
      policies: {
        invoke: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: alias.arn }],
        },
      },
    });
    for (const s of m.schedules) {
      aws.addSchedule({
        name: s.name,
        expression: `cron(${s.cron.replace(/^cron\((.*)\)$/, '$1')})`,
        roleArn: scheduler.arn,
        target: {
          lambda: { functionArn: alias.arn, input: { touchdown: 'manage', args: words(s.command) } },
        },
      });
    }
  }
  return { ...out, fn, alias };
}

/** Logs, this stage's parameters, the network interfaces of a VPC function, and the app's data. */
function roleStatements(n: Names, d: Data, inVpc: boolean): Record<string, unknown>[] {
  const statements: Record<string, unknown>[] = [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `arn:aws:logs:${n.region}:${n.account}:log-group:/aws/lambda/${functionName(n.stack)}:*`,
    },
    { Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: d.parameterArns },
  ];
  if (inVpc) {
    // What Lambda does with the function's role to attach it to the subnets; EC2 scopes none of it further.
    statements.push({
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: '*',
    });
  }
  statements.push(...dataAccess(d));
  return statements;
}

/** The static and media buckets behind CloudFront (the app itself is on API Gateway). */
function bucketsBehindCdn(aws: AwsStack, m: Manifest, n: Names, d: Data, contract: Contract): void {
  if (!m.cdn || !Object.values(d.buckets).some((b) => b !== undefined)) return;
  const buckets = bucketOrigins(aws, d);
  const cdn = aws.addDistribution({
    name: 'cdn',
    comment: n.stack,
    origins: buckets.origins,
    defaultBehavior: { originId: buckets.origins[0]!.id, cachePolicy: 'CachingOptimized' },
    behaviors: buckets.behaviors,
  });
  buckets.admit(cdn);
  contract.environment.AWS_S3_CUSTOM_DOMAIN = cdn.domainName;
  aws.output('cdn', cdn.domainName);
}

/** Setting name → Parameter Store name, for the handler to read at start (names, never values). */
function parameterNames(secrets: Contract['secrets']): Input<string> {
  const settings = Object.keys(secrets).sort();
  return Ref.all(settings.map((s) => secrets[s]!)).apply((arns) =>
    JSON.stringify(
      Object.fromEntries(
        settings.map((s, i) => [s, String(arns[i]).replace(/^arn:[^:]+:ssm:[^:]*:\d*:parameter/, '')]),
      ),
    ),
  );
}
