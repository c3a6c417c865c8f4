import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { ConfigError } from '../../core/errors.js';
import { AwsStack } from '../stack.js';
import { DbInstance } from './instance.js';
import { listSnapshots, restoreDatabase, snapshotDatabase } from './snapshots.js';
import { DbSubnetGroup } from './subnet-group.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'rds-test';
const ADDRESS = 'db-instance.main';
const ID = 'rds-test-main';
const PASSWORD = '/rds-test/main/master-password';
const GROUP = 'rds-test-db';

type InstanceArgs = ArgsInput<typeof DbInstance.fields>;

function database(overrides: Partial<InstanceArgs> = {}) {
  const aws = new AwsStack(STACK);
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.4.0.0/16' });
  const a = vpc.addSubnet({ name: 'db-a', cidrBlock: '10.4.1.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'db-b', cidrBlock: '10.4.2.0/24', availabilityZone: 'us-east-1b' });
  const sg = vpc.addSecurityGroup({ name: 'db' });
  const group = aws.add(DbSubnetGroup, { name: 'db', subnetIds: [a.id, b.id] });
  const db = aws.add(DbInstance, {
    name: 'main',
    subnetGroupName: group.name,
    vpcSecurityGroupIds: [sg.id],
    ...overrides,
  });
  aws.output('databaseHost', db.hostPort);
  aws.output('passwordParameter', db.passwordParameter);
  return aws;
}

interface BotoInstance {
  DBInstanceIdentifier: string;
  DBInstanceStatus: string;
  Engine: string;
  EngineVersion: string;
  DBInstanceClass: string;
  AllocatedStorage: number;
  MaxAllocatedStorage?: number;
  StorageType: string;
  StorageEncrypted: boolean;
  MultiAZ: boolean;
  BackupRetentionPeriod: number;
  DeletionProtection: boolean;
  PubliclyAccessible: boolean;
  DBName: string;
  MasterUsername: string;
  DBSubnetGroup: { DBSubnetGroupName: string };
  Endpoint: { Address: string; Port: number };
  VpcSecurityGroups: { VpcSecurityGroupId: string }[];
  TagList: { Key: string; Value: string }[];
}

async function instance(id = ID): Promise<BotoInstance | undefined> {
  try {
    return (await t.boto.call('rds', 'DescribeDBInstances', { DBInstanceIdentifier: id })).DBInstances[0];
  } catch (err) {
    if ((err as { code?: string }).code === 'DBInstanceNotFound') return undefined;
    throw err;
  }
}

const tagsOf = (x: { TagList: { Key: string; Value: string }[] }) =>
  Object.fromEntries(x.TagList.map((tag) => [tag.Key, tag.Value]));

async function password(name = PASSWORD): Promise<string | undefined> {
  try {
    const { Parameter } = await t.boto.call('ssm', 'GetParameter', { Name: name, WithDecryption: true });
    assert.equal(Parameter.Type, 'SecureString');
    return Parameter.Value;
  } catch (err) {
    if ((err as { code?: string }).code === 'ParameterNotFound') return undefined;
    throw err;
  }
}

/** Manual snapshots only: moto, like AWS, also keeps an automated one from each instance's first backup. */
async function snapshotsOf(id = ID): Promise<{ DBSnapshotIdentifier: string; Status: string }[]> {
  const answer = await t.boto.call('rds', 'DescribeDBSnapshots', {
    DBInstanceIdentifier: id,
    SnapshotType: 'manual',
  });
  return answer.DBSnapshots;
}

/** Deletes the instance outside Touchdown, as someone in the console would. */
async function deleteByHand(id = ID) {
  await t.boto.call('rds', 'ModifyDBInstance', {
    DBInstanceIdentifier: id,
    DeletionProtection: false,
    ApplyImmediately: true,
  });
  await t.boto.call('rds', 'DeleteDBInstance', { DBInstanceIdentifier: id, SkipFinalSnapshot: true });
}

describe('DbInstance', () => {
  it('is created with its tags, a generated password only in SSM, and re-plans to no changes', async () => {
    const plan = await t.apply(database({ tags: { team: 'data' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const db = (await instance())!;
    assert.equal(db.DBInstanceStatus, 'available');
    assert.equal(db.Engine, 'postgres');
    assert.equal(db.EngineVersion, '16');
    assert.equal(db.DBInstanceClass, 'db.t4g.micro');
    assert.equal(db.AllocatedStorage, 20);
    assert.equal(db.StorageType, 'gp3');
    assert.equal(db.StorageEncrypted, true);
    assert.equal(db.MultiAZ, false);
    assert.equal(db.BackupRetentionPeriod, 7);
    assert.equal(db.DeletionProtection, true);
    assert.equal(db.PubliclyAccessible, false);
    assert.equal(db.DBName, 'app');
    assert.equal(db.MasterUsername, 'app');
    assert.equal(db.DBSubnetGroup.DBSubnetGroupName, GROUP);
    assert.deepEqual(tagsOf(db), {
      'touchdown:stack': STACK,
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      'touchdown:final-snapshot': 'true',
      'touchdown:password-parameter': PASSWORD,
      team: 'data',
    });

    const secret = (await password())!;
    assert.match(secret, /^[A-Za-z0-9_-]{40}$/);
    const { TagList } = await t.boto.call('ssm', 'ListTagsForResource', {
      ResourceType: 'Parameter',
      ResourceId: PASSWORD,
    });
    assert.deepEqual(tagsOf({ TagList }), { 'touchdown:resource': ADDRESS, 'touchdown:owner-stack': STACK });

    const again = await t.plan(database({ tags: { team: 'data' } }));
    assertNoChanges(again);
    const engine = t.engine(database({ tags: { team: 'data' } }));
    const outputs = await engine.outputs({ reveal: true });
    assert.deepEqual(outputs, {
      databaseHost: `${db.Endpoint.Address}:5432`,
      passwordParameter: PASSWORD,
    });
    const clients = t.aws.clients();
    const found = await DbInstance.find(
      { stack: STACK, region: t.aws.region, aws: clients, account: async () => '123456789012' },
      [],
    );
    // One call finds every database of the stack: DescribeDBInstances carries the tags to select them by.
    assert.deepEqual(clients.calls, [{ service: 'rds', operation: 'DescribeDBInstances' }]);
    assert.deepEqual(
      found.map((f) => f.key),
      [ADDRESS],
    );
    for (const [what, value] of Object.entries({ plan, again, events: t.events, outputs, found })) {
      assert.ok(!JSON.stringify(value).includes(secret), `the password is not in the ${what}`);
    }
  });

  it('changes class, storage, backups, version and tags in place, waiting until nothing is pending', async () => {
    await t.apply(database());
    const change = {
      engineVersion: '17',
      instanceClass: 'db.t4g.small',
      allocatedStorage: 30,
      maxAllocatedStorage: 100,
      backupRetentionDays: 14,
      finalSnapshot: false,
      tags: { env: 'prod' },
    };
    const plan = await t.plan(database(change));
    const planned = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(planned.action, 'update');
    const clients = t.aws.clients();
    const { report } = await t.engine(database(change), { aws: clients }).apply();
    assert.deepEqual(report?.failed, []);
    // One ModifyDBInstance carries every change; deletion protection stays on.
    assert.equal(clients.calls.filter((c) => c.operation === 'ModifyDBInstance').length, 1);
    const db = (await instance())!;
    assert.equal(db.EngineVersion, '17');
    assert.equal(db.DBInstanceClass, 'db.t4g.small');
    assert.equal(db.AllocatedStorage, 30);
    assert.equal(db.MaxAllocatedStorage, 100);
    assert.equal(db.BackupRetentionPeriod, 14);
    assert.equal(db.DeletionProtection, true);
    assert.equal(tagsOf(db)['touchdown:final-snapshot'], 'false');
    assert.equal(tagsOf(db).env, 'prod');
    assertNoChanges(await t.plan(database(change)));
  });

  it('is replaced when its database name changes, only with --force, leaving a final snapshot', async () => {
    await t.apply(database());
    const first = await password();
    const plan = await t.plan(database({ dbName: 'shop' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['dbName']);

    const refused = await t.engine(database({ dbName: 'shop' })).apply();
    assert.equal(refused.report!.failed[0]!.address, ADDRESS);
    assert.match(refused.report!.failed[0]!.error!, /"main".*a PostgreSQL database, 20 GB/);
    assert.equal((await instance())!.DBName, 'app');

    await t.apply(database({ dbName: 'shop' }), { force: true });
    assert.equal((await instance())!.DBName, 'shop');
    const [final, ...others] = await snapshotsOf();
    assert.equal(others.length, 0);
    assert.match(final!.DBSnapshotIdentifier, new RegExp(`^${ID}-final-\\d{12}$`));
    const second = await password();
    assert.ok(second && second !== first, 'the new database has a new password');
  });

  it('is created again, with the saved password, after being deleted outside Touchdown', async () => {
    await t.apply(database());
    const saved = await password();
    await deleteByHand();
    assert.equal(actions(await t.plan(database()))[ADDRESS], 'create');
    await t.apply(database());
    assert.equal((await instance())!.DBInstanceStatus, 'available');
    // As on a retried create: the parameter already holds this database's password, so it is reused.
    assert.equal(await password(), saved);
  });

  it('is put back after attributes are changed outside Touchdown', async () => {
    await t.apply(database());
    await t.boto.call('rds', 'ModifyDBInstance', {
      DBInstanceIdentifier: ID,
      BackupRetentionPeriod: 1,
      PubliclyAccessible: true,
      ApplyImmediately: true,
    });
    const plan = await t.plan(database());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'backupRetentionDays', before: 1, after: 7 },
      { name: 'publiclyAccessible', before: true, after: false },
    ]);
    await t.apply(database());
    const db = (await instance())!;
    assert.equal(db.BackupRetentionPeriod, 7);
    assert.equal(db.PubliclyAccessible, false);
  });

  it('is not destroyed without --force; with it, leaves a final snapshot and removes its password', async () => {
    await t.apply(database());
    const refused = await t.engine(database()).destroy();
    const [failed, ...others] = refused.report!.failed;
    assert.equal(others.length, 0);
    assert.equal(failed!.address, ADDRESS);
    assert.match(
      failed!.error!,
      /deleting RDS instance "main": refused: it holds a PostgreSQL database, 20 GB/,
    );
    assert.match(failed!.hint!, /--force/);
    assert.ok(await instance(), 'the database is still there');

    const plan = await t.destroy(database(), { force: true });
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal(await instance(), undefined);
    const [final] = await snapshotsOf();
    assert.match(final!.DBSnapshotIdentifier, new RegExp(`^${ID}-final-\\d{12}$`));
    assert.equal(await password(), undefined);
    const groups = await t.boto.call('rds', 'DescribeDBSubnetGroups', {});
    assert.deepEqual(groups.DBSubnetGroups, []);
  });

  it('skips the final snapshot when the declaration says so', async () => {
    await t.apply(database({ finalSnapshot: false, deletionProtection: false }));
    await t.destroy(database({ finalSnapshot: false, deletionProtection: false }), { force: true });
    assert.equal(await instance(), undefined);
    assert.deepEqual(await snapshotsOf(), []);
  });

  it('refuses to take over a password parameter it did not create', async () => {
    await t.boto.call('ssm', 'PutParameter', {
      Name: PASSWORD,
      Type: 'SecureString',
      Value: 'someone-elses',
    });
    const { report } = await t.engine(database()).apply();
    const failed = report!.failed.find((f) => f.address === ADDRESS)!;
    assert.match(failed.error!, /already exists and is not this database's password/);
    assert.equal(await instance(), undefined);
  });

  it('takes a snapshot, lists it, and restores it and a point in time into new databases', async () => {
    await t.apply(database());
    const clients = t.aws.clients();
    const progress: string[] = [];
    const arn = await snapshotDatabase(clients, ID, 'before-release-7', {
      progress: (m) => progress.push(m),
    });
    const [snap] = (
      await t.boto.call('rds', 'DescribeDBSnapshots', { DBSnapshotIdentifier: 'before-release-7' })
    ).DBSnapshots;
    assert.equal(snap.DBSnapshotArn, arn);
    assert.equal(snap.Status, 'available');
    assert.deepEqual(progress, ['taking snapshot before-release-7']);
    const listed = await listSnapshots(clients, ID);
    assert.deepEqual(listed.map((s) => s.type).sort(), ['automated', 'manual']);
    const manual = listed.find((s) => s.type === 'manual')!;
    assert.deepEqual(
      [manual.id, manual.arn, manual.status, manual.sizeGb],
      ['before-release-7', arn, 'available', 20],
    );
    assert.ok(listed[0]!.createdAt! >= listed[1]!.createdAt!, 'newest first');

    const sgs = (await instance())!.VpcSecurityGroups.map((g) => g.VpcSecurityGroupId);
    const fromSnapshot = await restoreDatabase(clients, {
      from: { snapshotId: 'before-release-7' },
      newInstanceId: 'rds-test-restored',
      subnetGroupName: GROUP,
      vpcSecurityGroupIds: sgs,
      instanceClass: 'db.t4g.small',
    });
    const restored = (await instance('rds-test-restored'))!;
    assert.equal(restored.DBInstanceStatus, 'available');
    assert.equal(restored.DBInstanceClass, 'db.t4g.small');
    assert.equal(fromSnapshot.hostPort, `${restored.Endpoint.Address}:${restored.Endpoint.Port}`);
    // The copy belongs to no stack: no ownership tags, so this stack neither claims nor deletes it.
    assert.deepEqual(tagsOf(restored), { 'touchdown:restored-from': 'before-release-7' });

    await restoreDatabase(clients, {
      from: { instanceId: ID, time: 'latest' },
      newInstanceId: 'rds-test-yesterday',
      subnetGroupName: GROUP,
      vpcSecurityGroupIds: sgs,
    });
    const pitr = (await instance('rds-test-yesterday'))!;
    assert.equal(pitr.DBName, 'app');
    assert.deepEqual(tagsOf(pitr), { 'touchdown:restored-from': ID });
    assertNoChanges(await t.plan(database()));
  });

  // moto's state manager has no RDS models; a stopped instance (StopDBInstance) is the non-available state it holds.
  it('fails a modification whose wait times out, naming the database, its state and what to do', async () => {
    await t.apply(database());
    await t.boto.call('rds', 'StopDBInstance', { DBInstanceIdentifier: ID });
    const engine = t.engine(database({ instanceClass: 'db.t4g.small' }), {
      timing: { initialDelayMs: 20, maxDelayMs: 100, defaultTimeoutMs: 30_000, timeoutFactor: 0.0002 },
    });
    const { report } = await engine.apply();
    const [failed] = report!.failed;
    assert.equal(failed!.address, ADDRESS);
    assert.match(
      failed!.error!,
      /^waiting for RDS instance "main": gave up waiting for RDS instance "main" to apply its changes after .*; it was still "stopped"/,
    );
    assert.match(failed!.hint!, new RegExp(`start-db-instance --db-instance-identifier ${ID}`));
  });

  it('checks storage autoscaling against the storage size before any AWS call', () => {
    const aws = new AwsStack(STACK);
    aws.add(DbInstance, {
      name: 'main',
      subnetGroupName: GROUP,
      vpcSecurityGroupIds: ['sg-1'],
      allocatedStorage: 50,
      maxAllocatedStorage: 40,
    });
    assert.throws(
      () => aws.check(),
      (err: unknown) =>
        err instanceof ConfigError &&
        /maxAllocatedStorage: must be more than allocatedStorage/.test(err.message),
    );
  });
});
