// The engine through the AWS model (useLocalAws's `model` option): an apply waits for a database as long as
// the model says RDS takes, polling as it would on AWS, and a destroy waits for it to go; boto3 reads moto directly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DbInstance } from '../src/aws/rds/instance.js';
import { DbSubnetGroup } from '../src/aws/rds/subnet-group.js';
import { AwsStack } from '../src/aws/stack.js';
import { TIMES } from './support/aws-model/times.js';
import { useLocalAws } from './support/harness.js';

const SPEEDUP = 300; // 6 minutes in 1.2 s
const t = useLocalAws({ model: { speedup: SPEEDUP } });

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

describe('the engine through the AWS model', () => {
  it('waits for an RDS instance for its modelled time to create and to delete', async () => {
    const started = Date.now();
    await t.apply(database());
    const took = Date.now() - started;
    const modelled = (TIMES.rdsInstance.create * 1000) / SPEEDUP;
    assert.ok(took >= modelled, `applied in ${took} ms, the database alone takes ${modelled} ms`);
    assert.ok(waitingStates('db-instance.main').includes('creating'), 'the engine saw it creating');
    const { DBInstances } = await t.boto.call('rds', 'DescribeDBInstances');
    assert.equal(DBInstances[0].DBInstanceStatus, 'available');
    assert.ok(t.model!.stats().byOperation['rds:DescribeDBInstances']! > 1, 'the engine polled');

    t.events.length = 0;
    const deleting = Date.now();
    await t.destroy(database(), { force: true });
    assert.ok(
      Date.now() - deleting >= (TIMES.rdsInstance.delete * 1000) / SPEEDUP,
      'destroy waited for it to go',
    );
    assert.ok(waitingStates('db-instance.main').includes('deleting'), 'the engine saw it deleting');
  });
});
