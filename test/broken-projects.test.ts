// xkcd deployed on a local AWS that runs the app: release 1 answers through the load balancer (migrate and
// collectstatic ran for real, gunicorn passed the ALB's health checks). Then releases AWS would refuse to run:
// each fails at the step where AWS would fail it, shows the task's last log lines, and leaves release 1 serving.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseManifest } from '../src/config/load-manifest.js';
import { deploy } from '../src/django/deploy.js';
import { ReleaseHistory } from '../src/django/releases.js';
import { get, listenerUrl } from './support/app-http.js';
import { Boto } from './support/boto.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';
import { repoRoot, venvPython } from './support/paths.js';

const REPOSITORY = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app';
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 120_000 };
const xkcd = join(repoRoot, 'examples', 'xkcd');

/** Each broken image is a copy of xkcd with one fault, as a developer's next commit might have it. */
const faults: Record<string, (dir: string) => Promise<void>> = {
  migrate: (dir) =>
    writeFile(
      join(dir, 'xkcd_app', 'migrations', '0003_broken.py'),
      [
        'from django.db import migrations',
        '',
        'def fail(apps, schema_editor):',
        '    raise RuntimeError("comic 404 was not found")',
        '',
        'class Migration(migrations.Migration):',
        '    dependencies = [("xkcd_app", "0002_load_comics")]',
        '    operations = [migrations.RunPython(fail)]',
        '',
      ].join('\n'),
    ),
  wsgi: async (dir) => {
    const dockerfile = join(dir, 'Dockerfile');
    const text = await readFile(dockerfile, 'utf8');
    await writeFile(dockerfile, text.replace('xkcd_app.wsgi:application', 'xkcd_app.wsgy:application'));
  },
  health: async (dir) => {
    // Any Host allowed, so that the missing path, not ALLOWED_HOSTS, is what the checker meets.
    await withoutHealthMiddleware(dir, 'ALLOWED_HOSTS = ["*"]');
    const urls = join(dir, 'xkcd_app', 'urls.py');
    await writeFile(urls, (await readFile(urls, 'utf8')).replace(/\s+path\("healthz".*\n/, '\n'));
  },
  hosts: async (dir) => {
    await withoutHealthMiddleware(dir, 'ALLOWED_HOSTS = ["xkcd.example.com"]');
  },
};

/**
 * A project whose settings do not run Touchdown's health-check middleware (its own settings, say): that middleware
 * answers the load balancer's checker whatever the URLconf and ALLOWED_HOSTS say, so without it they decide.
 */
async function withoutHealthMiddleware(dir: string, ...lines: string[]): Promise<void> {
  const settings = join(dir, 'xkcd_app', 'settings.py');
  const drop = 'MIDDLEWARE = [m for m in MIDDLEWARE if not m.endswith(".health_check_middleware")]';
  await writeFile(settings, `${await readFile(settings, 'utf8')}\n${[drop, ...lines].join('\n')}\n`);
}

describe('deploying a broken project', () => {
  let aws: LocalAws;
  let boto: Boto;
  let work: string;

  const deployTag = async (tag: string) => {
    const path = join(xkcd, 'touchdown.yml');
    const loaded = parseManifest(await readFile(path, 'utf8'), path);
    loaded.manifest.web.count = 1;
    loaded.manifest.web.autoscaling = { ...loaded.manifest.web.autoscaling!, min: 1, max: 1 };
    return deploy({
      loaded,
      aws: aws.clients(),
      events: () => {},
      signal: new AbortController().signal,
      image: `${REPOSITORY}:${tag}`,
      timing,
    });
  };

  const serving = async () => {
    const { services } = await boto.call('ecs', 'DescribeServices', {
      cluster: 'xkcd-production-main',
      services: ['xkcd-production-web'],
    });
    const { taskDefinition } = await boto.call('ecs', 'DescribeTaskDefinition', {
      taskDefinition: services[0].taskDefinition,
    });
    const page = await get(`${await listenerUrl(aws, 'xkcd', 443)}/?comic=1`);
    return { image: taskDefinition.containerDefinitions[0].image, status: page.status };
  };

  const assertPreviousServes = async () => {
    assert.deepEqual(await serving(), { image: `${REPOSITORY}:v1`, status: 200 }, 'release 1 still serves');
    const current = await new ReleaseHistory(aws.clients(), 'xkcd-production').current();
    assert.equal(current?.number, 1);
  };

  /** A release whose web tasks never turn healthy: the traffic step fails, naming why, with the task's output. */
  const assertTrafficFails = async (tag: string, ...output: RegExp[]) => {
    const result = await deployTag(tag);
    assert.equal(result.status, 'failed');
    assert.equal(result.failedStep, 'traffic', result.message);
    assert.match(result.message!, /deployment failed/);
    const logs = (result.logs ?? []).join('\n');
    for (const expected of output) assert.match(logs, expected);
    await assertPreviousServes();
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'touchdown-broken-'));
    const images: Record<string, { dir: string; python: string; env: Record<string, string> }> = {};
    for (const [name, breakIt] of Object.entries(faults)) {
      const dir = join(work, name);
      await cp(xkcd, dir, { recursive: true, filter: (src) => !src.includes('__pycache__') });
      await breakIt(dir);
      images[`${REPOSITORY}:broken-${name}`] = { dir, python: venvPython, env: { WEB_CONCURRENCY: '1' } };
    }
    images[`${REPOSITORY}:v1`] = { dir: xkcd, python: venvPython, env: { WEB_CONCURRENCY: '1' } };
    aws = await startLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0' }, apps: { images, timeScale: 0.02 } });
    boto = new Boto(aws.endpoint, aws.region);
    const first = await deployTag('v1');
    assert.equal(first.status, 'deployed', `${first.message}\n${(first.logs ?? []).join('\n')}`);
  });

  after(async () => {
    boto?.close();
    await aws?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('release 1 serves through the load balancer: the view count rises on reload', async () => {
    // The HTTP listener redirects to HTTPS, as the ALB's redirect action does.
    const http = await get(`${await listenerUrl(aws, 'xkcd', 80)}/?comic=1`);
    assert.equal(http.status, 301);
    assert.match(String(http.headers.location), /^https:\/\/[^/]+\/\?comic=1$/);

    const https = await listenerUrl(aws, 'xkcd', 443);
    const jar: string[] = [];
    const views = async () => {
      const page = await get(`${https}/?comic=1`, jar);
      assert.equal(page.status, 200, page.body.slice(0, 500));
      return Number(/<strong id="views">(\d+)<\/strong>/.exec(page.body)?.[1]);
    };
    const first = await views();
    assert.equal(await views(), first + 1, 'the count is kept in PostgreSQL');
    const seen = await get(`${https}/?comic=1`, jar);
    assert.match(seen.body, /<span id="seen">3<\/span>/, 'the session is kept in Redis');
    assert.equal((await get(`${https}/healthz`)).body, 'ok');

    // collectstatic wrote to the static bucket on the local AWS; migrate's output is in its awslogs stream.
    const { Buckets } = await boto.call('s3', 'ListBuckets', {});
    const bucket = Buckets.find((b: { Name: string }) => b.Name.startsWith('xkcd-production-static')).Name;
    const { KeyCount } = await boto.call('s3', 'ListObjectsV2', { Bucket: bucket, Prefix: 'static/' });
    assert.ok(KeyCount > 0, 'collectstatic uploaded the static files');
    const { logGroups } = await boto.call('logs', 'DescribeLogGroups', {});
    const group = logGroups.find((g: { logGroupName: string }) =>
      g.logGroupName.endsWith('release'),
    ).logGroupName;
    const { logStreams } = await boto.call('logs', 'DescribeLogStreams', { logGroupName: group });
    const lines = await Promise.all(
      logStreams.map((s: { logStreamName: string }) =>
        boto.call('logs', 'GetLogEvents', {
          logGroupName: group,
          logStreamName: s.logStreamName,
        }),
      ),
    );
    const output = lines.flatMap((l) => l.events.map((e: { message: string }) => e.message)).join('\n');
    assert.match(output, /Applying xkcd_app\.\d+_\w+\.\.\. OK/);
    assert.match(output, /static files? copied/);

    // The target is the task's own address, found healthy by the load balancer's checks (read with boto3).
    const { TargetGroups } = await boto.call('elbv2', 'DescribeTargetGroups', {});
    const web = TargetGroups.find((g: { TargetGroupName: string }) => g.TargetGroupName.includes('web'));
    const { TargetHealthDescriptions } = await boto.call('elbv2', 'DescribeTargetHealth', {
      TargetGroupArn: web.TargetGroupArn,
    });
    assert.deepEqual(
      TargetHealthDescriptions.map((d: { TargetHealth: { State: string } }) => d.TargetHealth.State),
      ['healthy'],
    );
  });

  it('a failing migration stops the release at migrate, with the traceback', async () => {
    const result = await deployTag('broken-migrate');
    assert.equal(result.status, 'failed');
    assert.equal(result.failedStep, 'migrate');
    assert.match(
      result.message!,
      /^migrate --noinput exited with code 1; the previous release still serves$/,
    );
    assert.match((result.logs ?? []).join('\n'), /RuntimeError: comic 404 was not found/);
    await assertPreviousServes();
  });

  it('a wrong WSGI path fails the traffic step: the circuit breaker rolls back', async () => {
    await assertTrafficFails('broken-wsgi', /No module named 'xkcd_app\.wsgy'/);
  });

  it('a health check path that answers 404 fails the traffic step', async () => {
    await assertTrafficFails(
      'broken-health',
      /"GET \/healthz HTTP\/1\.1" 404/,
      /stopped: Task failed ELB health checks/,
    );
  });

  it("ALLOWED_HOSTS that refuse the task's address fail the traffic step", async () => {
    // Django refuses the Host with 400 (and logs why only with DEBUG on).
    await assertTrafficFails(
      'broken-hosts',
      /"GET \/healthz HTTP\/1\.1" 400/,
      /stopped: Task failed ELB health checks/,
    );
  });
});
