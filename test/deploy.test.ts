// `touchdown deploy` of examples/xkcd against the local AWS, with an image built elsewhere (no container
// builder here). The first deploy runs the app (the image is the example's folder): migrate, collectstatic and
// gunicorn behind the load balancer. The others stage the tasks' exit codes, which costs less.
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { parseManifest } from '../src/config/load-manifest.js';
import type { EngineEvent } from '../src/core/events.js';
import { deploy } from '../src/django/deploy.js';
import { ReleaseHistory } from '../src/django/releases.js';
import { get, listenerUrl } from './support/app-http.js';
import type { TestAws } from './support/harness.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot, venvPython } from './support/paths.js';

const IMAGE = (tag: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:${tag}`;
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 };

async function example(name = 'xkcd') {
  const path = join(repoRoot, 'examples', name, 'touchdown.yml');
  return parseManifest(await readFile(path, 'utf8'), path);
}

function deployWith(t: TestAws, image: string | undefined, events: EngineEvent[] = [], name = 'xkcd') {
  return example(name).then((loaded) => {
    // One web task: enough to prove the app serves, and the least to run.
    loaded.manifest.web.count = 1;
    if (loaded.manifest.web.autoscaling)
      loaded.manifest.web.autoscaling = { ...loaded.manifest.web.autoscaling, min: 1 };
    return deploy({
      loaded,
      aws: t.aws.clients(),
      events: (e) => events.push(e),
      signal: new AbortController().signal,
      image,
      timing,
    });
  });
}

async function webRevision(t: TestAws): Promise<{ taskDefinition: string; image: string }> {
  const { services } = await t.boto.call('ecs', 'DescribeServices', {
    cluster: 'xkcd-production-main',
    services: ['xkcd-production-web'],
  });
  const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
    taskDefinition: services[0].taskDefinition,
  });
  return { taskDefinition: services[0].taskDefinition, image: taskDefinition.containerDefinitions[0].image };
}

describe('touchdown deploy', () => {
  const t = useLocalAws({
    env: { MOTO_ACM_VALIDATION_WAIT: '0' },
    apps: {
      images: {
        '*/xkcd-production-app:*': {
          dir: join(repoRoot, 'examples', 'xkcd'),
          python: venvPython,
          env: { WEB_CONCURRENCY: '1' },
        },
      },
    },
  });

  it('deploys from nothing: infrastructure, release phase, traffic, record; then again does nothing', async () => {
    const events: EngineEvent[] = [];
    const first = await deployWith(t, IMAGE('v1'), events);
    assert.equal(first.status, 'deployed', first.message);
    const steps = events
      .filter((e) => e.type === 'step' && e.state === 'done')
      .map((e) => (e as { step: string }).step);
    assert.deepEqual(steps, ['infrastructure', 'release task', 'migrate', 'collectstatic', 'traffic']);
    assert.equal((await webRevision(t)).image, IMAGE('v1'));

    // The release phase ran as one one-off task of the release task definition, before traffic moved.
    const listed = await Promise.all(
      ['RUNNING', 'STOPPED'].map((desiredStatus) =>
        t.boto.call('ecs', 'ListTasks', { cluster: 'xkcd-production-main', desiredStatus }),
      ),
    );
    const taskArns = listed.flatMap((l) => l.taskArns);
    const { tasks } = await t.boto.call('ecs', 'DescribeTasks', {
      cluster: 'xkcd-production-main',
      tasks: taskArns,
    });
    const commands = tasks
      .filter((task: { startedBy: string }) => task.startedBy === 'touchdown')
      .map(
        (task: { overrides: { containerOverrides: { command: string[] }[] } }) =>
          task.overrides.containerOverrides[0]!.command,
      );
    assert.equal(commands.length, 1, 'one task start for the whole release phase');
    assert.deepEqual(commands[0]!.slice(0, 2), ['python', '-c']);
    assert.deepEqual(JSON.parse(commands[0]![3]!), [
      ['migrate', ['migrate', '--noinput']],
      ['collectstatic', ['collectstatic', '--noinput']],
    ]);

    const releases = await new ReleaseHistory(t.aws.clients(), 'xkcd-production').list();
    assert.deepEqual(
      releases.map((r) => [r.number, r.status, r.image]),
      [[1, 'live', IMAGE('v1')]],
    );
    assert.match(releases[0]!.who, /^arn:aws:(iam|sts)::123456789012:/);

    // The app answers through the load balancer's HTTPS listener, its view count kept in PostgreSQL.
    const https = await listenerUrl(t.aws, 'xkcd', 443);
    const views = async () => {
      const page = await get(`${https}/?comic=1`);
      assert.equal(page.status, 200, page.body.slice(0, 500));
      return Number(/<strong id="views">(\d+)<\/strong>/.exec(page.body)?.[1]);
    };
    const seen = await views();
    assert.equal(await views(), seen + 1);

    const again = await deployWith(t, IMAGE('v1'));
    assert.equal(again.status, 'unchanged');
    assert.equal(again.message, 'nothing to deploy: the image and the infrastructure are unchanged');
  });
});

// The xkcd release staged and the blog on one local AWS: a server of its own costs seconds of CPU to start.
describe('touchdown deploy, with the tasks staged', () => {
  // A task whose image is tagged "broken" stops with exit code 1, as a failing migration would. The blog, with no
  // domain and no image tagged "broken", is the same on this server as on a default one but for ECS: one web task
  // and one worker task each report running.
  const t = useLocalAws({
    env: {
      MOTO_ACM_VALIDATION_WAIT: '0',
      MOTO_ECS_SERVICE_RUNNING: '1',
      LOCAL_AWS_TASK_EXIT_CODES: '{"broken": 1}',
    },
  });
  // After the harness's reset: a release's one-off task stops at its first look, as in test/reliability/app.ts.
  beforeEach(() => t.aws.setTransition('ecs::task', { progression: 'immediate' }));

  it('keeps the previous release serving when migrate fails, and says which step and why', async () => {
    await deployWith(t, IMAGE('v1'));
    const before = await webRevision(t);
    const failed = await deployWith(t, IMAGE('broken'));
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failedStep, 'migrate');
    assert.match(
      failed.message!,
      /^migrate --noinput exited with code 1; the previous release still serves$/,
    );
    assert.deepEqual(await webRevision(t), before, 'the web service still runs the previous task definition');
    const releases = await new ReleaseHistory(t.aws.clients(), 'xkcd-production').list();
    assert.deepEqual(
      releases.map((r) => [r.number, r.status, r.failedStep ?? '']),
      [
        [1, 'live', ''],
        [2, 'failed', 'migrate'],
      ],
    );
    // The next good release goes through.
    const fixed = await deployWith(t, IMAGE('v2'));
    assert.equal(fixed.status, 'deployed');
    assert.equal((await webRevision(t)).image, IMAGE('v2'));
  });

  it('deploys the blog with its Celery worker, its SQS queue and the scheduled job', async () => {
    const loaded = await example('blog');
    loaded.manifest.web.count = 1;
    const result = await deploy({
      loaded,
      aws: t.aws.clients(),
      events: () => {},
      signal: new AbortController().signal,
      image: 'blog:v1',
      timing,
    });
    assert.equal(result.status, 'deployed', result.message);
    const { services } = await t.boto.call('ecs', 'DescribeServices', {
      cluster: 'blog-production-main',
      services: ['blog-production-web', 'blog-production-worker-default'],
    });
    assert.equal(services.length, 2);
    const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
      taskDefinition: services[1].taskDefinition,
    });
    const worker = taskDefinition.containerDefinitions[0];
    assert.deepEqual(worker.command, [
      'celery',
      '-A',
      'blog',
      'worker',
      '--loglevel=info',
      '--concurrency=2',
    ]);
    const env = Object.fromEntries(
      worker.environment.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    assert.equal(env.CELERY_BROKER_URL, 'sqs://');
    assert.match(env.CELERY_BROKER_TRANSPORT_OPTIONS, /"predefined_queues": \{"celery": \{"url": "http/);
    const { QueueUrls } = await t.boto.call('sqs', 'ListQueues', { QueueNamePrefix: 'blog-production' });
    assert.equal(QueueUrls.length, 2, 'the Celery queue and its dead-letter queue');
    const schedule = await t.boto.call('scheduler', 'GetSchedule', {
      Name: 'blog-production.publish-scheduled',
    });
    assert.equal(schedule.ScheduleExpression, 'cron(0/15 * * * ? *)');
    assert.deepEqual(JSON.parse(schedule.Target.Input).overrides.containerOverrides[0].command, [
      'python',
      'manage.py',
      'publish_scheduled',
    ]);
  });

  it("says clearly when no image builder is here, after the blog's infrastructure, with nothing released", async () => {
    // A PATH with no docker, podman or buildah on it, whatever this machine has installed.
    const path = process.env.PATH;
    process.env.PATH = await mkdtemp(join(tmpdir(), 'no-builders-'));
    try {
      await assert.rejects(
        deployWith(t, undefined, [], 'blog'),
        /no container builder on this machine \(looked for docker, podman and buildah\)\. Install one of them, or build the image elsewhere \(in CI, say\) and pass --image <uri>/,
      );
    } finally {
      process.env.PATH = path;
    }
    assert.deepEqual(await new ReleaseHistory(t.aws.clients(), 'blog-production').list(), []);
  });

  it('refuses to deploy the blog while a declared secret is not set, before changing anything', async () => {
    const loaded = await example('blog');
    loaded.manifest.secrets = ['STRIPE_KEY'];
    const aws = t.aws.clients();
    const result = await deploy({
      loaded,
      aws,
      events: () => {},
      signal: new AbortController().signal,
      image: 'blog:v1',
      timing,
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.failedStep, 'secrets');
    assert.equal(
      result.message,
      'not set yet: STRIPE_KEY. Nothing was changed; run touchdown secrets set STRIPE_KEY, then deploy',
    );
    const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['blog-production'] }],
    });
    assert.equal(Vpcs.length, 0, 'nothing was created');
  });
});
