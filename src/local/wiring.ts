// Before anything starts: find every service the manifest needs on this machine (all at once, so one run
// names everything missing), then make the stack's part in each: emulated resources through the engine, the
// PostgreSQL role and database, the Redis logical database, and the secrets from Parameter Store.
import { join } from 'node:path';
import { AwsClients } from '../aws/clients.js';
import { Bucket } from '../aws/s3/bucket.js';
import { EmailDomain } from '../aws/ses/domain-identity.js';
import { Queue } from '../aws/sqs/queue.js';
import { SsmParameter } from '../aws/ssm/parameter.js';
import type { Manifest } from '../config/manifest.js';
import { Engine } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import type { World } from '../core/plan.js';
import { outputsOf } from '../django/blueprint/handles.js';
import { type LocalResources, type LocalWiring, localResources } from './blueprint.js';
import type { UpEventSink } from './events.js';
import { chooseLocalAws, EMULATOR_CREDENTIALS, type LocalAwsChoice } from './local-aws.js';
import { type AdminConnection, connectAdmin, ensureDatabase } from './postgres.js';
import { checkPackages, findPython, type Needed, type Python } from './python.js';
import { allocateDatabase, RedisConnection, redisServer } from './redis.js';
import { SavedState } from './saved-state.js';
import { checkMemcached, checkOpenSearch, checkRabbitMq, DEFAULT_RABBITMQ_URL } from './services.js';
import { type LocalState, withoutPassword } from './state.js';
import { databaseName, djangoDir, type LocalTarget, suggest } from './target.js';

export const savedDir = (t: LocalTarget) => join(t.dir, 'saved');

/** Where each service is, as the user may say it (flags; the environment otherwise). */
export interface ServiceOptions {
  python?: string;
  databaseUrl?: string;
  redisUrl?: string;
  rabbitmqUrl?: string;
  memcached?: string;
  localAws?: string;
  opensearchUrl?: string;
}

export interface FoundServices {
  python: Python;
  localAws: LocalAwsChoice;
  postgres?: AdminConnection;
  redis?: { conn: RedisConnection; url: string; database?: number };
  memcached?: string;
  rabbitmq?: string;
  opensearch?: string;
}

/** Looks for every service at once; all that are missing are named in one error. */
export async function findServices(t: LocalTarget, o: ServiceOptions): Promise<FoundServices> {
  const m = t.loaded.manifest;
  const python = await findPython(t.projectDir, o.python);
  const cache = m.cache?.engine;
  const broker = Object.keys(m.workers).length > 0 ? m.local.broker : undefined;
  const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL;
  const redisUrl = o.redisUrl ?? process.env.REDIS_URL;
  const opensearchFrom = o.opensearchUrl
    ? '--opensearch-url'
    : process.env.TOUCHDOWN_OPENSEARCH_URL
      ? 'TOUCHDOWN_OPENSEARCH_URL'
      : 'OPENSEARCH_URL';
  const opensearchUrl = o.opensearchUrl || process.env.TOUCHDOWN_OPENSEARCH_URL || process.env.OPENSEARCH_URL;
  const results = await Promise.allSettled([
    checkPackages(python, contractPackages(m), djangoDir(t)),
    chooseLocalAws(python, o.localAws),
    m.database
      ? connectAdmin(databaseUrl, o.databaseUrl ? '--database-url' : 'DATABASE_URL')
      : Promise.resolve(undefined),
    cache && cache !== 'memcached'
      ? (async () => {
          const server = redisServer(redisUrl);
          const conn = await RedisConnection.open(server, o.redisUrl ? '--redis-url' : 'REDIS_URL');
          return { conn, url: server.url, database: server.database };
        })()
      : Promise.resolve(undefined),
    cache === 'memcached' ? checkMemcached(o.memcached ?? process.env.MEMCACHED) : Promise.resolve(undefined),
    broker === 'rabbitmq'
      ? checkRabbitMq(o.rabbitmqUrl ?? process.env.RABBITMQ_URL ?? DEFAULT_RABBITMQ_URL)
      : Promise.resolve(undefined),
    m.search ? (async () => checkOpenSearch(opensearchUrl, opensearchFrom))() : Promise.resolve(undefined),
  ] as const);
  const problems = results.flatMap((r) =>
    r.status === 'rejected'
      ? r.reason instanceof ConfigError
        ? [...r.reason.problems.slice(0, 1)]
        : [String((r.reason as Error).message)]
      : [],
  );
  const [, localAws, postgres, redis, memcached, rabbitmq, opensearch] = results.map((r) =>
    r.status === 'fulfilled' ? r.value : undefined,
  ) as [unknown, LocalAwsChoice, AdminConnection | undefined, FoundServices['redis'], string, string, string];
  if (problems.length > 0) {
    await closeServices({ postgres, redis } as FoundServices);
    const only = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    if (problems.length === 1 && only.reason instanceof ConfigError) throw only.reason;
    throw new ConfigError(
      problems.length === 1 ? problems[0]! : `${problems.length} things ${t.stack} needs are missing`,
      problems,
    );
  }
  return {
    python,
    localAws,
    ...(postgres ? { postgres } : {}),
    ...(redis ? { redis } : {}),
    ...(memcached ? { memcached } : {}),
    ...(rabbitmq ? { rabbitmq } : {}),
    ...(opensearch ? { opensearch } : {}),
  };
}

/** What the settings contract and the processes import, for what this manifest declares. */
export function contractPackages(m: Manifest): Needed[] {
  const needed: Needed[] = [{ modules: ['django'], pip: 'Django', why: 'the app' }];
  if (!m.web.command) needed.push({ modules: ['gunicorn'], pip: 'gunicorn', why: 'the web processes' });
  if (!m.web.command && !m.django.wsgi)
    needed.push({ modules: ['uvicorn_worker'], pip: 'uvicorn-worker', why: 'the ASGI application' });
  if (m.database) {
    needed.push({ modules: ['psycopg', 'psycopg2'], pip: 'psycopg[binary]', why: 'the PostgreSQL database' });
  }
  if (m.buckets.static || m.buckets.media) {
    needed.push({ modules: ['storages'], pip: 'django-storages[s3]', why: 'files in the S3 buckets' });
    needed.push({ modules: ['boto3'], pip: 'boto3', why: 'files in the S3 buckets' });
  }
  if (m.cache && m.cache.engine !== 'memcached')
    needed.push({ modules: ['redis'], pip: 'redis', why: 'the cache' });
  if (m.cache?.engine === 'memcached') {
    needed.push({ modules: ['pymemcache'], pip: 'pymemcache', why: 'the memcached cache' });
  }
  if (m.email) needed.push({ modules: ['django_ses'], pip: 'django-ses', why: 'email through SES' });
  if (m.search) needed.push({ modules: ['opensearchpy'], pip: 'opensearch-py', why: 'search' });
  if (Object.keys(m.workers).length > 0) {
    needed.push({ modules: ['celery'], pip: 'celery', why: 'the workers' });
    // Celery's SQS transport signs with boto3 and polls with pycurl, or from kombu 5.5 on with urllib3 (its
    // urllib3_client module): each comes with celery[sqs] for that kombu.
    if (m.local.broker === 'sqs') {
      needed.push({ modules: ['boto3'], pip: 'celery[sqs]', why: "Celery's SQS broker" });
      needed.push({
        modules: ['pycurl', 'kombu.asynchronous.http.urllib3_client'],
        pip: 'celery[sqs]',
        why: "Celery's SQS broker",
      });
    }
  }
  return needed;
}

/** Closes the connections to PostgreSQL and Redis (done with them once the stack's part is made). */
export async function closeServices(found: FoundServices): Promise<void> {
  await found.postgres?.close().catch(() => {});
  found.redis?.conn.close();
}

/** Clients for the local AWS, with the emulator's credentials: never the user's own. */
export function emulatorClients(region: string, endpoint: string): AwsClients {
  // The SDK skips credentials in the environment when a profile is named.
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  Object.assign(process.env, EMULATOR_CREDENTIALS);
  return new AwsClients({ region, endpoint, maxAttempts: 3 });
}

/** The types the local blueprint declares: plans look for these alone. */
export const LOCAL_TYPES = [Bucket, SsmParameter, Queue, EmailDomain];

export interface Provisioned {
  resources: LocalResources;
  wiring: Omit<LocalWiring, 'port'>;
  /** Values from the local Parameter Store, by variable: the processes' secrets. */
  secrets: Record<string, string>;
  services: LocalState['services'];
}

/** Makes the stack's part in each service; returns what the processes are given. */
export async function provision(
  t: LocalTarget,
  found: FoundServices,
  aws: AwsClients,
  events: UpEventSink,
  signal: AbortSignal,
): Promise<Provisioned> {
  const m = t.loaded.manifest;
  const account = await aws.account();
  const resources = localResources(t, aws.region, account);
  const engine = new Engine({ stack: resources.stack, registry: LOCAL_TYPES, aws, events, signal });
  const applied = await engine.apply();
  const failed = applied.report?.failed[0];
  if (failed) throw new Error(failed.error ?? `${failed.address} failed`);
  const restored = await new SavedState(savedDir(t), aws).restore(resources.buckets);
  if (restored.objects + restored.parameters > 0) {
    events({
      type: 'local.service',
      service: 'saved data',
      detail: `${restored.objects} object(s) and ${restored.parameters} parameter(s) put back into the local AWS`,
    });
  }

  const secrets = await readSecrets(t, aws, resources.secrets);
  const services: LocalState['services'] = {};
  if (found.postgres && m.database) {
    const name = databaseName(t);
    await ensureDatabase(found.postgres, name, secrets.DATABASE_PASSWORD!);
    services.postgres = { ...found.postgres.server, database: name };
    await found.postgres.close();
  }
  let redisDatabase: number | undefined;
  if (found.redis) {
    redisDatabase = found.redis.database ?? (await allocateDatabase(found.redis.conn, t.stack));
    found.redis.conn.close();
    services.redis = { url: withoutPassword(found.redis.url), database: redisDatabase };
  }
  if (found.memcached) services.memcached = found.memcached;
  if (found.rabbitmq) services.rabbitmq = { url: withoutPassword(found.rabbitmq), queue: t.stack };
  const wiring = wiringOf(t, found, aws.region, applied.world, redisDatabase, resources);
  return { resources, wiring, secrets, services };
}

/** Where the stack's processes find each service: what was found, the Redis database chosen, the queue made. */
export function wiringOf(
  t: LocalTarget,
  found: FoundServices,
  region: string,
  world: World,
  redisDatabase: number | undefined,
  resources: LocalResources,
): Omit<LocalWiring, 'port'> {
  const m = t.loaded.manifest;
  const wiring: Omit<LocalWiring, 'port'> = { region, localAws: found.localAws.endpoint };
  if (found.postgres && m.database)
    wiring.database = { hostPort: found.postgres.appHost, name: databaseName(t) };
  if (found.redis) wiring.redis = `${found.redis.url}/${found.redis.database ?? redisDatabase}`;
  if (found.memcached) wiring.memcached = found.memcached;
  if (found.opensearch) wiring.opensearch = found.opensearch;
  if (found.rabbitmq) wiring.broker = { amqp: found.rabbitmq };
  else if (Object.keys(m.workers).length > 0) {
    wiring.broker = { sqsQueueUrl: String(outputsOf(world, resources.queue)?.url) };
  }
  return wiring;
}

/**
 * The secrets, read from the local Parameter Store as ECS reads them at a task's start. A declared secret not
 * set yet is taken from touchdown's own environment (and kept in the local Parameter Store from then on).
 */
export async function readSecrets(
  t: LocalTarget,
  aws: AwsClients,
  wanted: Record<string, string>,
): Promise<Record<string, string>> {
  const ssm = await aws.ssm();
  // One parameter may stand under two names (the secret key under the project's own name too).
  const names = [...new Set(Object.values(wanted))];
  const values = new Map<string, string>();
  for (let i = 0; i < names.length; i += 10) {
    const got = await ssm.getParameters({ Names: names.slice(i, i + 10), WithDecryption: true });
    for (const p of got.Parameters ?? []) values.set(p.Name!, p.Value ?? '');
  }
  const missing: string[] = [];
  const out: Record<string, string> = {};
  for (const [variable, name] of Object.entries(wanted)) {
    let value = values.get(name);
    if (value === undefined && process.env[variable]) {
      value = process.env[variable]!;
      await ssm.putParameter({ Name: name, Value: value, Type: 'SecureString', Overwrite: true });
    }
    if (value === undefined) missing.push(variable);
    else out[variable] = value;
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `not set for ${t.stack} yet: ${missing.join(', ')}. Start it once with them in the environment (${missing.map((s) => `${s}=...`).join(' ')} ${suggest(t, 'touchdown up')}); the local Parameter Store keeps them from then on`,
    );
  }
  return out;
}
