// The price table `touchdown cost` and every plan's monthly difference read: AWS's published on-demand prices in USD,
// each with the page it came from. Figures marked `estimate` were not read from that page for that region (why is said).
// Update: re-read each page, change the figure, move `date`. The CLI warns when `date` is over six months old.

/** One published price: `usd` per `unit`, from `source`. */
export interface Figure {
  usd: number;
  unit: string;
  source: string;
  /** Set when the figure is not AWS's published one for that region: how it was made. */
  estimate?: string;
}

const PAGE = {
  fargate: 'https://aws.amazon.com/fargate/pricing/',
  ec2: 'https://aws.amazon.com/ec2/pricing/on-demand/',
  ebs: 'https://aws.amazon.com/ebs/pricing/',
  vpc: 'https://aws.amazon.com/vpc/pricing/',
  elb: 'https://aws.amazon.com/elasticloadbalancing/pricing/',
  rds: 'https://aws.amazon.com/rds/postgresql/pricing/',
  elasticache: 'https://aws.amazon.com/elasticache/pricing/',
  s3: 'https://aws.amazon.com/s3/pricing/',
  cloudfront: 'https://aws.amazon.com/cloudfront/pricing/',
  route53: 'https://aws.amazon.com/route53/pricing/',
  kms: 'https://aws.amazon.com/kms/pricing/',
  secrets: 'https://aws.amazon.com/secrets-manager/pricing/',
  ssm: 'https://aws.amazon.com/systems-manager/pricing/',
  cloudwatch: 'https://aws.amazon.com/cloudwatch/pricing/',
  ecr: 'https://aws.amazon.com/ecr/pricing/',
  lambda: 'https://aws.amazon.com/lambda/pricing/',
  apigateway: 'https://aws.amazon.com/api-gateway/pricing/',
  scheduler: 'https://aws.amazon.com/eventbridge/pricing/',
  sqs: 'https://aws.amazon.com/sqs/pricing/',
  ses: 'https://aws.amazon.com/ses/pricing/',
  opensearch: 'https://aws.amazon.com/opensearch-service/pricing/',
  mq: 'https://aws.amazon.com/amazon-mq/pricing/',
} as const;

type Page = keyof typeof PAGE;
const at = (page: Page, usd: number, unit: string, estimate?: string): Figure => ({
  usd,
  unit,
  source: PAGE[page],
  ...(estimate ? { estimate } : {}),
});
const hour = (page: Page, usd: number, estimate?: string) => at(page, usd, 'hour', estimate);

/** Instance prices per hour by type, for one service. */
const hourly = (page: Page, prices: Record<string, number>, estimate?: string) =>
  Object.fromEntries(Object.entries(prices).map(([type, usd]) => [type, hour(page, usd, estimate)]));

/** Sizes of one family priced in proportion, as AWS prices them on-demand (each size doubles the one before). */
function family(page: Page, prefix: string, smallest: number, sizes: string[], estimate?: string) {
  return Object.fromEntries(
    sizes.map((size, i) => [`${prefix}.${size}`, hour(page, round(smallest * 2 ** i), estimate)]),
  );
}
const round = (n: number) => Math.round(n * 1e6) / 1e6;
const T_SIZES = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', '2xlarge'];
const M_SIZES = ['medium', 'large', 'xlarge', '2xlarge', '4xlarge'];

/** us-east-1 (N. Virginia): every figure the estimator uses. Other regions list what differs from it. */
const US_EAST_1 = {
  'fargate.vcpu.x86': at('fargate', 0.04048, 'vCPU-hour'),
  'fargate.gb.x86': at('fargate', 0.004445, 'GB-hour'),
  'fargate.vcpu.arm': at('fargate', 0.03238, 'vCPU-hour'),
  'fargate.gb.arm': at('fargate', 0.00356, 'GB-hour'),
  'ebs.gp3': at('ebs', 0.08, 'GB-month'),
  'ipv4.address': at('vpc', 0.005, 'public IPv4 address-hour'),
  'nat.hour': hour('vpc', 0.045),
  'nat.gb': at('vpc', 0.045, 'GB processed'),
  'alb.hour': hour('elb', 0.0225),
  'alb.lcu': at('elb', 0.008, 'LCU-hour'),
  'rds.storage.gp3': at('rds', 0.115, 'GB-month'),
  'rds.storage.gp2': at('rds', 0.115, 'GB-month'),
  'rds.backup': at('rds', 0.095, 'GB-month beyond the free allowance'),
  's3.storage': at('s3', 0.023, 'GB-month'),
  's3.put': at('s3', 0.005, '1,000 PUT/POST/LIST requests'),
  's3.get': at('s3', 0.0004, '1,000 GET requests'),
  'cloudfront.out': at('cloudfront', 0.085, 'GB out (North America and Europe, first 10 TB)'),
  'cloudfront.requests': at('cloudfront', 0.01, '10,000 HTTPS requests'),
  'route53.zone': at('route53', 0.5, 'hosted zone-month'),
  'kms.key': at('kms', 1, 'key-month'),
  'secrets.secret': at('secrets', 0.4, 'secret-month'),
  'ssm.standard': at('ssm', 0, 'standard parameter-month'),
  'ssm.advanced': at('ssm', 0.05, 'advanced parameter-month'),
  'logs.ingest': at('cloudwatch', 0.5, 'GB ingested'),
  'logs.storage': at('cloudwatch', 0.03, 'GB-month stored'),
  'ecr.storage': at('ecr', 0.1, 'GB-month'),
  'lambda.requests': at('lambda', 0.2, 'million requests'),
  'lambda.gbs.x86': at('lambda', 0.0000166667, 'GB-second'),
  'lambda.gbs.arm': at('lambda', 0.0000133334, 'GB-second'),
  'apigateway.http': at('apigateway', 1, 'million HTTP API requests (first 300 million)'),
  'scheduler.invocations': at('scheduler', 1, 'million invocations (after 14 million free)'),
  'sqs.requests': at('sqs', 0.4, 'million standard queue requests'),
  'ses.emails': at('ses', 0.1, '1,000 emails'),
  'opensearch.gp3': at('opensearch', 0.122, 'GB-month (gp3)'),
  'mq.storage': at('mq', 0.1, 'GB-month (RabbitMQ broker storage)'),
  ...prefixed('ec2', {
    ...family('ec2', 't4g', 0.0042, T_SIZES),
    ...family('ec2', 't3', 0.0052, T_SIZES),
    ...family('ec2', 't3a', 0.0047, T_SIZES),
    ...family('ec2', 'm7g', 0.0408, M_SIZES),
    ...family('ec2', 'c7g', 0.03625, M_SIZES),
    ...family('ec2', 'r7g', 0.05355, M_SIZES),
    ...family('ec2', 'm6g', 0.0385, M_SIZES),
    ...family('ec2', 'c6g', 0.034, M_SIZES),
    ...hourly('ec2', { 'm7i.large': 0.1008, 'm7i.xlarge': 0.2016, 'm6i.large': 0.096, 'm6i.xlarge': 0.192 }),
    ...hourly('ec2', { 'c7i.large': 0.08925, 'c6i.large': 0.085, 'm5.large': 0.096, 'm5.xlarge': 0.192 }),
  }),
  // PostgreSQL, Single-AZ; Multi-AZ (one standby) is twice the instance and the storage.
  ...prefixed('rds', {
    ...hourly('rds', {
      'db.t4g.micro': 0.016,
      'db.t4g.small': 0.032,
      'db.t4g.medium': 0.065,
      'db.t4g.large': 0.129,
      'db.t4g.xlarge': 0.258,
      'db.t4g.2xlarge': 0.517,
      'db.t3.micro': 0.018,
      'db.t3.small': 0.036,
      'db.t3.medium': 0.072,
      'db.t3.large': 0.145,
      'db.m7g.large': 0.168,
      'db.m7g.xlarge': 0.337,
      'db.m7g.2xlarge': 0.674,
      'db.m6g.large': 0.159,
      'db.m6g.xlarge': 0.318,
      'db.m5.large': 0.178,
      'db.r6g.large': 0.225,
      'db.r6g.xlarge': 0.45,
    }),
    ...hourly(
      'rds',
      { 'db.r7g.large': 0.239, 'db.r7g.xlarge': 0.478 },
      'r7g prices recalled from the page, not re-read on the table date',
    ),
  }),
  // Redis OSS and Memcached node prices; Valkey nodes cost 20% less (see elasticache.valkey).
  ...prefixed('elasticache', {
    ...hourly('elasticache', {
      'cache.t4g.micro': 0.016,
      'cache.t4g.small': 0.032,
      'cache.t4g.medium': 0.065,
      'cache.t3.micro': 0.017,
      'cache.t3.small': 0.034,
      'cache.t3.medium': 0.068,
      'cache.m7g.large': 0.158,
      'cache.m6g.large': 0.149,
      'cache.r7g.large': 0.219,
      'cache.r6g.large': 0.206,
    }),
  }),
  'elasticache.valkey': at('elasticache', 0.8, 'share of the Redis OSS node price (Valkey is 20% lower)'),
  ...prefixed('opensearch', {
    ...hourly('opensearch', {
      't3.small.search': 0.036,
      't3.medium.search': 0.073,
      'm6g.large.search': 0.128,
      'c6g.large.search': 0.113,
      'r6g.large.search': 0.167,
    }),
    ...hourly(
      'opensearch',
      { 'm7g.large.search': 0.136, 'r7g.large.search': 0.178 },
      'recalled from the page, not re-read on the table date',
    ),
  }),
  // RabbitMQ brokers; a cluster is three nodes.
  ...prefixed('mq', {
    ...hourly(
      'mq',
      { 'mq.t3.micro': 0.03, 'mq.m5.large': 0.288, 'mq.m5.xlarge': 0.576, 'mq.m5.2xlarge': 1.152 },
      'recalled from the page, not re-read on the table date',
    ),
  }),
} satisfies Record<string, Figure>;

function prefixed(service: string, figures: Record<string, Figure>): Record<string, Figure> {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${service}.${k}`, v]));
}

export type PriceKey = string;

/**
 * A region: the figures that differ from us-east-1, and `factor`, the region's price for instance types relative to
 * us-east-1 (from its t3.micro), used for the instance types it does not list (marked as estimates).
 */
export interface RegionPrices {
  name: string;
  factor: number;
  /** Priced as us-east-1 throughout (its pages give the same figures). */
  sameAsBase?: boolean;
  /** Figures the region's pages give; any figure not here and not GLOBAL is us-east-1's × factor, an estimate. */
  figures: Record<PriceKey, Figure>;
}

/** Priced the same in every region (or not by region at all). */
export const GLOBAL: readonly string[] = [
  'ipv4.address',
  'cloudfront.out',
  'cloudfront.requests',
  'route53.zone',
  'kms.key',
  'secrets.secret',
  'ssm.standard',
  'ssm.advanced',
  'lambda.requests',
  'lambda.gbs.x86',
  'lambda.gbs.arm',
  'scheduler.invocations',
  'sqs.requests',
  'ses.emails',
  'elasticache.valkey',
];

const recalled = 'recalled from the page for this region, not re-read on the table date';

/**
 * The regions whose pages were read, one row each, in this column order:
 * name, factor (t3 ratio to us-east-1), Fargate x86 vCPU-hour, GB-hour, NAT gateway hour (= per GB), ALB hour, LCU-hour,
 * EBS gp3 GB-month, S3 GB-month, RDS gp3 GB-month, CloudWatch Logs GB ingested, t4g.nano, t3.nano, db.t4g.micro,
 * cache.t4g.micro, and whether the row is recalled rather than re-read on the table date.
 */
// biome-ignore format: the columns above, in one line
type Row = [string, number, number, number, number, number, number, number, number, number, number, number, number, number, number, boolean];
// biome-ignore format: one row a region reads as a table
const ROWS: Record<string, Row> = {
  'us-west-1': ['US West (N. California)', 1.19, 0.04656, 0.00511, 0.048, 0.0252, 0.008, 0.096, 0.026, 0.138, 0.5, 0.005, 0.0062, 0.02, 0.02, true],
  'eu-west-1': ['Europe (Ireland)', 1.096, 0.04048, 0.004445, 0.048, 0.0252, 0.008, 0.088, 0.023, 0.127, 0.57, 0.0046, 0.0057, 0.018, 0.018, false],
  'eu-central-1': ['Europe (Frankfurt)', 1.154, 0.04656, 0.00511, 0.052, 0.027, 0.008, 0.0952, 0.0245, 0.137, 0.63, 0.0048, 0.006, 0.019, 0.019, false],
  'eu-west-2': ['Europe (London)', 1.135, 0.04656, 0.00511, 0.05, 0.02646, 0.00847, 0.0928, 0.024, 0.133, 0.5985, 0.0048, 0.0059, 0.019, 0.019, true],
  'ap-northeast-1': ['Asia Pacific (Tokyo)', 1.308, 0.05056, 0.00553, 0.062, 0.0243, 0.008, 0.096, 0.025, 0.138, 0.76, 0.0054, 0.0068, 0.025, 0.025, false],
  'ap-southeast-1': ['Asia Pacific (Singapore)', 1.269, 0.05056, 0.00553, 0.059, 0.0252, 0.008, 0.096, 0.025, 0.138, 0.7, 0.0053, 0.0066, 0.024, 0.024, true],
  'ap-southeast-2': ['Asia Pacific (Sydney)', 1.269, 0.04856, 0.00532, 0.059, 0.0252, 0.008, 0.096, 0.025, 0.138, 0.7, 0.0053, 0.0066, 0.024, 0.024, true],
  'ca-central-1': ['Canada (Central)', 1.115, 0.04456, 0.004865, 0.05, 0.02475, 0.0088, 0.088, 0.025, 0.127, 0.55, 0.0046, 0.0058, 0.018, 0.018, true],
  'ap-south-1': ['Asia Pacific (Mumbai)', 1.077, 0.04256, 0.00467, 0.056, 0.0239, 0.008, 0.0912, 0.025, 0.131, 0.67, 0.0045, 0.0056, 0.018, 0.018, true],
  'sa-east-1': ['South America (São Paulo)', 1.615, 0.0696, 0.0076, 0.093, 0.034, 0.011, 0.152, 0.0405, 0.23, 0.9, 0.0067, 0.0084, 0.03, 0.029, true],
};

/** A row's figures, keyed as us-east-1's; the rest of a region is us-east-1's × factor (or the same, where GLOBAL). */
function region(row: Row): RegionPrices {
  const [
    name,
    factor,
    vcpu,
    gb,
    nat,
    albHour,
    lcu,
    ebs,
    s3,
    rdsStorage,
    logs,
    t4gNano,
    t3Nano,
    dbMicro,
    cacheMicro,
  ] = row;
  const e = row[15] ? recalled : undefined;
  return {
    name,
    factor,
    figures: {
      'fargate.vcpu.x86': at('fargate', vcpu, 'vCPU-hour', e),
      'fargate.gb.x86': at('fargate', gb, 'GB-hour', e),
      // Graviton tasks cost 20% less than x86 in every region Fargate offers them.
      'fargate.vcpu.arm': at('fargate', round(vcpu * 0.8), 'vCPU-hour', e ?? 'x86 price × 0.8'),
      'fargate.gb.arm': at('fargate', round(gb * 0.8), 'GB-hour', e ?? 'x86 price × 0.8'),
      'nat.hour': hour('vpc', nat, e),
      'nat.gb': at('vpc', nat, 'GB processed', e),
      'alb.hour': hour('elb', albHour, e),
      'alb.lcu': at('elb', lcu, 'LCU-hour', e),
      'ebs.gp3': at('ebs', ebs, 'GB-month', e),
      's3.storage': at('s3', s3, 'GB-month', e),
      'rds.storage.gp3': at('rds', rdsStorage, 'GB-month', e),
      'rds.storage.gp2': at('rds', rdsStorage, 'GB-month', e),
      'logs.ingest': at('cloudwatch', logs, 'GB ingested', e),
      ...prefixed('ec2', {
        ...family('ec2', 't4g', t4gNano, T_SIZES, e),
        ...family('ec2', 't3', t3Nano, T_SIZES, e),
      }),
      'rds.db.t4g.micro': hour('rds', dbMicro, e),
      'rds.db.t4g.small': hour('rds', round(dbMicro * 2), e ?? 'db.t4g.micro × 2'),
      'elasticache.cache.t4g.micro': hour('elasticache', cacheMicro, e),
      'elasticache.cache.t4g.small': hour('elasticache', round(cacheMicro * 2), e ?? 'cache.t4g.micro × 2'),
    },
  };
}

/** The table: its date, us-east-1's figures, and the regions whose pages were read. */
export const PRICE_TABLE = {
  /** When the figures were last checked against the pages (YYYY-MM-DD). */
  date: '2026-12-07',
  currency: 'USD',
  /** AWS bills a month as 730 hours in its calculator. */
  hoursPerMonth: 730,
  base: 'us-east-1',
  baseFigures: US_EAST_1 as Record<PriceKey, Figure>,
  regions: {
    'us-east-1': { name: 'US East (N. Virginia)', factor: 1, figures: US_EAST_1 },
    // Ohio and Oregon publish the same figures as N. Virginia for everything priced here.
    'us-east-2': { name: 'US East (Ohio)', factor: 1, sameAsBase: true, figures: {} },
    'us-west-2': { name: 'US West (Oregon)', factor: 1, sameAsBase: true, figures: {} },
    ...Object.fromEntries(Object.entries(ROWS).map(([code, row]) => [code, region(row)])),
  } as Record<string, RegionPrices>,
};

export type PriceTable = typeof PRICE_TABLE;
