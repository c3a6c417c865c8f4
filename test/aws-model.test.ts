// The AWS model itself (test/support/aws-model): resources take their time from the table, faults look like
// AWS's to the SDK and replay from their seed, every call is counted. moto is read directly, by boto3, to show
// that the waiting is the model's and not the emulator's. Timing is read on a manual clock the test advances,
// so each phase is seen a millisecond before its end and at it, however busy the machine.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AwsClients } from '../src/aws/clients.js';
import { errorCode } from '../src/aws/errors.js';
import { manualClock } from './support/aws-model/clock.js';
import { type Fault, faultFor } from './support/aws-model/faults.js';
import { type AwsModel, type ModelOptions, startAwsModel } from './support/aws-model/proxy.js';
import { TIMES } from './support/aws-model/times.js';
import { useLocalAws } from './support/harness.js';

const t = useLocalAws();
const models: AwsModel[] = [];
after(async () => {
  await Promise.all(models.map((m) => m.stop()));
});

async function model(options: Omit<ModelOptions, 'upstream'> = {}) {
  const m = await startAwsModel({ upstream: t.aws.endpoint, latencyMs: 0, ...options });
  models.push(m);
  return m;
}

const clients = (m: AwsModel, maxAttempts?: number) =>
  new AwsClients({ region: t.aws.region, endpoint: m.endpoint, ...(maxAttempts ? { maxAttempts } : {}) });

/** The first seed whose first calls get exactly these faults (decisions are pure, so this is a lookup). */
function seedWhere(rates: ModelOptions['faults'], wanted: (Fault | undefined)[], createsSomething = false) {
  for (let seed = 1; seed < 100_000; seed++) {
    const got = wanted.map((_, i) => faultFor(seed, i, rates ?? {}, createsSomething));
    if (JSON.stringify(got) === JSON.stringify(wanted)) return seed;
  }
  throw new Error('no seed gives that sequence');
}

describe('the AWS time model', () => {
  it('shows an RDS instance creating for its modelled time, then available with an endpoint; deleting, then gone', async () => {
    const m = await model({ clock: 'manual' });
    const rds = await clients(m).rds();
    await rds.createDBInstance({
      DBInstanceIdentifier: 'model-db',
      Engine: 'postgres',
      DBInstanceClass: 'db.t4g.micro',
      AllocatedStorage: 20,
      MasterUsername: 'app',
      MasterUserPassword: 'a-long-enough-password',
    });
    const describe = async () =>
      (await rds.describeDBInstances({ DBInstanceIdentifier: 'model-db' })).DBInstances![0]!;
    const first = await describe();
    assert.equal(first.DBInstanceStatus, 'creating');
    assert.equal(first.Endpoint, undefined, 'no endpoint while creating, as on AWS');
    // moto itself has it available already: the waiting is the model's.
    const direct = await t.boto.call('rds', 'DescribeDBInstances', { DBInstanceIdentifier: 'model-db' });
    assert.equal(direct.DBInstances[0].DBInstanceStatus, 'available');

    const createMs = TIMES.rdsInstance.create * 1000;
    m.clock.advance(createMs - 1);
    const late = await describe();
    assert.equal(
      late.DBInstanceStatus,
      'creating',
      `still creating ${createMs - 1} ms in, modelled ${createMs}`,
    );
    assert.equal(late.Endpoint, undefined);
    m.clock.advance(1);
    const now = await describe();
    assert.equal(now.DBInstanceStatus, 'available');
    assert.ok(now.Endpoint?.Address, 'the endpoint once available');

    await rds.deleteDBInstance({ DBInstanceIdentifier: 'model-db', SkipFinalSnapshot: true });
    assert.equal(
      await t.boto.errorOf('rds', 'DescribeDBInstances', { DBInstanceIdentifier: 'model-db' }),
      'DBInstanceNotFound',
    );
    assert.equal(
      (await describe()).DBInstanceStatus,
      'deleting',
      'still deleting on the model after moto forgot it',
    );
    const deleteMs = TIMES.rdsInstance.delete! * 1000;
    m.clock.advance(deleteMs - 1);
    assert.equal((await describe()).DBInstanceStatus, 'deleting', `still deleting ${deleteMs - 1} ms in`);
    m.clock.advance(1);
    await assert.rejects(describe(), (err) => errorCode(err) === 'DBInstanceNotFound');
  });

  it('keeps a one-off Fargate task running for its modelled time (start and command), then STOPPED', async () => {
    const m = await model({ clock: 'manual' });
    const ecs = await clients(m).ecs();
    const { Vpc } = await t.boto.call('ec2', 'CreateVpc', { CidrBlock: '10.9.0.0/16' });
    await t.boto.call('ec2', 'ModifyVpcAttribute', { VpcId: Vpc.VpcId, EnableDnsHostnames: { Value: true } });
    const { Subnet } = await t.boto.call('ec2', 'CreateSubnet', {
      VpcId: Vpc.VpcId,
      CidrBlock: '10.9.1.0/24',
    });
    const { GroupId } = await t.boto.call('ec2', 'CreateSecurityGroup', {
      GroupName: 'model-tasks',
      Description: 'one-off tasks',
      VpcId: Vpc.VpcId,
    });
    await t.boto.call('ecs', 'CreateCluster', { clusterName: 'model-tasks' });
    await t.boto.call('ecs', 'RegisterTaskDefinition', {
      family: 'model-release',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'web', image: 'app:1', essential: true, cpu: 256, memory: 512 }],
    });
    const { tasks = [] } = await ecs.runTask({
      cluster: 'model-tasks',
      taskDefinition: 'model-release',
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: [Subnet.SubnetId], securityGroups: [GroupId] },
      },
    });
    const arn = tasks[0]!.taskArn!;
    const status = async () =>
      (await ecs.describeTasks({ cluster: 'model-tasks', tasks: [arn] })).tasks![0]!.lastStatus;
    assert.equal(await status(), 'RUNNING');
    // moto has it stopped already: the running is the model's.
    await t.boto.call('ecs', 'StopTask', { cluster: 'model-tasks', task: arn });
    const direct = await t.boto.call('ecs', 'DescribeTasks', { cluster: 'model-tasks', tasks: [arn] });
    assert.equal(direct.tasks[0].lastStatus, 'STOPPED');
    assert.equal(await status(), 'RUNNING', 'still running on the model after moto stopped it');
    const modelledMs = TIMES.oneOffTask.create * 1000;
    m.clock.advance(modelledMs - 1);
    assert.equal(await status(), 'RUNNING', `running ${modelledMs - 1} ms in, modelled ${modelledMs} ms`);
    m.clock.advance(1);
    assert.equal(await status(), 'STOPPED');
  });

  it('has Lambda refuse a role younger than IAM propagation, as AWS does, then accept it', async () => {
    const m = await model({ clock: 'manual' });
    const c = clients(m, 1);
    const { Role } = await (await c.iam()).createRole({
      RoleName: 'model-fn',
      AssumeRolePolicyDocument: JSON.stringify({
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    });
    const lambda = await c.lambda();
    // An empty zip archive: the end-of-directory record alone.
    const ZipFile = Buffer.concat([Buffer.from('PK\x05\x06'), Buffer.alloc(18)]);
    const create = () =>
      lambda.createFunction({
        FunctionName: 'model-fn',
        Role: Role!.Arn,
        Runtime: 'python3.12',
        Handler: 'app.handler',
        Code: { ZipFile },
      });
    const refused = (err: Error) =>
      errorCode(err) === 'InvalidParameterValueException' && /cannot be assumed by Lambda/.test(err.message);
    await assert.rejects(create(), refused);
    assert.deepEqual(m.stats().refusals, { roleNotAssumable: 1 });
    const propagationMs = TIMES.iamRole.create * 1000;
    m.clock.advance(propagationMs - 1);
    await assert.rejects(create(), refused, `still refused ${propagationMs - 1} ms after the role was made`);
    assert.deepEqual(m.stats().refusals, { roleNotAssumable: 2 });
    m.clock.advance(1);
    assert.equal((await create()).FunctionName, 'model-fn');
  });

  it('reads its times on real time scaled by the speed-up unless given a manual clock', async () => {
    const speedup = 600;
    const before = performance.now();
    const m = await model({ speedup });
    const started = performance.now();
    assert.equal(m.clock.kind, 'scaled');
    assert.throws(() => m.clock.advance(1), /follows real time/);
    // Bracketed by real time on both sides, whatever the machine's load.
    const from = performance.now();
    const read = m.clock.now();
    const to = performance.now();
    assert.ok(read >= (from - started) * speedup, `${read} AWS ms, at least ${(from - started) * speedup}`);
    assert.ok(read <= (to - before) * speedup, `${read} AWS ms, at most ${(to - before) * speedup}`);
    assert.throws(() => manualClock().advance(-1), /only moves forward/);
  });

  it('adds the per-call latency, scaled by the speed-up, to every call', async () => {
    const m = await model({ speedup: 10, latencyMs: 2_000 });
    const ec2 = await clients(m).ec2();
    await ec2.describeVpcs({}); // the client's first call loads its modules
    const started = Date.now();
    await ec2.describeVpcs({});
    assert.ok(
      Date.now() - started >= 200,
      `answered after ${Date.now() - started} ms, the latency is 200 ms`,
    );
  });
});

describe('faults', () => {
  it('are a pure function of the seed and the call index: the same seed replays the same sequence', async () => {
    const faults = { throttle: 0.2, serverError: 0.2, reset: 0.1, slow: 0.1, slowMs: 10 };
    const run = async (seed: number) => {
      const seen: string[] = [];
      const m = await model({
        faults,
        seed,
        onCall: (call, f) => seen.push(`${call.operation}:${f?.kind ?? '-'}`),
      });
      const sts = await clients(m, 1).sts();
      const outcomes: string[] = [];
      for (let i = 0; i < 30; i++) {
        outcomes.push(
          await sts.getCallerIdentity({}).then(
            () => 'ok',
            (err) => errorCode(err),
          ),
        );
      }
      return { seen, outcomes, stats: m.stats() };
    };
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    assert.deepEqual(a.outcomes, b.outcomes);
    assert.deepEqual(a.seen, b.seen);
    assert.notDeepEqual(a.seen, c.seen, 'another seed, another sequence');
    assert.ok(a.outcomes.includes('ok') && a.outcomes.some((o) => o !== 'ok'), a.outcomes.join(' '));
    const injected = Object.values(a.stats.faults).reduce((n, k) => n + k, 0);
    assert.equal(injected, a.seen.filter((s) => !s.endsWith(':-')).length, 'stats count every fault');
  });

  const shapes: [string, string, (c: AwsClients) => Promise<unknown>][] = [
    ['query (IAM)', 'Throttling', async (c) => (await c.iam()).listRoles({})],
    ['query (RDS)', 'Throttling', async (c) => (await c.rds()).describeDBInstances({})],
    ['EC2', 'RequestLimitExceeded', async (c) => (await c.ec2()).describeVpcs({})],
    ['JSON (ECS)', 'ThrottlingException', async (c) => (await c.ecs()).listClusters({})],
    ['REST-XML (S3)', 'SlowDown', async (c) => (await c.s3()).listBuckets({})],
    ['REST-XML (CloudFront)', 'Throttling', async (c) => (await c.cloudFront()).listDistributions({})],
    ['REST-JSON (Lambda)', 'TooManyRequestsException', async (c) => (await c.lambda()).listFunctions({})],
  ];
  for (const [protocol, code, call] of shapes) {
    it(`throttles ${protocol} with ${code}, which the SDK's standard retry policy retries to success`, async () => {
      const faults = { throttle: 0.5 };
      const seed = seedWhere(faults, [{ kind: 'throttle' }, undefined, { kind: 'throttle' }]);
      const m = await model({ faults, seed });
      const answer = (await call(clients(m))) as { $metadata: { attempts?: number } };
      assert.equal(answer.$metadata.attempts, 2, 'throttled once, then answered');
      // Without retries, the SDK reads the error code AWS would send.
      await assert.rejects(call(clients(m, 1)), (err) => errorCode(err) === code);
      assert.deepEqual(m.stats().faults, { throttle: 2 });
    });
  }

  it('answers 500 and 503 in the service shape, retried by the SDK', async () => {
    const faults = { serverError: 0.5 };
    const seed = seedWhere(faults, [{ kind: 'serverError', status: 503 }, undefined]);
    const m = await model({ faults, seed });
    const answer = await (await clients(m).ec2()).describeVpcs({});
    assert.equal(answer.$metadata.attempts, 2);
  });

  it('resets a create after it took effect: the SDK retries and AWS now holds two', async () => {
    const faults = { reset: 0.5 };
    const seed = seedWhere(faults, [{ kind: 'reset', afterForwarding: true }, undefined], true);
    const m = await model({ faults, seed });
    const before = (await t.boto.call('ec2', 'DescribeVpcs')).Vpcs.length;
    const made = await (await clients(m).ec2()).createVpc({ CidrBlock: '10.9.0.0/16' });
    assert.equal(made.$metadata.attempts, 2, 'the reset was retried');
    const after = (await t.boto.call('ec2', 'DescribeVpcs')).Vpcs.length;
    assert.equal(after - before, 2, 'the first, unanswered create happened too');
    assert.deepEqual(m.stats().faults, { reset: 1 });
  });
});

describe('stats', () => {
  it('count calls by service and operation, not moto control calls', async () => {
    const m = await model();
    const c = clients(m);
    await (await c.ec2()).describeVpcs({});
    await (await c.ec2()).describeVpcs({});
    await (await c.s3()).listBuckets({});
    await (await c.ssm()).describeParameters({});
    await fetch(`${m.endpoint}/moto-api/reset`, { method: 'POST' });
    const s = m.stats();
    assert.equal(s.calls, 4);
    assert.deepEqual(s.byOperation, {
      'ec2:DescribeVpcs': 2,
      's3:ListBuckets': 1,
      'ssm:DescribeParameters': 1,
    });
    assert.deepEqual(s.faults, {});
  });
});
