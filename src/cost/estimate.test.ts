// The estimator against the price table: every expected figure is computed from the table's own numbers, so a
// change of price changes both sides, and a change of the arithmetic (hours, counts, shares) fails.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from '../config/load-manifest.js';
import { awsBlueprint } from '../django/blueprint/index.js';
import { costDifference } from './difference.js';
import { estimateCost, type PricedResource } from './estimate.js';
import { declaredResources } from './planned.js';
import { firesPerMonth } from './pricers.js';
import { GLOBAL, PRICE_TABLE } from './prices.js';
import { DEFAULT_USAGE } from './usage.js';

const HOURS = PRICE_TABLE.hoursPerMonth;
const base = (key: string) => PRICE_TABLE.baseFigures[key]!.usd;
const TODAY = new Date(PRICE_TABLE.date);

function stackOf(yaml: string, region = 'us-east-1') {
  const loaded = parseManifest(
    `app: shop\ndjango: { settings: shop.settings, wsgi: shop.wsgi }\n${yaml}`,
    'touchdown.yml',
  );
  return awsBlueprint(loaded, {
    region,
    account: '123456789012',
    zones: [`${region}a`, `${region}b`, `${region}c`],
    image: yaml.includes('lambda')
      ? 's3://shop-packages/app.zip'
      : '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1',
  });
}

const estimateOf = (yaml: string, region = 'us-east-1', usage?: Record<string, number>) =>
  estimateCost(declaredResources(stackOf(yaml, region)), { region, today: TODAY, usage });

const monthlyOf = (e: ReturnType<typeof estimateCost>, kind: string) =>
  e.items.filter((i) => i.kind === kind).reduce((n, i) => n + i.monthly, 0);

const near = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 0.011, `${what}: ${actual} is not ${expected.toFixed(4)}`);

describe('cost estimate', () => {
  it('NAT gateways per zone against one NAT instance: the difference is the table figures × the hours', () => {
    const gateways = estimateOf('network: { nat: gateway, azs: 2 }\nweb: { compute: fargate }');
    const instance = estimateOf('network: { nat: instance, azs: 2 }\nweb: { compute: fargate }');
    const gatewayCost =
      2 * HOURS * base('nat.hour') + DEFAULT_USAGE.natGB * base('nat.gb') + 2 * HOURS * base('ipv4.address');
    // The instance: t4g.nano hours, its 8 GiB gp3 root volume, its public address (it sits in a public subnet).
    const instanceCost = HOURS * base('ec2.t4g.nano') + 8 * base('ebs.gp3') + HOURS * base('ipv4.address');
    near(monthlyOf(gateways, 'nat-gateway') + monthlyOf(gateways, 'elastic-ip'), gatewayCost, 'NAT gateways');
    near(monthlyOf(instance, 'instance'), instanceCost, 'NAT instance');
    const d = costDifference(gateways, instance);
    near(d.monthly, round2(instance.total) - round2(gateways.total), 'difference');
    // The tasks lose their public addresses with a NAT of either kind: the rest of the stack is priced the same.
    near(d.monthly, instanceCost - gatewayCost, 'difference is the NAT alone');
    assert.ok(
      d.changes.some((c) => /^NAT gateway ×2 removed$/.test(c.what) && c.monthly < -60),
      JSON.stringify(d.changes),
    );
    assert.ok(
      d.changes.some((c) => /^NAT instance t4g\.nano ×1$/.test(c.what)),
      JSON.stringify(d.changes),
    );
  });

  it('a bigger database: the difference is the two classes’ hourly prices × the hours; Multi-AZ doubles it', () => {
    const micro = estimateOf('database: { instance: db.t4g.micro, storage: 20 }');
    const small = estimateOf('database: { instance: db.t4g.small, storage: 20 }');
    const d = costDifference(micro, small);
    near(d.monthly, HOURS * (base('rds.db.t4g.small') - base('rds.db.t4g.micro')), 'class change');
    assert.match(d.changes[0]!.what, /db\.t4g\.micro, 20 GB gp3 → db\.t4g\.small, 20 GB gp3/);
    const multi = estimateOf('database: { instance: db.t4g.small, storage: 20, multiAz: true }');
    near(
      monthlyOf(multi, 'db-instance'),
      2 * (HOURS * base('rds.db.t4g.small') + 20 * base('rds.storage.gp3')),
      'Multi-AZ',
    );
  });

  it('Fargate tasks: count × (vCPU × vCPU-hour + GB × GB-hour) × hours, from the task definition the service runs', () => {
    const e = estimateOf('network: { nat: gateway }\nweb: { cpu: 1024, memory: 2048, count: 3 }');
    const web = e.items.find((i) => i.address === 'ecs-service.web')!;
    near(web.monthly, 3 * HOURS * (1 * base('fargate.vcpu.x86') + 2 * base('fargate.gb.x86')), 'web');
    assert.equal(web.summary, '3 × 1 vCPU, 2 GB');
  });

  it('EC2 compute prices the auto scaling group’s instances of the launch template’s type, not Fargate', () => {
    const e = estimateOf(
      'network: { nat: instance }\nweb: { compute: ec2, instanceType: t3.small, count: 2 }',
    );
    assert.equal(monthlyOf(e, 'ecs-service'), 0, 'tasks on the group’s instances');
    const group = e.items.find((i) => i.kind === 'auto-scaling-group')!;
    assert.ok(group, JSON.stringify(e.items.map((i) => i.address)));
    assert.equal(group.parts[0]!.usd, base('ec2.t3.small'));
  });

  it('Lambda, API Gateway and CloudFront follow the usage the manifest states', () => {
    const yaml = 'web: { compute: lambda, memory: 1024 }';
    const defaults = estimateOf(yaml);
    const busy = estimateOf(yaml, 'us-east-1', { requests: 10_000_000, lambdaMs: 100 });
    const fn = busy.items.find((i) => i.kind === 'lambda-function')!;
    near(fn.monthly, 10 * base('lambda.requests') + 10_000_000 * 0.1 * 1 * base('lambda.gbs.arm'), 'Lambda');
    near(monthlyOf(busy, 'http-api'), 10 * base('apigateway.http'), 'HTTP API');
    assert.match(fn.parts[0]!.assumption!, /usage\.requests in touchdown\.yml/);
    assert.match(
      defaults.items.find((i) => i.kind === 'lambda-function')!.parts[0]!.assumption!,
      /default; set usage\.requests/,
    );
    assert.deepEqual(busy.usageStated.sort(), ['lambdaMs', 'requests']);
  });

  it('a region of the table uses its own figures; one it lacks uses us-east-1’s and says so', () => {
    const tokyo = estimateOf('network: { nat: gateway }', 'ap-northeast-1');
    const nat = tokyo.items.find((i) => i.kind === 'nat-gateway')!;
    assert.equal(nat.parts[0]!.usd, PRICE_TABLE.regions['ap-northeast-1']!.figures['nat.hour']!.usd);
    assert.notEqual(nat.parts[0]!.usd, base('nat.hour'));
    assert.deepEqual(tokyo.warnings, []);
    const far = estimateOf('network: { nat: gateway }', 'af-south-1');
    assert.equal(far.pricedAs, 'us-east-1');
    assert.equal(far.items.find((i) => i.kind === 'nat-gateway')!.parts[0]!.usd, base('nat.hour'));
    assert.match(far.warnings.join('\n'), /no figures for af-south-1: us-east-1's prices are used/);
  });

  it('an instance type a region does not list is us-east-1’s × the region’s ratio, marked as an estimate', () => {
    const e = estimateOf('database: { instance: db.m7g.large }', 'eu-west-1');
    const db = e.items.find((i) => i.kind === 'db-instance')!;
    const factor = PRICE_TABLE.regions['eu-west-1']!.factor;
    near(db.parts[0]!.usd, base('rds.db.m7g.large') * factor, 'ratio');
    assert.match(db.parts[0]!.estimate!, /× 1\.096/);
  });

  it('every figure names an AWS pricing page, and every region lists only keys us-east-1 has', () => {
    for (const [name, region] of Object.entries(PRICE_TABLE.regions)) {
      for (const [key, f] of Object.entries(region.figures)) {
        assert.match(
          f.source,
          /^https:\/\/aws\.amazon\.com\/[a-z0-9-/]+\/pricing\/|^https:\/\/aws\.amazon\.com\/ec2\/pricing\/on-demand\/$/,
          `${name} ${key}`,
        );
        assert.ok(key in PRICE_TABLE.baseFigures, `${name} ${key} is not a us-east-1 figure`);
        assert.ok(f.usd >= 0, `${name} ${key}`);
      }
    }
    for (const key of GLOBAL) assert.ok(key in PRICE_TABLE.baseFigures, key);
  });

  it('an instance type the table lacks is reported, not priced as zero silently', () => {
    const e = estimateOf('database: { instance: db.x2g.16xlarge }');
    const db = e.items.find((i) => i.kind === 'db-instance')!;
    assert.equal(db.unpriced, 'rds type db.x2g.16xlarge');
    assert.match(
      e.warnings.join('\n'),
      /db-instance\.db: rds type db\.x2g\.16xlarge is not in the price table/,
    );
  });

  it('warns when the table is more than six months older than today', () => {
    const resources: PricedResource[] = [{ address: 'kms-key.k', kind: 'kms-key', args: {} }];
    const fresh = estimateCost(resources, { region: 'us-east-1', today: TODAY });
    assert.deepEqual(fresh.warnings, []);
    const later = new Date(Date.parse(PRICE_TABLE.date) + 200 * 24 * 3600 * 1000);
    const stale = estimateCost(resources, { region: 'us-east-1', today: later });
    assert.match(
      stale.warnings.join('\n'),
      new RegExp(`price table is from ${PRICE_TABLE.date}, more than six months ago`),
    );
  });

  it('the other helpers’ kinds: OpenSearch nodes and volumes, a RabbitMQ cluster of three', () => {
    const e = estimateCost(
      [
        {
          address: 'opensearch-domain.search',
          kind: 'opensearch-domain',
          args: { instanceType: 't3.small.search', instanceCount: 2, volumeSize: 10 },
        },
        {
          address: 'mq-broker.broker',
          kind: 'mq-broker',
          args: { hostInstanceType: 'mq.m5.large', deploymentMode: 'CLUSTER_MULTI_AZ' },
        },
      ],
      { region: 'us-east-1', today: TODAY },
    );
    near(
      e.items[0]!.monthly,
      2 * HOURS * base('opensearch.t3.small.search') + 20 * base('opensearch.gp3'),
      'OpenSearch',
    );
    near(e.items[1]!.monthly, 3 * HOURS * base('mq.mq.m5.large'), 'RabbitMQ');
  });

  it('Celery’s queue takes the SQS requests; its dead-letter queue only failed messages', () => {
    const e = estimateOf('workers: { default: { command: "celery -A shop worker" } }');
    const queue = e.items.find((i) => i.address === 'queue.celery')!;
    const dead = e.items.find((i) => i.address === 'queue.celery-dead')!;
    near(queue.monthly, (DEFAULT_USAGE.queueRequests / 1e6) * base('sqs.requests'), 'celery queue');
    assert.equal(dead.monthly, 0);
    assert.equal(dead.summary, 'dead-letter queue');
  });

  it('schedules fire as often as their expression says', () => {
    assert.equal(firesPerMonth('cron(0 3 * * ? *)'), 30);
    assert.equal(firesPerMonth('cron(*/15 * * * ? *)'), Math.round(4 * 24 * 30.42));
    assert.equal(firesPerMonth('cron(0 9 ? * MON-FRI *)') > 0, true);
    assert.equal(firesPerMonth('rate(1 hour)'), Math.round(30.42 * 24));
  });
});

const round2 = (n: number) => Math.round(n * 100) / 100;
