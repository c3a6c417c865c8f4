// touchdown cost on the xkcd example against the local AWS, and the monthly difference a plan shows when the
// database grows. Expected figures come from the price table; boto3 checks that neither command changed anything.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { PRICE_TABLE } from '../src/cost/prices.js';
import { copyOfExample, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
// After the harness's reset: the release's one-off task stops at its first look, as in test/reliability/app.ts.
beforeEach(() => t.aws.setTransition('ecs::task', { progression: 'immediate' }));
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:v1';
const HOURS = PRICE_TABLE.hoursPerMonth;
const base = (key: string) => PRICE_TABLE.baseFigures[key]!.usd;

const xkcd = () => copyOfExample('xkcd', ['touchdown.yml', 'Dockerfile', 'requirements.txt', 'manage.py']);

interface CostDocument {
  stack: string;
  region: string;
  pricedAs: string;
  tableDate: string;
  total: number;
  warnings: string[];
  items: {
    address: string;
    kind: string;
    monthly: number;
    parts: { usd: number; quantity: number; monthly: number }[];
  }[];
}

async function costJson(
  cwd: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<CostDocument> {
  const run = await runCli(['cost', '--json', ...args], { cwd, aws: t.aws, env });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  return JSON.parse(run.stdout) as CostDocument;
}

describe('touchdown cost', () => {
  it('prices xkcd per resource from the table, with its date and total, and changes nothing; is region-aware; only an old table warns', {
    timeout: 120_000,
  }, async () => {
    const cwd = await xkcd();
    // On the table's own date: the price table is fresh, and says nothing of its age.
    const text = await runCli(['cost'], { cwd, aws: t.aws, env: { TOUCHDOWN_TODAY: PRICE_TABLE.date } });
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(
      text.stdout,
      new RegExp(
        `stack "xkcd-production" in us-east-1: on-demand prices in USD from the table of ${PRICE_TABLE.date}`,
      ),
    );
    for (const what of [
      'PostgreSQL db.t4g.micro',
      'Valkey cache.t4g.micro',
      'Application Load Balancer',
      'CloudFront distribution',
      'Fargate tasks 0.25 vCPU / 0.5 GB',
    ])
      assert.ok(text.stdout.includes(what), `${what} in:\n${text.stdout}`);
    assert.match(text.stdout, /default; set usage\.requests/, 'usage-priced lines say what they assume');
    assert.doesNotMatch(text.stdout, /more than six months ago/);

    const doc = await costJson(cwd);
    const sum = doc.items.reduce((n, i) => n + i.monthly, 0);
    assert.ok(Math.abs(doc.total - sum) < 0.01, `total ${doc.total} is the sum ${sum}`);
    assert.match(text.stdout, new RegExp(`Total +\\$${doc.total.toFixed(2)} a month`));
    const db = doc.items.find((i) => i.kind === 'db-instance')!;
    assert.equal(db.parts[0]!.usd, base('rds.db.t4g.micro'));
    assert.equal(db.parts[0]!.quantity, HOURS);
    // Two web tasks of a quarter vCPU and half a GB, the counts of touchdown.yml (nothing is deployed yet).
    const web = doc.items.find((i) => i.address === 'ecs-service.web')!;
    assert.ok(Math.abs(web.parts[0]!.monthly - 2 * HOURS * 0.25 * base('fargate.vcpu.x86')) < 1e-6);

    // An estimate reads; it makes nothing (not even the lock bucket).
    const buckets = await t.boto.call('s3', 'ListBuckets', {});
    assert.deepEqual(buckets.Buckets ?? [], []);
    const dbs = await t.boto.call('rds', 'DescribeDBInstances', {});
    assert.deepEqual(dbs.DBInstances, []);

    // Region-aware: a region the table lacks is priced as us-east-1 with a warning.
    const home = doc;
    const frankfurt = await costJson(cwd, ['--region', 'eu-central-1']);
    assert.equal(frankfurt.pricedAs, 'eu-central-1');
    assert.ok(frankfurt.total > home.total, `${frankfurt.total} > ${home.total}`);
    const cape = await costJson(cwd, ['--region', 'af-south-1']);
    assert.equal(cape.pricedAs, 'us-east-1');
    assert.match(cape.warnings.join('\n'), /no figures for af-south-1/);

    const later = new Date(Date.parse(PRICE_TABLE.date) + 190 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const stale = await runCli(['cost'], { cwd, aws: t.aws, env: { TOUCHDOWN_TODAY: later } });
    assert.equal(stale.code, 0, stale.stderr);
    assert.match(
      stale.stdout,
      new RegExp(`Warning: the price table is from ${PRICE_TABLE.date}, more than six months ago`),
    );
  });

  it('a plan that changes the database size shows the monthly difference; deploy shows it before asking', {
    timeout: 300_000,
  }, async () => {
    const cwd = await xkcd();
    const deployed = await runCli(['deploy', '--image', IMAGE, '--yes'], { cwd, aws: t.aws });
    assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
    assert.match(deployed.stdout, /Monthly cost: \$0\.00 → \$\d+\.\d\d \(\+\$\d+\.\d\d\/month/);
    assert.match(deployed.stdout, /\+\$\d+\.\d\d\/month: PostgreSQL db\.t4g\.micro ×1/);

    const path = join(cwd, 'touchdown.yml');
    await writeFile(
      path,
      (await readFile(path, 'utf8')).replace('  storage: 20', '  instance: db.t4g.small\n  storage: 20'),
    );
    const plan = await runCli(['plan'], { cwd, aws: t.aws });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    const delta = (HOURS * (base('rds.db.t4g.small') - base('rds.db.t4g.micro'))).toFixed(2);
    assert.match(
      plan.stdout,
      new RegExp(
        `\\+\\$${delta.replace('.', '\\.')}/month: PostgreSQL db\\.t4g\\.small \\(db-instance\\.db\\): db\\.t4g\\.micro, 20 GB gp3 → db\\.t4g\\.small, 20 GB gp3`,
      ),
    );
    // Before and after differ by the database alone: the rest (tasks found through their task definition) is unchanged.
    const json = await runCli(['plan', '--json'], { cwd, aws: t.aws });
    const { cost } = JSON.parse(json.stdout) as { cost: { before: number; after: number; monthly: number } };
    assert.equal(cost.monthly, Number(delta));
    const now = await costJson(cwd);
    assert.equal(cost.after, now.total, 'the plan ends where touchdown cost says the stage will be');
    const { DBInstances } = await t.boto.call('rds', 'DescribeDBInstances', {});
    assert.equal(DBInstances[0].DBInstanceClass, 'db.t4g.micro', 'plan changed nothing');
  });
});
