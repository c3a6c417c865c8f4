// Ctrl-C during the release phase of an xkcd deploy: the one-off task it started is stopped (a migration left
// running would race the next deploy's), the previous release still serves, and the next deploy completes.
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { collect, runCli, startCli } from '../support/cli.js';
import {
  assertServes,
  declared,
  deployArgs as deploy,
  found,
  releases,
  services,
  useAppAws,
  xkcdApp,
} from './app.js';

const t = useAppAws();

/** The one-off tasks Touchdown started in the cluster that are still running. */
async function runningOneOffs(cluster: string): Promise<string[]> {
  const { taskArns } = await t.boto.call('ecs', 'ListTasks', { cluster, desiredStatus: 'RUNNING' });
  if (taskArns.length === 0) return [];
  const { tasks } = await t.boto.call('ecs', 'DescribeTasks', { cluster, tasks: taskArns });
  return tasks
    .filter((task: { startedBy?: string }) => task.startedBy === 'touchdown')
    .map((task: { taskArn: string }) => task.taskArn);
}

describe('Ctrl-C during the release phase', () => {
  it('stops the migration it started, keeps the previous release serving, and the next deploy completes', {
    timeout: 240_000,
  }, async () => {
    const a = await xkcdApp('ctrlc');
    const cluster = `${a.stack}-main`;
    const [v1, v2] = [a.image('v1'), a.image('v2')];
    const first = await runCli(deploy(v1), { cwd: a.cwd, aws: t.aws });
    assert.equal(first.code, 0, first.stderr);
    const before = await services(t.boto, a.stack);

    // The migration keeps running until the deploy is interrupted.
    await t.aws.setTransition('ecs::task', { progression: 'manual', times: 1_000_000 });
    const child = startCli(deploy(v2), { cwd: a.cwd, aws: t.aws });
    const done = collect(child);
    await new Promise<void>((resolve) =>
      createInterface({ input: child.stderr! }).on('line', (l) => l.startsWith('==> migrate') && resolve()),
    );
    let migration: string | undefined;
    for (let i = 0; i < 200 && !migration; i++) {
      [migration] = await runningOneOffs(cluster);
      if (!migration) await delay(100);
    }
    assert.ok(migration, 'the migration task started');
    child.kill('SIGINT');
    const stopped = await done;

    assert.equal(stopped.code, 130, stopped.stdout + stopped.stderr);
    assert.match(stopped.stderr, /stopping: no new work starts/);
    assert.match(stopped.stdout, /Deploy stopped at migrate: .*stopped task .* before it ended/);
    assert.match(
      stopped.stdout,
      /The previous release still serves\. Run touchdown deploy again to release\./,
    );
    assert.doesNotMatch(stopped.stderr, /==> collectstatic|==> traffic/, 'nothing after the migration ran');
    const { tasks } = await t.boto.call('ecs', 'DescribeTasks', { cluster, tasks: [migration] });
    assert.equal(tasks[0].lastStatus, 'STOPPED', 'the migration was stopped, not left running');
    assert.deepEqual(await services(t.boto, a.stack), before, 'every service runs what it ran before');
    assert.deepEqual(
      (await releases(t.boto, a.stack)).map((r) => [r.number, r.status, r.image]),
      [
        [1, 'live', v1],
        [2, 'cancelled', v2],
      ],
    );

    await t.aws.setTransition('ecs::task', { progression: 'immediate' });
    const again = await runCli(deploy(v2), { cwd: a.cwd, aws: t.aws });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /Release 3 of ctrlc-production is live/);
    await assertServes(t.boto, a.stack, v2);
    assert.deepEqual(await found(t.boto, a), await declared(a, v2));
  });
});
