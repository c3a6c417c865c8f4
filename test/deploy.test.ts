// `touchdown deploy` of examples/xkcd against the local AWS, with an image built elsewhere (no container
// builder here). ECS on the emulator runs no containers; the tasks' exit codes are staged.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseManifest } from '../src/config/load-manifest.js';
import type { EngineEvent } from '../src/core/events.js';
import { deploy } from '../src/django/deploy.js';
import { ReleaseHistory } from '../src/django/releases.js';
import type { TestAws } from './support/harness.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const IMAGE = (tag: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:${tag}`;
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 };

async function xkcd() {
  const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
  return parseManifest(await readFile(path, 'utf8'), path);
}

function deployWith(t: TestAws, image: string, events: EngineEvent[] = []) {
  return xkcd().then((loaded) =>
    deploy({
      loaded,
      aws: t.aws.clients(),
      events: (e) => events.push(e),
      signal: new AbortController().signal,
      image,
      timing,
    }),
  );
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
  // A task whose image is tagged "broken" stops with exit code 1, as a failing migration would.
  const t = useLocalAws({
    env: {
      MOTO_ACM_VALIDATION_WAIT: '0',
      MOTO_ECS_SERVICE_RUNNING: '2',
      LOCAL_AWS_TASK_EXIT_CODES: '{"broken": 1}',
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

    // The release phase ran as one-off tasks of the release task definition, before traffic moved.
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
      .map((task: { overrides: { containerOverrides: { command: string[] }[] } }) =>
        task.overrides.containerOverrides[0]!.command.join(' '),
      )
      .sort();
    assert.deepEqual(commands, [
      'python manage.py collectstatic --noinput',
      'python manage.py migrate --noinput',
    ]);

    const releases = await new ReleaseHistory(t.aws.clients(), 'xkcd-production').list();
    assert.deepEqual(
      releases.map((r) => [r.number, r.status, r.image]),
      [[1, 'live', IMAGE('v1')]],
    );
    assert.match(releases[0]!.who, /^arn:aws:(iam|sts)::123456789012:/);

    const again = await deployWith(t, IMAGE('v1'));
    assert.equal(again.status, 'unchanged');
    assert.equal(again.message, 'nothing to deploy: the image and the infrastructure are unchanged');
  });

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
});
