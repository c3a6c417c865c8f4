// The engine through the AWS model (useLocalAws's `model` option): an apply waits for a database as long as
// the model says RDS takes, polling as it would on AWS, and a destroy waits for it to go; boto3 reads moto directly.
// The model's clock is the test's: it moves to a millisecond before each phase ends, then to its end.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DbInstance } from '../src/aws/rds/instance.js';
import { DbSubnetGroup } from '../src/aws/rds/subnet-group.js';
import { AwsStack } from '../src/aws/stack.js';
import { TIMES } from './support/aws-model/times.js';
import { useLocalAws } from './support/harness.js';
import { until } from './support/until.js';

// The engine polls at its AWS pace over 300 (and gives up as late); the model's time moves only when the test says.
const t = useLocalAws({ model: { speedup: 300, clock: 'manual' } });

function database() {
  const aws = new AwsStack('model-engine');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.7.0.0/16' });
  const a = vpc.addSubnet({ name: 'db-a', cidrBlock: '10.7.1.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'db-b', cidrBlock: '10.7.2.0/24', availabilityZone: 'us-east-1b' });
  const sg = vpc.addSecurityGroup({ name: 'db' });
  const group = aws.add(DbSubnetGroup, { name: 'db', subnetIds: [a.id, b.id] });
  aws.add(DbInstance, { name: 'main', subnetGroupName: group.name, vpcSecurityGroupIds: [sg.id] });
  return aws;
}

const waitingStates = (address: string) =>
  t.events.flatMap((e) =>
    e.type === 'op.progress' && e.address === address && e.message.startsWith('waiting: ')
      ? [e.message.slice(9)]
      : [],
  );

/** Whether `work` has ended, read without waiting on it. */
function tracked(work: Promise<unknown>) {
  const state = { done: false };
  work.then(
    () => {
      state.done = true;
    },
    () => {},
  );
  return state;
}

/**
 * Once the engine reports the database `state`, moves the model's clock to a millisecond before the phase ends and
 * checks the engine, looking again, still waits; then moves it to the end.
 */
async function phase(state: string, awsSeconds: number, work: Promise<unknown>) {
  const clock = t.model!.clock;
  const done = tracked(work);
  const states = () => waitingStates('db-instance.main');
  await until(`the engine to see the database ${state}`, () => states().includes(state), work);
  clock.advance(awsSeconds * 1000 - 1);
  const seen = states().length;
  await until('the engine to look again', () => states().length > seen, work);
  assert.equal(states().at(-1), state, `still ${state} ${awsSeconds * 1000 - 1} AWS ms in`);
  assert.equal(
    done.done,
    false,
    `the engine still waits ${awsSeconds * 1000 - 1} AWS ms in, of ${awsSeconds} s`,
  );
  clock.advance(1);
}

describe('the engine through the AWS model', () => {
  it('waits for an RDS instance for its modelled time to create and to delete', async () => {
    const applying = t.apply(database());
    await phase('creating', TIMES.rdsInstance.create, applying);
    await applying;
    assert.ok(waitingStates('db-instance.main').includes('creating'), 'the engine saw it creating');
    const { DBInstances } = await t.boto.call('rds', 'DescribeDBInstances');
    assert.equal(DBInstances[0].DBInstanceStatus, 'available');
    assert.ok(t.model!.stats().byOperation['rds:DescribeDBInstances']! > 1, 'the engine polled');

    t.events.length = 0;
    const destroying = t.destroy(database(), { force: true });
    // Deletion protection (on by default) is lifted first: a modification, then the delete.
    await phase('modifying', TIMES.rdsInstance.update, destroying);
    await phase('deleting', TIMES.rdsInstance.delete, destroying);
    await destroying;
    assert.ok(waitingStates('db-instance.main').includes('deleting'), 'the engine saw it deleting');
    assert.equal(
      await t.boto.errorOf('rds', 'DescribeDBInstances', {
        DBInstanceIdentifier: DBInstances[0].DBInstanceIdentifier,
      }),
      'DBInstanceNotFound',
    );
  });
});
