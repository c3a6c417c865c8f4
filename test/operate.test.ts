// Operating examples/xkcd on the local AWS through the command line, as a user would:
// deploy, scale, deploy again, rollback, secrets, status, manage, destroy.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { copyOfExample, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
// A private copy: Touchdown writes beside the configuration (an image is given, so no source is needed).
const cwd = await copyOfExample('xkcd', ['touchdown.yml']);
const IMAGE = (tag: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:${tag}`;
const cli = (...args: string[]) => runCli(args, { cwd, aws: t.aws });

async function web() {
  const { services } = await t.boto.call('ecs', 'DescribeServices', {
    cluster: 'xkcd-production-main',
    services: ['xkcd-production-web'],
  });
  const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
    taskDefinition: services[0].taskDefinition,
  });
  return {
    desired: services[0].desiredCount,
    running: services[0].runningCount,
    revision: services[0].taskDefinition,
    image: taskDefinition.containerDefinitions[0].image,
  };
}

describe('operating the xkcd app from the command line', () => {
  it('deploys, scales without a new revision, rolls back, keeps secrets, reports status, runs manage, destroys', async () => {
    const first = await cli('deploy', '--image', IMAGE('v1'), '--yes');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Release 1 of xkcd-production is live/);
    assert.match(first.stdout, /url = "https:\/\/xkcd\.example\.com"/);

    const before = await web();
    const scaled = await cli('scale', 'web=3', '--yes');
    assert.equal(scaled.code, 0, scaled.stderr);
    const after = await web();
    assert.equal(after.desired, 3);
    assert.equal(after.revision, before.revision, 'scaling keeps the running task definition revision');

    assert.equal((await cli('deploy', '--image', IMAGE('v2'), '--yes')).code, 0);
    assert.equal((await web()).image, IMAGE('v2'));
    const back = await cli('rollback', '--yes');
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /Release 3 is live: release 1's image/);
    assert.equal((await web()).image, IMAGE('v1'));

    assert.equal((await cli('secrets', 'set', 'STRIPE_KEY', 'sk_test_123')).code, 0);
    const stored = await t.boto.call('ssm', 'GetParameter', {
      Name: '/xkcd/production/STRIPE_KEY',
      WithDecryption: true,
    });
    assert.equal(stored.Parameter.Type, 'SecureString');
    assert.equal(stored.Parameter.Value, 'sk_test_123');
    const shown = await cli('secrets', 'get', 'STRIPE_KEY');
    assert.doesNotMatch(shown.stdout, /sk_test_123/, 'values stay hidden unless asked');
    assert.match((await cli('secrets', 'get', 'STRIPE_KEY', '--reveal')).stdout, /^sk_test_123$/m);
    assert.match((await cli('secrets', 'list')).stdout, /STRIPE_KEY/);

    const status = JSON.parse((await cli('status', '--json')).stdout);
    assert.equal(status.release.number, 3);
    assert.equal(status.processes.web.desired, 3);
    // What ECS reports, as the plan read it: the counts and the revision serving.
    const live = await web();
    assert.equal(status.processes.web.running, live.running);
    assert.equal(status.processes.web.revision, live.revision.split('/').at(-1));
    assert.match(status.processes.web.revision, /^xkcd-production-web:\d+$/);
    assert.equal(status.pendingChanges, 0);

    const check = await cli('manage', 'check', '--deploy');
    assert.equal(check.code, 0, check.stderr);

    const refused = await cli('destroy', '--yes');
    assert.equal(refused.code, 1, 'the database is kept without --force');
    assert.match(refused.stdout, /db-instance|RDS instance "db"/);
    const destroyed = await cli('destroy', '--yes', '--force');
    assert.equal(destroyed.code, 0, destroyed.stdout + destroyed.stderr);
    const { DBSnapshots } = await t.boto.call('rds', 'DescribeDBSnapshots');
    assert.equal(DBSnapshots.length, 1, 'a final snapshot of the database');
  });
});

describe('secrets never leave Parameter Store', () => {
  const t2 = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
  const run = (...args: string[]) => runCli(args, { cwd, aws: t2.aws });

  it('keeps the generated database password and secret key out of plans, JSON, logs, task definitions and files', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const outputs = [
      await run('plan', '--json'),
      await run('deploy', '--image', IMAGE('v1'), '--yes'),
      await run('plan', '--json'),
      await run('deploy', '--image', IMAGE('v1'), '--yes', '--json'),
      await run('status', '--json'),
      await run('outputs', '--json', '--reveal'),
    ].flatMap((r) => [r.stdout, r.stderr]);
    const param = async (name: string) =>
      (await t2.boto.call('ssm', 'GetParameter', { Name: `/xkcd/production/${name}`, WithDecryption: true }))
        .Parameter.Value as string;
    const secrets = [await param('DATABASE_PASSWORD'), await param('DJANGO_SECRET_KEY')];
    assert.ok(
      secrets.every((s) => s.length >= 32),
      'both were generated',
    );

    const { taskDefinitionArns } = await t2.boto.call('ecs', 'ListTaskDefinitions', {});
    for (const arn of taskDefinitionArns) {
      outputs.push(
        JSON.stringify(await t2.boto.call('ecs', 'DescribeTaskDefinition', { taskDefinition: arn })),
      );
    }
    const history = await t2.boto.call('ssm', 'GetParametersByPath', {
      Path: '/touchdown/xkcd-production/releases/',
    });
    outputs.push(JSON.stringify(history));
    // Everything Touchdown wrote to disk beside the project (locks) and in the demo's state folder.
    for (const dir of [join(cwd, '.touchdown'), join(repoRoot, '.touchdown')]) {
      for (const f of await readdir(dir).catch(() => [] as string[])) {
        outputs.push(await readFile(join(dir, f), 'utf8').catch(() => ''));
      }
    }
    for (const secret of secrets) {
      const leaks = outputs.filter((o) => o.includes(secret)).length;
      assert.equal(leaks, 0, 'a generated secret appeared in output, a task definition or a file');
    }
  });
});
