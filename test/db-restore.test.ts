// `touchdown db snapshot | snapshots | restore | remove-old` on examples/xkcd deployed to a local AWS that runs
// the app (its tasks are local processes on this machine's PostgreSQL). What each command made is read with
// boto3: the snapshot and its tag, the restored instance's network, class and encryption, the task definition's
// DATABASE_URL, the old instance kept; a later plan changes nothing; bad inputs change nothing.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { copyOfExample, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot, venvPython } from './support/paths.js';

// The xkcd image is the example's folder run with the project's virtualenv, one gunicorn worker a task.
const xkcdImage = {
  dir: join(repoRoot, 'examples', 'xkcd'),
  python: venvPython,
  env: { WEB_CONCURRENCY: '1' },
};
const t = useLocalAws({
  env: { MOTO_ACM_VALIDATION_WAIT: '0' },
  apps: { images: { '*/xkcd-production-app:*': xkcdImage } },
});
const cwd = await copyOfExample('xkcd', ['touchdown.yml']);
// One web task, as test/deploy.test.ts runs it: enough to prove the app moves to each database, and every release
// (the deploy, each restore) starts half the gunicorn processes.
const manifest = join(cwd, 'touchdown.yml');
const oneTask = (await readFile(manifest, 'utf8'))
  .replace(/^ {2}count: 2$/m, '  count: 1')
  .replace('autoscaling: { min: 2,', 'autoscaling: { min: 1,');
assert.match(
  oneTask,
  /count: 1\n(.*\n)*.*autoscaling: \{ min: 1,/,
  'the example still has the shape this copy edits',
);
await writeFile(manifest, oneTask);
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:v1';
const cli = (...args: string[]) => runCli(args, { cwd, aws: t.aws });
const STACK = 'xkcd-production';

type Tagged = { TagList?: { Key: string; Value: string }[] };
const tags = (x: Tagged) => Object.fromEntries((x.TagList ?? []).map((t) => [t.Key, t.Value]));

// biome-ignore lint/suspicious/noExplicitAny: boto3's JSON, read field by field below
async function instances(): Promise<Record<string, any>[]> {
  return (await t.boto.call('rds', 'DescribeDBInstances', {})).DBInstances;
}

async function webDatabaseUrl(): Promise<string> {
  const { services } = await t.boto.call('ecs', 'DescribeServices', {
    cluster: `${STACK}-main`,
    services: [`${STACK}-web`],
  });
  const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
    taskDefinition: services[0].taskDefinition,
  });
  const env = taskDefinition.containerDefinitions[0].environment as { name: string; value: string }[];
  return env.find((e) => e.name === 'DATABASE_URL')!.value;
}

async function noChange(what: string) {
  const plan = await cli('plan', '--detailed-exitcode');
  assert.equal(plan.code, 0, `${what}: plan wants changes\n${plan.stdout}\n${plan.stderr}`);
}

describe('touchdown db on the deployed xkcd app', () => {
  it('snapshots, restores a point in time and a snapshot into new instances the app moves to, keeps the old until remove-old', {
    timeout: 900_000,
  }, async () => {
    const deployed = await cli('deploy', '--image', IMAGE, '--yes');
    assert.equal(deployed.code, 0, deployed.stderr);
    // bench, on the deployed stack: its own hosts only (the load balancer's name resolves on AWS alone).
    const foreign = await cli('bench', 'https://example.com/', '--duration', '1s');
    assert.equal(foreign.code, 1);
    assert.match(
      foreign.stderr,
      /example\.com is not xkcd-production's: .*xkcd\.example\.com.*elb.*nothing was sent/,
    );

    const [original] = await instances();
    const originalId = original!.DBInstanceIdentifier as string;

    // snapshot: a manual one, tagged with the stack, available when the command ends.
    const snap = await cli('db', 'snapshot', '--name', 'before-restore', '--json');
    assert.equal(snap.code, 0, snap.stderr);
    assert.equal(JSON.parse(snap.stdout).snapshot, 'before-restore');
    const [taken] = (
      await t.boto.call('rds', 'DescribeDBSnapshots', { DBSnapshotIdentifier: 'before-restore' })
    ).DBSnapshots;
    assert.equal(taken.Status, 'available');
    assert.equal(taken.SnapshotType, 'manual');
    assert.equal(taken.DBInstanceIdentifier, originalId);
    assert.equal(tags(taken)['touchdown:snapshot-of-stack'], STACK);
    assert.equal(tags(taken)['touchdown:stack'], undefined, 'a snapshot is no resource of the stack');

    // snapshots: manual and automated, and the restorable window.
    const listed = await cli('db', 'snapshots', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    const list = JSON.parse(listed.stdout);
    assert.deepEqual(
      list.snapshots.map((s: { type: string }) => s.type).sort(),
      ['automated', 'manual'],
      listed.stdout,
    );
    const earliest = new Date(list.restorableWindow.earliest);
    const latest = new Date(list.restorableWindow.latest);
    assert.ok(earliest <= latest, listed.stdout);
    assert.match((await cli('db', 'snapshots')).stdout, /point in time: any second from .*Z to .*Z/);

    // Bad inputs fail before any change: nothing restored, the lock free for the next run.
    for (const [to, message] of [
      ['2001-01-01T00:00:00Z', /can be restored to a time from .* to .*; pick one in that window/],
      ['2001-01-01T00:00:00', /say the time zone, e\.g\. 2001-01-01T00:00:00Z/],
      ['no-such-snapshot', /no snapshot by that name/],
    ] as const) {
      const r = await cli('db', 'restore', '--to', to, '--yes');
      assert.equal(r.code, 1, `${to}: ${r.stdout}`);
      assert.match(r.stderr, message);
    }
    assert.match((await cli('db', 'restore', '--yes')).stderr, /needs --to/);
    assert.equal((await instances()).length, 1, 'no instance was made');

    // restore to a point in time: a new instance like the old one, and a new release on it.
    const to = new Date(Math.max(earliest.getTime(), latest.getTime() - 1000)).toISOString();
    const restored = await cli('db', 'restore', '--to', to, '--yes', '--json');
    assert.equal(restored.code, 0, restored.stderr);
    const result = JSON.parse(restored.stdout);
    assert.equal(result.status, 'deployed');
    assert.equal(result.formerDatabase, originalId);
    const newId = result.database as string;
    const all = await instances();
    assert.equal(all.length, 2);
    const fresh = all.find((d) => d.DBInstanceIdentifier === newId)!;
    const old = all.find((d) => d.DBInstanceIdentifier === originalId)!;
    assert.equal(fresh.DBSubnetGroup.DBSubnetGroupName, original!.DBSubnetGroup.DBSubnetGroupName);
    assert.deepEqual(
      fresh.VpcSecurityGroups.map((g: { VpcSecurityGroupId: string }) => g.VpcSecurityGroupId),
      original!.VpcSecurityGroups.map((g: { VpcSecurityGroupId: string }) => g.VpcSecurityGroupId),
    );
    assert.equal(fresh.StorageEncrypted, true);
    assert.equal(fresh.KmsKeyId, original!.KmsKeyId);
    assert.equal(fresh.DBInstanceClass, original!.DBInstanceClass);
    assert.equal(fresh.PubliclyAccessible, false);
    assert.equal(fresh.DeletionProtection, original!.DeletionProtection);
    assert.equal(tags(fresh)['touchdown:stack'], STACK, 'the stack now owns the restored instance');
    assert.equal(tags(old)['touchdown:stack'], undefined, 'and no longer the old one');
    assert.equal(tags(old)['touchdown:former-stack'], STACK);
    const url = await webDatabaseUrl();
    assert.equal(new URL(url).hostname, fresh.Endpoint.Address, 'the app uses the restored database');
    // The check task (SELECT 1) and the release's migrate reached the restored database.
    assert.ok(
      (await t.aws.databases())[`${t.aws.region}/${newId}`],
      'a task connected to the restored instance',
    );
    const releases = await cli('releases');
    assert.match(releases.stdout, new RegExp(`database restored from ${originalId} as it was at`));
    await noChange('after a restore');
    assert.match(
      (await cli('db', 'snapshots')).stdout,
      new RegExp(`former database ${originalId}: kept until touchdown db remove-old ${originalId} --force`),
    );

    // restore a snapshot, into a third instance; the restored one becomes a former one too.
    const again = await cli('db', 'restore', '--to', 'before-restore', '--yes', '--json');
    assert.equal(again.code, 0, again.stderr);
    const third = JSON.parse(again.stdout).database as string;
    assert.notEqual(third, newId);
    assert.equal(new URL(await webDatabaseUrl()).hostname.split('.')[0], third);
    assert.equal((await instances()).length, 3);
    await noChange('after a snapshot restore');

    // remove-old: only with --force, only a former database, with a final snapshot.
    const refused = await cli('db', 'remove-old', originalId, '--yes');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /add --force/);
    const notFormer = await cli('db', 'remove-old', third, '--force', '--yes');
    assert.equal(notFormer.code, 1);
    assert.match(notFormer.stderr, /is not a database xkcd-production replaced/);
    const removed = await cli('db', 'remove-old', originalId, '--force', '--yes', '--json');
    assert.equal(removed.code, 0, removed.stderr);
    const final = JSON.parse(removed.stdout).finalSnapshot as string;
    assert.deepEqual((await instances()).map((d) => d.DBInstanceIdentifier).sort(), [newId, third].sort());
    const [kept] = (await t.boto.call('rds', 'DescribeDBSnapshots', { DBSnapshotIdentifier: final }))
      .DBSnapshots;
    assert.equal(kept.DBInstanceIdentifier, originalId);
    await noChange('after remove-old');
  });
});
