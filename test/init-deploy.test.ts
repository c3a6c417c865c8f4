// What `touchdown init` writes deploys without edits: both examples (their manifests removed) and a fresh
// `django-admin startproject`, each deployed to the local AWS as a new user would, then checked with boto3 and
// opened through the load balancer: the local AWS runs each project's image (its folder, after init) for real.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseManifest } from '../src/config/load-manifest.js';
import { get, listenerUrl } from './support/app-http.js';
import { runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { makeLayout } from './support/layouts.js';
import { repoRoot, venvPython } from './support/paths.js';

const run = promisify(execFile);
/** A copy of an example without its touchdown.yml, as a project that has never seen Touchdown. */
async function exampleWithoutManifest(name: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), `td-init-${name}-`)), name);
  await cp(join(repoRoot, 'examples', name), dir, {
    recursive: true,
    filter: (src) => !/(__pycache__|\.touchdown|media)$/.test(src),
  });
  await rm(join(dir, 'touchdown.yml'));
  return dir;
}

async function startproject(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'td-init-'));
  await run(join(repoRoot, '.venv', 'bin', 'django-admin'), ['startproject', 'mysite'], { cwd: dir });
  return join(dir, 'mysite');
}

// The projects exist before the local AWS starts: each stack's image is its folder.
const projects = {
  xkcd: await exampleWithoutManifest('xkcd'),
  blog: await exampleWithoutManifest('blog'),
  mysite: await startproject(),
  // Its settings require SECRET_KEY, with no default (test/support/layouts.ts).
  notes: (await makeLayout('uvPyproject')).root,
};
const image = (dir: string) => ({ dir, python: venvPython, env: { WEB_CONCURRENCY: '1' } });
const t = useLocalAws({
  env: { MOTO_ACM_VALIDATION_WAIT: '0' },
  apps: {
    images: {
      '*/xkcd-production-app:*': image(projects.xkcd),
      '*/blog-production-app:*': image(projects.blog),
      '*/mysite-production-app:*': image(projects.mysite),
      '*/notes-production-app:*': image(projects.notes),
    },
  },
});

/** The page at `path` through the stack's load balancer (HTTPS when the stack has a domain). */
async function open(app: string, path: string): Promise<number> {
  const listeners = (await t.aws.loadBalancers()).find((lb) => lb.dnsName.includes(app))!.listeners;
  return (await get(`${await listenerUrl(t.aws, app, listeners['443'] ? 443 : 80)}${path}`)).status;
}

/** init, then deploy the image its stack's repository would hold; the release must go live. */
async function initAndDeploy(cwd: string): Promise<{ app: string; stack: string }> {
  const init = await runCli(['init', '--yes'], { cwd, aws: t.aws });
  assert.equal(init.code, 0, init.stderr);
  const loaded = parseManifest(await readFile(join(cwd, 'touchdown.yml'), 'utf8'), 'touchdown.yml');
  const image = `123456789012.dkr.ecr.us-east-1.amazonaws.com/${loaded.stackName}-app:v1`;
  const deployed = await runCli(['deploy', '--image', image, '--yes'], { cwd, aws: t.aws });
  assert.equal(deployed.code, 0, `${deployed.stdout}\n${deployed.stderr}`);
  assert.match(deployed.stdout, new RegExp(`Release 1 of ${loaded.stackName} is live`));
  return { app: loaded.manifest.app, stack: loaded.stackName };
}

async function serviceNames(cluster: string): Promise<string[]> {
  const { serviceArns } = await t.boto.call('ecs', 'ListServices', { cluster });
  return (serviceArns as string[]).map((a) => a.split('/').at(-1)!).sort();
}

describe('touchdown init, then deploy without edits', () => {
  it('the xkcd example: web service, database and cache', async () => {
    const { stack } = await initAndDeploy(projects.xkcd);
    assert.equal(await open('xkcd', '/?comic=1'), 200);
    assert.equal(stack, 'xkcd-production');
    assert.deepEqual(await serviceNames(`${stack}-main`), [`${stack}-web`]);
    const { DBInstances } = await t.boto.call('rds', 'DescribeDBInstances');
    assert.equal(DBInstances.length, 1);
    const { ReplicationGroups } = await t.boto.call('elasticache', 'DescribeReplicationGroups');
    assert.equal(ReplicationGroups.length, 1, 'django-redis was found: a cache is part of the stack');
  });

  it('the blog example: its Celery worker found and deployed with an SQS queue', async () => {
    const { stack } = await initAndDeploy(projects.blog);
    assert.equal(await open('blog', '/'), 200);
    assert.deepEqual(await serviceNames(`${stack}-main`), [`${stack}-web`, `${stack}-worker-default`]);
    const { QueueUrls } = await t.boto.call('sqs', 'ListQueues');
    assert.equal(QueueUrls.length, 2, 'the Celery queue and its dead-letter queue');
  });

  // startproject has no page at `/` (404 with DEBUG off, the project's own): init's health check is a path that
  // answers 200, the admin's login page, so the tasks pass the load balancer's checks and the release goes live.
  it('a fresh startproject', async () => {
    const { stack } = await initAndDeploy(projects.mysite);
    const manifest = await readFile(join(projects.mysite, 'touchdown.yml'), 'utf8');
    assert.match(manifest, /^ {2}healthCheck: \/admin\/login\/$/m);
    assert.equal(await open('mysite', '/admin/login/'), 200, "the page init's health check asks for");
    assert.equal(await open('mysite', '/'), 404, 'startproject routes nothing at /');
    assert.equal(stack, 'mysite-production');
    assert.deepEqual(await serviceNames(`${stack}-main`), [`${stack}-web`]);
    const group = (await t.boto.call('elbv2', 'DescribeTargetGroups')).TargetGroups.find(
      (g: { TargetGroupName: string }) => g.TargetGroupName.startsWith('mysite'),
    );
    assert.equal(group.HealthCheckPath, '/admin/login/');
    const { TargetHealthDescriptions } = await t.boto.call('elbv2', 'DescribeTargetHealth', {
      TargetGroupArn: group.TargetGroupArn,
    });
    // init's two web tasks, both passing the check on that path.
    assert.deepEqual(
      TargetHealthDescriptions.map((d: { TargetHealth: { State: string } }) => d.TargetHealth.State),
      ['healthy', 'healthy'],
    );
  });

  it("settings that require their own name for the secret key get Touchdown's generated key under it", async () => {
    const { stack } = await initAndDeploy(projects.notes);
    // The page renders only if the settings loaded: SECRET_KEY = os.environ["SECRET_KEY"] found its value.
    assert.equal(await open('notes', '/'), 200);
    const { services } = await t.boto.call('ecs', 'DescribeServices', {
      cluster: `${stack}-main`,
      services: [`${stack}-web`],
    });
    const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
      taskDefinition: services[0].taskDefinition,
    });
    const secrets = Object.fromEntries(
      taskDefinition.containerDefinitions[0].secrets.map((s: { name: string; valueFrom: string }) => [
        s.name,
        s.valueFrom,
      ]),
    );
    assert.match(secrets.DJANGO_SECRET_KEY, /^arn:aws:ssm:.*:parameter\/.*DJANGO_SECRET_KEY$/);
    assert.equal(secrets.SECRET_KEY, secrets.DJANGO_SECRET_KEY, 'one generated parameter under both names');
  });
});
