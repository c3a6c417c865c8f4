import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { MqBroker } from './broker.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'mq-broker.broker';
const PASSWORD = '/mq-test/BROKER_PASSWORD';
const URL_PARAMETER = '/mq-test/CELERY_BROKER_URL';

type Overrides = Partial<{ instanceType: string; day: 'SUNDAY' | 'MONDAY'; tags: Record<string, string> }>;

function stack(overrides: Overrides = {}) {
  const aws = new AwsStack('mq-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.4.0.0/16' });
  const a = vpc.addSubnet({ name: 'a', cidrBlock: '10.4.1.0/24', availabilityZone: 'us-east-1a' });
  const app = vpc.addSecurityGroup({ name: 'app' });
  const sg = vpc.addSecurityGroup({
    name: 'broker',
    ingress: [{ protocol: 'tcp', fromPort: 5671, toPort: 5671, sourceSecurityGroupId: app.id }],
    egress: [],
  });
  const { day = 'SUNDAY', ...rest } = overrides;
  const broker = aws.add(MqBroker, {
    name: 'broker',
    subnetIds: [a.id],
    securityGroupIds: [sg.id],
    passwordParameter: PASSWORD,
    urlParameter: URL_PARAMETER,
    maintenance: { day, time: '03:00' },
    ...rest,
  });
  aws.output('endpoint', broker.endpoint);
  aws.output('broker', sg.id);
  aws.output('subnet', a.id);
  return aws;
}

async function brokers() {
  const { BrokerSummaries } = await t.boto.call('mq', 'ListBrokers', {});
  return Promise.all(
    (BrokerSummaries as { BrokerId: string }[]).map((b) =>
      t.boto.call('mq', 'DescribeBroker', { BrokerId: b.BrokerId }),
    ),
  );
}

async function secret(name: string): Promise<{ Type: string; Value: string } | undefined> {
  try {
    return (await t.boto.call('ssm', 'GetParameter', { Name: name, WithDecryption: true })).Parameter;
  } catch {
    return undefined;
  }
}

describe('MqBroker', () => {
  it('is a private RabbitMQ broker whose password and URL exist only in Parameter Store; a second plan shows no changes', async () => {
    const plan = await t.apply(stack({ tags: { team: 'tasks' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const out = await t.engine(stack({ tags: { team: 'tasks' } })).outputs();
    const [b, ...others] = await brokers();
    assert.equal(others.length, 0);
    assert.equal(b.BrokerState, 'RUNNING');
    assert.equal(b.EngineType, 'RABBITMQ');
    assert.equal(b.EngineVersion, '3.13');
    assert.equal(b.HostInstanceType, 'mq.t3.micro');
    assert.equal(b.DeploymentMode, 'SINGLE_INSTANCE');
    assert.equal(b.PubliclyAccessible, false);
    assert.equal(b.AutoMinorVersionUpgrade, true);
    assert.deepEqual(b.SubnetIds, [out.subnet]);
    assert.deepEqual(b.SecurityGroups, [out.broker]);
    assert.deepEqual(b.Logs, { General: true });
    assert.deepEqual(b.MaintenanceWindowStartTime, {
      DayOfWeek: 'SUNDAY',
      TimeOfDay: '03:00',
      TimeZone: 'UTC',
    });
    assert.equal(b.Tags.team, 'tasks');
    assert.equal(b.Tags['touchdown:resource'], ADDRESS);
    const host = new URL(b.BrokerInstances[0].Endpoints[0]).hostname;
    assert.equal(out.endpoint, `amqps://${host}:5671`);

    const password = (await secret(PASSWORD))!;
    assert.equal(password.Type, 'SecureString');
    assert.match(password.Value, /^[A-Za-z0-9_-]{32}$/, '12 or more characters, none of , : =');
    const url = (await secret(URL_PARAMETER))!;
    assert.equal(url.Type, 'SecureString');
    assert.equal(url.Value, `amqps://app:${password.Value}@${host}:5671`);
    // Neither the plan nor any event carries the password.
    assert.ok(!JSON.stringify([plan, t.events]).includes(password.Value));
    assertNoChanges(await t.plan(stack({ tags: { team: 'tasks' } })));
  });

  it('changes the maintenance window and tags in place', async () => {
    await t.apply(stack());
    const change = (await t.plan(stack({ day: 'MONDAY', tags: { a: 'b' } }))).resources.find(
      (r) => r.address === ADDRESS,
    )!;
    assert.equal(change.action, 'update');
    await t.apply(stack({ day: 'MONDAY', tags: { a: 'b' } }));
    const [b] = await brokers();
    assert.equal(b.MaintenanceWindowStartTime.DayOfWeek, 'MONDAY');
    assert.equal(b.Tags.a, 'b');
    assertNoChanges(await t.plan(stack({ day: 'MONDAY', tags: { a: 'b' } })));
  });

  it('is created again when deleted behind its back', async () => {
    await t.apply(stack());
    const [b] = await brokers();
    await t.boto.call('mq', 'DeleteBroker', { BrokerId: b.BrokerId });
    assert.equal(actions(await t.plan(stack()))[ADDRESS], 'create');
  });

  it('is not destroyed without --force; with it, goes with its parameters', async () => {
    await t.apply(stack());
    const refused = await t.engine(stack()).destroy();
    const [failed] = refused.report!.failed;
    assert.match(failed!.error!, /deleting Amazon MQ broker "broker": refused: it holds a RabbitMQ broker/);
    assert.match(failed!.hint!, /--force/);
    assert.equal((await brokers()).length, 1);
    await t.destroy(stack(), { force: true });
    assert.equal((await brokers()).length, 0);
    assert.equal(await secret(PASSWORD), undefined);
    assert.equal(await secret(URL_PARAMETER), undefined);
  });

  it('refuses a password parameter it did not write', async () => {
    await t.boto.call('ssm', 'PutParameter', {
      Name: PASSWORD,
      Type: 'SecureString',
      Value: 'someone-elses',
    });
    const { report } = await t.engine(stack()).apply();
    assert.match(report!.failed[0]!.error!, /already exists and is not this broker's/);
    assert.equal((await brokers()).length, 0);
  });
});
