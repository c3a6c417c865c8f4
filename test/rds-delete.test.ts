// Destroying a database with deletion protection (issue 11): lifting the protection is a modification, and RDS
// refuses the delete as one of a protected instance until the instance is available again. The AWS model holds
// the instance "modifying" for RDS's modification time; Touchdown waits for it with the one waiter.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DbInstance } from '../src/aws/rds/instance.js';
import { DbSubnetGroup } from '../src/aws/rds/subnet-group.js';
import { AwsStack } from '../src/aws/stack.js';
import { useLocalAws } from './support/harness.js';

// RDS's 2-minute modification in 1 s, its 6-minute create in 3 s.
const t = useLocalAws({ model: { speedup: 120 } });

function database() {
  const aws = new AwsStack('rds-protected');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.4.0.0/16' });
  const a = vpc.addSubnet({ name: 'db-a', cidrBlock: '10.4.1.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'db-b', cidrBlock: '10.4.2.0/24', availabilityZone: 'us-east-1b' });
  const sg = vpc.addSecurityGroup({ name: 'db' });
  const group = aws.add(DbSubnetGroup, { name: 'db', subnetIds: [a.id, b.id] });
  aws.add(DbInstance, {
    name: 'main',
    subnetGroupName: group.name,
    vpcSecurityGroupIds: [sg.id],
    deletionProtection: true,
    finalSnapshot: false,
  });
  return aws;
}

describe('a protected database destroyed with --force', () => {
  it('is deleted only once it is available again after its protection is lifted', async () => {
    await t.apply(database());
    const before = t.model!.stats().refusals.deletedWhileModifying ?? 0;
    await t.destroy(database(), { force: true });
    assert.equal(
      (t.model!.stats().refusals.deletedWhileModifying ?? 0) - before,
      0,
      'no delete was sent while the instance was still modifying',
    );
    // moto itself (read by boto3, not through the model) has the instance gone or going.
    const found = await t.boto
      .call('rds', 'DescribeDBInstances', { DBInstanceIdentifier: 'rds-protected-main' })
      .then((r) => r.DBInstances[0]?.DBInstanceStatus as string)
      .catch((err: { code?: string }) => err.code ?? 'unknown');
    assert.ok(['DBInstanceNotFound', 'deleting'].includes(found), `found ${found}`);
  });
});
