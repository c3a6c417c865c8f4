// release.commands on AWS: the project's own management commands run in the release's one-off task of the
// release task definition after migrate and collectstatic, and a failing one stops the release as a failing
// migrate does. ECS on the emulator runs no containers: in the release runner's task, a command containing
// "broken" is staged to exit with 1 (scripts/local_aws.py writes the runner's lines as it would).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseManifest } from '../src/config/load-manifest.js';
import type { EngineEvent } from '../src/core/events.js';
import { deploy } from '../src/django/deploy.js';
import { ReleaseHistory } from '../src/django/releases.js';
import { type TestAws, useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const IMAGE = (tag: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:${tag}`;
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 };

async function deployWith(t: TestAws, image: string, commands: string[], events: EngineEvent[] = []) {
  const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
  const yaml = `${await readFile(path, 'utf8')}\nrelease:\n  commands: ${JSON.stringify(commands)}\n`;
  return deploy({
    loaded: parseManifest(yaml, path),
    aws: t.aws.clients(),
    events: (e) => events.push(e),
    signal: new AbortController().signal,
    image,
    timing,
  });
}

/** The commands of the one-off tasks Touchdown started, as boto3 reads them back from ECS. */
async function oneOffCommands(t: TestAws): Promise<string[][]> {
  const listed = await Promise.all(
    ['RUNNING', 'STOPPED'].map((desiredStatus) =>
      t.boto.call('ecs', 'ListTasks', { cluster: 'xkcd-production-main', desiredStatus }),
    ),
  );
  const { tasks } = await t.boto.call('ecs', 'DescribeTasks', {
    cluster: 'xkcd-production-main',
    tasks: listed.flatMap((l) => l.taskArns),
  });
  return tasks
    .filter((task: { startedBy: string }) => task.startedBy === 'touchdown')
    .map(
      (task: { overrides: { containerOverrides: { command: string[] }[] } }) =>
        task.overrides.containerOverrides[0]!.command,
    );
}

describe('release.commands on AWS', () => {
  const t = useLocalAws({
    env: {
      MOTO_ACM_VALIDATION_WAIT: '0',
      MOTO_ECS_SERVICE_RUNNING: '2',
      LOCAL_AWS_TASK_EXIT_CODES: '{"broken": 1}',
    },
  });

  it('runs them after migrate and collectstatic; a failing one stops the release and the previous one serves', async () => {
    const events: EngineEvent[] = [];
    const first = await deployWith(
      t,
      IMAGE('v1'),
      ['compilemessages', 'loaddata "initial data.json"'],
      events,
    );
    assert.equal(first.status, 'deployed', first.message);
    const steps = events
      .filter((e) => e.type === 'step' && e.state === 'done')
      .map((e) => (e as { step: string }).step);
    assert.deepEqual(steps, [
      'infrastructure',
      'release task',
      'migrate',
      'collectstatic',
      'compilemessages',
      'loaddata initial data.json',
      'traffic',
    ]);
    // One task start for the four: the release runner's commands, in order.
    const started = await oneOffCommands(t);
    assert.equal(started.length, 1);
    assert.deepEqual(JSON.parse(started[0]![3]!), [
      ['migrate', ['migrate', '--noinput']],
      ['collectstatic', ['collectstatic', '--noinput']],
      ['compilemessages', ['compilemessages']],
      ['loaddata initial data.json', ['loaddata', 'initial data.json']],
    ]);

    const { services } = await t.boto.call('ecs', 'DescribeServices', {
      cluster: 'xkcd-production-main',
      services: ['xkcd-production-web'],
    });
    const serving = services[0].taskDefinition;
    // The settings snippet is told the path the load balancer checks, so that it answers that check itself.
    const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
      taskDefinition: serving,
    });
    assert.deepEqual(
      taskDefinition.containerDefinitions[0].environment.filter(
        (e: { name: string }) => e.name === 'TOUCHDOWN_HEALTH_PATH',
      ),
      [{ name: 'TOUCHDOWN_HEALTH_PATH', value: '/healthz' }],
    );
    const failed = await deployWith(t, IMAGE('v2'), ['compilemessages', 'loaddata broken.json']);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failedStep, 'loaddata broken.json');
    // Named from the task's own output: the runner's line in CloudWatch says which command it stopped at.
    assert.equal(
      failed.logs?.at(-1),
      '[touchdown] release step 4 of 4 failed: loaddata broken.json exited with code 1',
    );
    assert.match(
      failed.message!,
      /^loaddata broken\.json exited with code 1; the previous release still serves$/,
    );
    const after = await t.boto.call('ecs', 'DescribeServices', {
      cluster: 'xkcd-production-main',
      services: ['xkcd-production-web'],
    });
    assert.equal(after.services[0].taskDefinition, serving, 'the web service still runs release 1');
    const releases = await new ReleaseHistory(t.aws.clients(), 'xkcd-production').list();
    assert.deepEqual(
      releases.map((r) => [r.number, r.status, r.failedStep ?? '']),
      [
        [1, 'live', ''],
        [2, 'failed', 'loaddata broken.json'],
      ],
    );
  });
});
