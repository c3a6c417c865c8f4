// Where the app keeps its data: PostgreSQL, the cache, the buckets, the Celery queue, and its secrets.
// Each piece adds what Django needs to the settings contract (plain settings and secrets by reference).
import { createHash } from 'node:crypto';
import type { AwsStack } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import { type Input, interpolate } from '../../core/ref.js';
import { rabbitBroker } from './broker.js';
import type { Network } from './network.js';

/** The settings contract being assembled: plain values, and secrets as ARNs of SSM parameters. */
export interface Contract {
  environment: Record<string, Input<string>>;
  secrets: Record<string, Input<string>>;
}

export interface Names {
  app: string;
  stage: string;
  stack: string;
  region: string;
  account: string;
}

export interface Data {
  buckets: { static?: ReturnType<AwsStack['addBucket']>; media?: ReturnType<AwsStack['addBucket']> };
  queue?: ReturnType<AwsStack['addQueue']>;
  database?: ReturnType<AwsStack['addDatabase']>;
  /** ARN patterns of the SSM parameters tasks read at start. */
  parameterArns: Input<string>[];
  /** The search domain's ARN (blueprint/search.ts). */
  searchArn?: string;
  /** The SES identity (the sender's domain) the app sends mail as. */
  emailIdentityArn?: string;
}

/** Parameter Store path of a stage's settings: /<app>/<stage>/NAME. */
export const secretPath = (n: Names) => `/${n.app}/${n.stage}/`;

export const parameterArn = (n: Names, name: Input<string>) =>
  interpolate`arn:aws:ssm:${n.region}:${n.account}:parameter${name}`;

/** Bucket names are global across accounts: a short hash of account and region keeps them unique. */
export function bucketName(n: Names, purpose: string): string {
  const hash = createHash('sha256').update(`${n.account}/${n.region}`).digest('hex').slice(0, 8);
  return `${n.stack}-${purpose}-${hash}`.slice(0, 63);
}

/** IAM statements for what the app's code does with its data: its buckets' objects, its queue, mail. */
export function dataAccess(d: Data): Record<string, unknown>[] {
  const statements: Record<string, unknown>[] = [];
  const buckets = Object.values(d.buckets).filter((b) => b !== undefined);
  if (buckets.length > 0) {
    statements.push(
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: buckets.map((b) => b.arn) },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        Resource: buckets.map((b) => interpolate`${b.arn}/*`),
      },
    );
  }
  if (d.queue) {
    statements.push({
      Effect: 'Allow',
      Action: [
        'sqs:SendMessage',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
      ],
      Resource: d.queue.arn,
    });
  }
  // Signed requests to the search domain's indexes (its access policy names this role too).
  if (d.searchArn) {
    statements.push({ Effect: 'Allow', Action: 'es:ESHttp*', Resource: `${d.searchArn}/*` });
  }
  // Sending is authorised against the From identity: the stack's verified domain, no other.
  // https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html
  if (d.emailIdentityArn)
    statements.push({
      Effect: 'Allow',
      Action: ['ses:SendEmail', 'ses:SendRawEmail'],
      Resource: d.emailIdentityArn,
    });
  return statements;
}

export function data(aws: AwsStack, m: Manifest, n: Names, net: Network, contract: Contract): Data {
  const env = contract.environment;
  const path = secretPath(n);
  const out: Data = { buckets: {}, parameterArns: [parameterArn(n, `${path}*`)] };
  if (m.email) {
    out.emailIdentityArn = `arn:aws:ses:${n.region}:${n.account}:identity/${m.email.from.split('@')[1]}`;
  }

  // Django's secret key: generated once, kept in Parameter Store, never printed.
  aws.addSsmParameter({
    name: `${path}DJANGO_SECRET_KEY`,
    type: 'SecureString',
    description: `${n.stack}: Django's SECRET_KEY`,
  });
  contract.secrets.DJANGO_SECRET_KEY = parameterArn(n, `${path}DJANGO_SECRET_KEY`);
  // The project's own name for it: one parameter under two names in the task definition's secrets (each entry is a
  // name and a parameter ARN): https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-ecs-taskdefinition-secret.html
  if (m.django.secretKeyName) contract.secrets[m.django.secretKeyName] = contract.secrets.DJANGO_SECRET_KEY;
  for (const name of m.secrets) contract.secrets[name] = parameterArn(n, `${path}${name}`);

  if (m.database) {
    const d = m.database;
    const subnets = aws.addDbSubnetGroup({ name: 'db', subnetIds: net.subnets.db.map((s) => s.id) });
    const db = aws.addDatabase({
      name: 'db',
      engineVersion: d.version,
      instanceClass: d.instance,
      allocatedStorage: d.storage,
      maxAllocatedStorage: d.maxStorage ?? null,
      multiAz: d.multiAz,
      backupRetentionDays: d.backups,
      deletionProtection: d.deletionProtection,
      subnetGroupName: subnets.name,
      vpcSecurityGroupIds: [net.groups.db.id],
      passwordParameter: `${path}DATABASE_PASSWORD`,
    });
    out.database = db;
    // The URL carries no password; ECS injects DATABASE_PASSWORD from Parameter Store apart.
    env.DATABASE_URL = interpolate`postgres://app@${db.hostPort}/app?sslmode=require`;
    contract.secrets.DATABASE_PASSWORD = parameterArn(n, db.passwordParameter);
  }

  if (m.cache) {
    const subnets = aws.addCacheSubnetGroup({ name: 'cache', subnetIds: net.subnets.db.map((s) => s.id) });
    if (m.cache.engine === 'memcached') {
      const cache = aws.addMemcached({
        name: 'cache',
        nodeType: m.cache.node,
        subnetGroupName: subnets.name,
        securityGroupIds: [net.groups.cache.id],
      });
      env.CACHE_URL = interpolate`memcached://${cache.configurationEndpoint}`;
    } else {
      const cache = aws.addRedis({
        name: 'cache',
        engine: m.cache.engine,
        nodeType: m.cache.node,
        subnetGroupName: subnets.name,
        securityGroupIds: [net.groups.cache.id],
      });
      env.REDIS_URL = interpolate`${cache.url}/0`;
    }
  }

  for (const purpose of ['static', 'media'] as const) {
    if (!m.buckets[purpose]) continue;
    const bucket = aws.addBucket({
      name: bucketName(n, purpose),
      blockPublicAccess: true,
      versioning: purpose === 'media',
      // Browsers load fonts and scripts from the CDN's domain.
      cors: purpose === 'static' ? [{ allowedMethods: ['GET', 'HEAD'], allowedOrigins: ['*'] }] : [],
    });
    out.buckets[purpose] = bucket;
    env[purpose === 'static' ? 'AWS_STATIC_BUCKET_NAME' : 'AWS_STORAGE_BUCKET_NAME'] = bucket.name;
  }
  env.AWS_S3_REGION_NAME = n.region;

  if (Object.keys(m.workers).length > 0 && m.broker !== 'sqs') rabbitBroker(aws, m, n, net, contract);
  else if (Object.keys(m.workers).length > 0) {
    const dead = aws.addQueue({ name: 'celery-dead', messageRetentionSeconds: 1_209_600 });
    // Longer than any task should run: a task still running when its message reappears would run twice.
    const queue = aws.addQueue({
      name: 'celery',
      visibilityTimeoutSeconds: 3600,
      deadLetter: { targetArn: dead.arn, maxReceiveCount: 5 },
    });
    out.queue = queue;
    env.CELERY_BROKER_URL = 'sqs://';
    env.CELERY_BROKER_TRANSPORT_OPTIONS = interpolate`{"region": "${n.region}", "predefined_queues": {"celery": {"url": "${queue.url}"}}}`;
  }
  return out;
}
