// How each kind of resource is priced, from its arguments. Kinds not listed here cost nothing by themselves
// (VPC, subnets, route tables, security groups, roles, task definitions, clusters, records, certificates…).
import type { CostPart, Priced, Pricer, Pricing } from './estimate.js';
import type { Usage } from './usage.js';

const num = (v: unknown, fallback: number): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
const some = (...list: (CostPart | undefined)[]): CostPart[] =>
  list.filter((p): p is CostPart => p !== undefined);
const n = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 2 });
/** The first of several argument names that is set: kinds added by others are read defensively. */
const first = (args: Record<string, unknown>, ...names: string[]) =>
  names.map((k) => args[k]).find((v) => v !== undefined);

/** An instance type priced per hour, `count` of them; an unknown type is reported rather than guessed. */
function instances(
  p: Pricing,
  service: string,
  type: string,
  count: number,
  label: string,
): Priced | CostPart {
  const part = p.hourly(count > 1 ? `${label} ×${count}` : label, `${service}.${type}`, count);
  return part ?? { what: label, summary: type, parts: [], unpriced: `${service} type ${type}` };
}
const isPart = (x: Priced | CostPart): x is CostPart => 'monthly' in x;

const publicIpv4 = (p: Pricing, count: number, why: string) =>
  count > 0 ? p.part(`public IPv4 address ×${count} (${why})`, 'ipv4.address', count * p.hours) : undefined;

/** This resource's share of a stack-wide usage figure, priced per `per` of it (two buckets share usage.storageGB). */
function shared(
  p: Pricing,
  kind: string,
  name: keyof Usage,
  label: string,
  key: string,
  text: string,
  per = 1,
) {
  const share = p.shareOf(kind);
  const amount = p.usage[name] / share;
  return { amount, part: p.part(label, key, amount / per, p.assume(name, `${n(amount)} ${text}`, share)) };
}

/** The month's HTTP requests (usage.requests), priced per million. */
const perMillionRequests = (p: Pricing, key: string) =>
  p.part('requests', key, p.usage.requests / 1e6, p.assume('requests', `${n(p.usage.requests)} a month`));

export const PRICERS: Record<string, Pricer> = {
  'nat-gateway': (_r, p) => {
    const data = shared(p, 'nat-gateway', 'natGB', 'data processed', 'nat.gb', 'GB a month');
    return {
      what: 'NAT gateway',
      summary: 'NAT gateway',
      parts: some(p.hourly('NAT gateway hours', 'nat.hour'), data.part),
    };
  },

  'elastic-ip': (_r, p) => ({
    what: 'Elastic IP',
    summary: 'public IPv4',
    parts: some(publicIpv4(p, 1, 'AWS charges every public IPv4 address')),
  }),

  instance: (r, p) => {
    const type = str(r.args.instanceType) ?? '?';
    const hours = instances(p, 'ec2', type, 1, `EC2 ${type}`);
    if (!isPart(hours)) return hours;
    const disk = num(rec(r.args.rootVolume).sizeGiB, 8);
    const subnet = p.linked(r, 'subnetId');
    const nat = r.args.sourceDestCheck === false;
    return {
      what: nat ? `NAT instance ${type}` : `EC2 instance ${type}`,
      summary: type,
      parts: some(
        hours,
        p.part(`root volume ${disk} GiB`, 'ebs.gp3', disk),
        subnet?.args.mapPublicIpOnLaunch === true ? publicIpv4(p, 1, 'in a public subnet') : undefined,
      ),
    };
  },

  'auto-scaling-group': (r, p) => {
    const template = p.linked(r, 'launchTemplateId');
    const type = str(template?.args.instanceType) ?? 't4g.small';
    const count = num(r.args.desiredCapacity, num(r.args.minSize, 0));
    if (count === 0) return undefined;
    const hours = instances(p, 'ec2', type, count, `EC2 ${type}`);
    if (!isPart(hours)) return hours;
    // The ECS-optimized image's root volume is 30 GiB.
    const disk = num(rec(template?.args.rootVolume).sizeGiB, 30);
    return {
      what: `EC2 instances ${type}`,
      summary: `${count} × ${type}`,
      parts: some(hours, p.part(`root volumes ${count} × ${disk} GiB`, 'ebs.gp3', count * disk)),
    };
  },

  'ecs-service': (r, p) => {
    // Tasks on the cluster's own instances cost those instances (the auto scaling group), not Fargate.
    if (r.args.launchType === 'EC2' || r.args.capacityProvider) return undefined;
    const task = p.linked(r, 'taskDefinition');
    const count = num(r.args.desiredCount, 1);
    const cpu = num(task?.args.cpu, 256) / 1024;
    const memory = num(task?.args.memory, 512) / 1024;
    const arch = str(rec(task?.args.runtimePlatform).cpuArchitecture) === 'ARM64' ? 'arm' : 'x86';
    const taskHours = count * p.hours;
    const publicIps = rec(r.args.network).assignPublicIp === true ? count : 0;
    return {
      what: `Fargate tasks ${n(cpu)} vCPU / ${n(memory)} GB`,
      summary: `${count} × ${n(cpu)} vCPU, ${n(memory)} GB`,
      parts: some(
        p.part(`${count} task(s) × ${n(cpu)} vCPU`, `fargate.vcpu.${arch}`, taskHours * cpu),
        p.part(`${count} task(s) × ${n(memory)} GB`, `fargate.gb.${arch}`, taskHours * memory),
        publicIpv4(p, publicIps, 'one per task in a public subnet'),
      ),
    };
  },

  'load-balancer': (r, p) => {
    // One LCU: 25 new connections a second or 1 GB an hour, whichever is used more (assumed one connection a request).
    // https://aws.amazon.com/elasticloadbalancing/pricing/
    const perSecond = p.usage.requests / (p.hours * 3600);
    const gbPerHour = p.usage.transferOutGB / p.hours;
    const lcus = Math.max(perSecond / 25, gbPerHour);
    const zones = Array.isArray(r.args.subnetIds) ? r.args.subnetIds.length : 2;
    const internet = r.args.scheme !== 'internal';
    return {
      what: 'Application Load Balancer',
      summary: 'load balancer',
      parts: some(
        p.hourly('load balancer hours', 'alb.hour'),
        p.part(
          `${n(lcus)} LCU`,
          'alb.lcu',
          lcus * p.hours,
          p.assume('requests', `${n(p.usage.requests)} requests and ${n(p.usage.transferOutGB)} GB a month`),
        ),
        internet ? publicIpv4(p, zones, 'one per zone') : undefined,
      ),
    };
  },

  'db-instance': (r, p) => {
    const type = str(r.args.instanceClass) ?? 'db.t4g.micro';
    const copies = r.args.multiAz === true ? 2 : 1;
    const label = `PostgreSQL ${type}${copies === 2 ? ' Multi-AZ' : ''}`;
    const hours = instances(p, 'rds', type, copies, label);
    if (!isPart(hours)) return hours;
    const gb = num(r.args.allocatedStorage, 20);
    const storage = str(r.args.storageType) ?? 'gp3';
    const backups = num(r.args.backupRetentionDays, 7);
    return {
      what: label,
      summary: `${type}${copies === 2 ? ' Multi-AZ' : ''}, ${gb} GB ${storage}`,
      parts: some(
        hours,
        p.part(
          `${gb} GB ${storage}${copies === 2 ? ' × 2 zones' : ''}`,
          `rds.storage.${storage}`,
          gb * copies,
        ),
        backups > 0
          ? p.part(
              `${backups} days of backups`,
              'rds.backup',
              0,
              'backup storage up to the database size is free; beyond it (large daily changes) is not counted',
            )
          : undefined,
      ),
    };
  },

  'replication-group': (r, p) => {
    const type = str(r.args.nodeType) ?? 'cache.t4g.micro';
    const nodes = 1 + num(r.args.replicas, 0);
    const engine = str(r.args.engine) ?? 'valkey';
    const label = `${engine === 'valkey' ? 'Valkey' : 'Redis OSS'} ${type}`;
    const hours = instances(p, 'elasticache', type, nodes, label);
    if (!isPart(hours)) return hours;
    const valkey = engine === 'valkey' ? p.figure('elasticache.valkey') : undefined;
    if (valkey) {
      hours.usd *= valkey.usd;
      hours.monthly *= valkey.usd;
      hours.assumption = `Valkey nodes cost ${valkey.usd} × the Redis OSS price (${valkey.source})`;
    }
    return { what: label, summary: `${nodes} × ${type} ${engine}`, parts: [hours] };
  },

  memcached: (r, p) => {
    const type = str(r.args.nodeType) ?? 'cache.t4g.micro';
    const nodes = num(r.args.nodes, 1);
    const hours = instances(p, 'elasticache', type, nodes, `Memcached ${type}`);
    if (!isPart(hours)) return hours;
    return { what: `Memcached ${type}`, summary: `${nodes} × ${type}`, parts: [hours] };
  },

  bucket: (_r, p) => {
    const storage = shared(p, 'bucket', 'storageGB', 'storage', 's3.storage', 'GB');
    const requests = shared(p, 'bucket', 's3Requests', 'requests', 's3.get', 'a month').amount;
    const assumption = p.assume(
      's3Requests',
      `${n(requests)} a month, one PUT for nine GETs`,
      p.shareOf('bucket'),
    );
    return {
      what: 'S3 bucket',
      summary: 'bucket',
      parts: some(
        storage.part,
        p.part('GET requests', 's3.get', (requests * 0.9) / 1000, assumption),
        p.part('PUT requests', 's3.put', (requests * 0.1) / 1000, assumption),
      ),
    };
  },

  distribution: (_r, p) => ({
    what: 'CloudFront distribution',
    summary: 'distribution',
    parts: some(
      p.part(
        'data out',
        'cloudfront.out',
        p.usage.transferOutGB,
        p.assume('transferOutGB', `${n(p.usage.transferOutGB)} GB a month`),
      ),
      p.part(
        'HTTPS requests',
        'cloudfront.requests',
        p.usage.requests / 10_000,
        p.assume('requests', `${n(p.usage.requests)} a month`),
      ),
    ),
  }),

  'hosted-zone': (_r, p) => ({
    what: 'Route 53 hosted zone',
    summary: 'hosted zone',
    parts: some(
      p.part(
        'hosted zone',
        'route53.zone',
        1,
        'an existing zone adopted is billed once, wherever it is counted',
      ),
    ),
  }),

  'kms-key': (_r, p) => ({ what: 'KMS key', summary: 'key', parts: some(p.part('key', 'kms.key', 1)) }),

  secret: (_r, p) => ({
    what: 'Secrets Manager secret',
    summary: 'secret',
    parts: some(p.part('secret', 'secrets.secret', 1)),
  }),

  'ssm-parameter': (r, p) =>
    r.args.tier === 'Advanced'
      ? {
          what: 'SSM advanced parameter',
          summary: 'Advanced',
          parts: some(p.part('parameter', 'ssm.advanced', 1)),
        }
      : undefined,

  'log-group': (r, p) => {
    const ingest = shared(p, 'log-group', 'logsGB', 'ingestion', 'logs.ingest', 'GB a month');
    // Kept logs pile up to a month's worth × the months of retention (forever: counted as a year's worth).
    const days = r.args.retentionDays === null ? 365 : num(r.args.retentionDays, 30);
    const stored = ingest.amount * (days / 30.42);
    return {
      what: 'CloudWatch log group',
      summary: `${days} days retention`,
      parts: some(
        ingest.part,
        p.part(`storage (${days} days kept)`, 'logs.storage', stored, `${n(stored)} GB kept, uncompressed`),
      ),
    };
  },

  'ecr-repository': (_r, p) => {
    const images = shared(p, 'ecr-repository', 'imagesGB', 'image storage', 'ecr.storage', 'GB');
    return { what: 'ECR repository', summary: 'repository', parts: some(images.part) };
  },

  'lambda-function': (r, p) => {
    const memory = num(r.args.memoryMb, 512) / 1024;
    const arch = r.args.architecture === 'x86_64' ? 'x86' : 'arm';
    const seconds = (p.usage.requests * p.usage.lambdaMs) / 1000;
    return {
      what: `Lambda function ${n(memory * 1024)} MB ${arch === 'arm' ? 'arm64' : 'x86_64'}`,
      summary: `${n(memory * 1024)} MB ${arch}`,
      parts: some(
        perMillionRequests(p, 'lambda.requests'),
        p.part(
          'compute',
          `lambda.gbs.${arch}`,
          seconds * memory,
          p.assume('lambdaMs', `${n(p.usage.lambdaMs)} ms a request`),
        ),
      ),
    };
  },

  'http-api': (_r, p) => ({
    what: 'API Gateway HTTP API',
    summary: 'HTTP API',
    parts: some(perMillionRequests(p, 'apigateway.http')),
  }),

  schedule: (r, p) => {
    const fires = firesPerMonth(str(r.args.expression) ?? '');
    return {
      what: 'EventBridge schedule',
      summary: str(r.args.expression) ?? 'schedule',
      parts: some(
        p.part(
          'invocations',
          'scheduler.invocations',
          fires / 1e6,
          `${n(fires)} a month from its expression; the free 14 million are not deducted`,
        ),
      ),
    };
  },

  queue: (r, p) => {
    // A dead-letter queue receives only the messages that failed: it is left out of the share of requests.
    if (p.linkedBy('queue', 'deadLetter', r.address))
      return {
        what: 'SQS queue',
        summary: 'dead-letter queue',
        parts: some(p.part('requests', 'sqs.requests', 0, 'a dead-letter queue: only failed messages')),
      };
    const requests = shared(p, 'queue', 'queueRequests', 'requests', 'sqs.requests', 'a month', 1e6);
    return { what: 'SQS queue', summary: 'queue', parts: some(requests.part) };
  },

  'email-domain': (_r, p) => ({
    what: 'SES sending',
    summary: 'email',
    parts: some(
      p.part(
        'emails',
        'ses.emails',
        p.usage.emails / 1000,
        p.assume('emails', `${n(p.usage.emails)} a month`),
      ),
    ),
  }),

  // Another helper's kinds (issue 14): argument names read defensively until they settle.
  'opensearch-domain': (r, p) => {
    const a = r.args;
    const cluster = rec(a.clusterConfig);
    const type = str(first(a, 'instanceType') ?? cluster.instanceType) ?? 't3.small.search';
    const count = num(first(a, 'instanceCount', 'count', 'nodes') ?? cluster.instanceCount, 1);
    const ebs = rec(a.ebsOptions);
    const gb = num(first(a, 'volumeSize', 'volumeSizeGiB', 'volumeSizeGb', 'storage') ?? ebs.volumeSize, 10);
    const hours = instances(p, 'opensearch', type, count, `OpenSearch ${type}`);
    if (!isPart(hours)) return hours;
    return {
      what: `OpenSearch ${type}`,
      summary: `${count} × ${type}, ${gb} GB`,
      parts: some(hours, p.part(`${count} × ${gb} GB gp3`, 'opensearch.gp3', count * gb)),
    };
  },

  'mq-broker': (r, p) => {
    const type = str(first(r.args, 'hostInstanceType', 'instanceType')) ?? 'mq.t3.micro';
    const mode = str(r.args.deploymentMode) ?? 'SINGLE_INSTANCE';
    // A RabbitMQ cluster is three brokers across zones; active/standby (ActiveMQ) two.
    const count = mode === 'CLUSTER_MULTI_AZ' ? 3 : mode === 'ACTIVE_STANDBY_MULTI_AZ' ? 2 : 1;
    const hours = instances(p, 'mq', type, count, `Amazon MQ ${type}`);
    if (!isPart(hours)) return hours;
    return { what: `RabbitMQ broker ${type}`, summary: `${count} × ${type} ${mode}`, parts: [hours] };
  },
};

/** How often a schedule fires in a month: rate(…) exactly, cron(…) by counting its fields; at(…) once, so ~0. */
export function firesPerMonth(expression: string): number {
  const rate = /^rate\((\d+)\s+(minute|hour|day)s?\)$/.exec(expression.trim());
  if (rate) {
    const minutes = { minute: 1, hour: 60, day: 1440 }[rate[2] as 'minute' | 'hour' | 'day'];
    return Math.round((30.42 * 1440) / (Number(rate[1]) * minutes));
  }
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (!cron) return 0;
  const [min = '0', hr = '0', dom = '*', mon = '*', dow = '?'] = cron[1]!.trim().split(/\s+/);
  const days =
    dom === '*' || dom === '?'
      ? dow === '*' || dow === '?'
        ? 30.42
        : (count(dow, 1, 7) * 30.42) / 7
      : count(dom, 1, 31);
  return Math.round(count(min, 0, 59) * count(hr, 0, 23) * days * (count(mon, 1, 12) / 12));
}

/** Values a cron field takes: *, lists, ranges and steps. */
function count(field: string, lo: number, hi: number): number {
  let total = 0;
  for (const part of field.split(',')) {
    const [range = '*', step] = part.split('/');
    const [a, b] = range === '*' || range === '?' ? [lo, hi] : range.split('-').map(Number);
    const from = Number.isFinite(a) ? a! : lo;
    const to = b !== undefined && Number.isFinite(b) ? b : step ? hi : from;
    total += Math.floor((to - from) / Number(step ?? 1)) + 1;
  }
  return Math.max(1, total);
}
