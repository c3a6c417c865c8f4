// The manifest rendered for this machine. The emulated part is declared with the very resource types the AWS
// blueprint uses (buckets, parameters, queues, the email identity), so `up` makes the same calls `deploy` does;
// PostgreSQL, the cache and the broker are this machine's real services. The settings contract is the one the
// containers get on AWS, with the local AWS's endpoint and the entry point's address.
import { AwsStack } from '../aws/stack.js';
import { bucketName, type Names, secretPath } from '../django/blueprint/data.js';
import { EMULATOR_CREDENTIALS } from './local-aws.js';
import type { LocalTarget } from './target.js';

export interface LocalResources {
  stack: AwsStack;
  /** Bucket names by purpose. */
  buckets: { static?: string; media?: string };
  /** Settings read from the local Parameter Store at start, by variable: as ECS injects them. */
  secrets: Record<string, string>;
  /** Celery's queue, with local.broker sqs. */
  queue?: ReturnType<AwsStack['addQueue']>;
}

export function names(t: LocalTarget, region: string, account: string): Names {
  return { app: t.loaded.manifest.app, stage: t.stage, stack: t.stack, region, account };
}

export function localResources(t: LocalTarget, region: string, account: string): LocalResources {
  const m = t.loaded.manifest;
  const n = names(t, region, account);
  const aws = new AwsStack(t.stack, { region });
  const path = secretPath(n);
  const secrets: Record<string, string> = {};
  // Generated once and kept, as on AWS.
  aws.addSsmParameter({
    name: `${path}DJANGO_SECRET_KEY`,
    type: 'SecureString',
    description: `${t.stack}: Django's SECRET_KEY`,
  });
  secrets.DJANGO_SECRET_KEY = `${path}DJANGO_SECRET_KEY`;
  // As on AWS: the project's own name for the key reads the same parameter.
  if (m.django.secretKeyName) secrets[m.django.secretKeyName] = secrets.DJANGO_SECRET_KEY;
  if (m.database) {
    aws.addSsmParameter({
      name: `${path}DATABASE_PASSWORD`,
      type: 'SecureString',
      description: `${t.stack}: the PostgreSQL role's password`,
    });
    secrets.DATABASE_PASSWORD = `${path}DATABASE_PASSWORD`;
  }
  for (const name of m.secrets) secrets[name] = `${path}${name}`;

  const buckets: LocalResources['buckets'] = {};
  for (const purpose of ['static', 'media'] as const) {
    if (!m.buckets[purpose]) continue;
    buckets[purpose] = bucketName(n, purpose);
    aws.addBucket({ name: buckets[purpose], blockPublicAccess: true, versioning: purpose === 'media' });
  }
  let queue: LocalResources['queue'];
  if (Object.keys(m.workers).length > 0 && m.local.broker === 'sqs') {
    const dead = aws.addQueue({ name: 'celery-dead', messageRetentionSeconds: 1_209_600 });
    queue = aws.addQueue({
      name: 'celery',
      visibilityTimeoutSeconds: 3600,
      deadLetter: { targetArn: dead.arn, maxReceiveCount: 5 },
    });
  }
  if (m.email) aws.addEmailDomain({ name: 'mail', domain: m.email.from.split('@')[1]! });
  return { stack: aws, buckets, secrets, queue };
}

/** What the services and the emulator gave: the parts of the contract only known at run time. */
export interface LocalWiring {
  region: string;
  localAws: string;
  /** The entry point's port: the app's URL and where static and media files are served. */
  port: number;
  database?: { hostPort: string; name: string };
  /** redis://host:port/N */
  redis?: string;
  /** host:port */
  memcached?: string;
  /** Celery's broker: the SQS queue's URL, or RabbitMQ's URL. */
  broker?: { sqsQueueUrl: string } | { amqp: string };
  /** The OpenSearch the user runs (--opensearch-url), for search:. */
  opensearch?: string;
}

/** The environment every process of the stack gets, secrets aside (they come from Parameter Store). */
export function localEnvironment(t: LocalTarget, r: LocalResources, w: LocalWiring): Record<string, string> {
  const m = t.loaded.manifest;
  const site = `localhost:${w.port}`;
  const env: Record<string, string> = {
    DJANGO_SETTINGS_MODULE: m.django.settings,
    DJANGO_DEBUG: 'false',
    // Plain HTTP here: no TLS-terminating proxy to trust.
    TOUCHDOWN_BEHIND_PROXY: 'false',
    TOUCHDOWN_STAGE: t.stage,
    // As on AWS: the settings snippet answers the health check (up's own is made the way the ALB makes it).
    TOUCHDOWN_HEALTH_PATH: m.web.healthCheck,
    AWS_REGION: w.region,
    AWS_DEFAULT_REGION: w.region,
    // The emulator's credentials, as a task role's are on AWS.
    ...EMULATOR_CREDENTIALS,
    AWS_ENDPOINT_URL: w.localAws,
    AWS_S3_ENDPOINT_URL: w.localAws,
    AWS_S3_REGION_NAME: w.region,
    ALLOWED_HOSTS: 'localhost,127.0.0.1,[::1]',
    CSRF_TRUSTED_ORIGINS: `http://${site},http://127.0.0.1:${w.port}`,
    PYTHONUNBUFFERED: '1',
    // As on AWS: the user's settings, then what the stack's services say (which win).
    ...m.environment,
  };
  if (w.database)
    env.DATABASE_URL = `postgres://${w.database.name}@${w.database.hostPort}/${w.database.name}`;
  if (w.redis) env.REDIS_URL = w.redis;
  if (w.memcached) env.CACHE_URL = `memcached://${w.memcached}`;
  if (w.opensearch) env.OPENSEARCH_URL = w.opensearch;
  if (r.buckets.static) env.AWS_STATIC_BUCKET_NAME = r.buckets.static;
  if (r.buckets.media) env.AWS_STORAGE_BUCKET_NAME = r.buckets.media;
  if (r.buckets.static || r.buckets.media) {
    // The entry point serves /static/* and /media/* from the private buckets, as CloudFront does on AWS.
    env.AWS_S3_CUSTOM_DOMAIN = site;
    env.AWS_S3_URL_PROTOCOL = 'http:';
  }
  if (w.broker && 'sqsQueueUrl' in w.broker) {
    env.CELERY_BROKER_URL = 'sqs://';
    env.CELERY_BROKER_TRANSPORT_OPTIONS = JSON.stringify({
      region: w.region,
      predefined_queues: { celery: { url: w.broker.sqsQueueUrl } },
    });
  } else if (w.broker) {
    env.CELERY_BROKER_URL = w.broker.amqp;
    // One RabbitMQ serves many stacks: each its own queue.
    env.CELERY_TASK_DEFAULT_QUEUE = t.stack;
  }
  if (m.email) {
    env.EMAIL_BACKEND = 'ses';
    env.DEFAULT_FROM_EMAIL = m.email.from;
    env.AWS_SES_REGION_NAME = w.region;
  }
  return env;
}
