// The engine on real resources in the local AWS: order, concurrency and failures, observed from its events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsStack } from '../src/aws/stack.js';
import type { EngineEvent } from '../src/core/events.js';
import type { Plan } from '../src/core/plan.js';
import { actions, assertNoChanges, useLocalAws } from './support/harness.js';

const t = useLocalAws();

/** When each resource's operation started and ended, by address, from the engine's own events. */
function timeline(events: EngineEvent[]) {
  const order: string[] = [];
  let inFlight = 0;
  let peak = 0;
  for (const e of events) {
    if (e.type === 'op.start') {
      order.push(`start ${e.address}`);
      peak = Math.max(peak, ++inFlight);
    }
    if (e.type === 'op.done' || e.type === 'op.failed') {
      order.push(`end ${e.address}`);
      inFlight--;
    }
  }
  return { order, peak, before: (a: string, b: string) => order.indexOf(a) < order.indexOf(b) };
}

/** True when another resource in the plan depends on `address` (so its delete waits for theirs). */
function dependedOn(plan: Plan, address: string): boolean {
  const ops = plan.resources.filter((r) => r.dependsOn.includes(address));
  return ops.length > 0;
}

function network(subnetCidrs: Record<string, string>) {
  const aws = new AwsStack('engine-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.4.0.0/16' });
  const subnets = Object.entries(subnetCidrs).map(([name, cidrBlock]) => vpc.addSubnet({ name, cidrBlock }));
  vpc.addRouteTable({ name: 'private', subnetIds: subnets.map((s) => s.id) });
  aws.addSsmParameter({ name: '/engine-test/independent', value: 'x' });
  return aws;
}

describe('engine on the local AWS', () => {
  it('starts each resource after what it references, and independent ones at once', async () => {
    await t.apply(network({ a: '10.4.1.0/24', b: '10.4.2.0/24', c: '10.4.3.0/24' }));
    const { before, peak } = timeline(t.events);
    assert.ok(before('end vpc.main', 'start subnet.main/a'));
    assert.ok(before('end vpc.main', 'start route-table.main/private'));
    for (const s of ['a', 'b', 'c'])
      assert.ok(before(`end subnet.main/${s}`, 'start route-table.main/private'));
    // The three subnets (and the parameter) need only the VPC: they were in flight together.
    assert.ok(peak >= 3, `expected independent operations in flight together, saw at most ${peak}`);
    const { RouteTables } = await t.boto.call('ec2', 'DescribeRouteTables', {
      Filters: [{ Name: 'tag:touchdown:resource', Values: ['route-table.main/private'] }],
    });
    assert.equal(RouteTables[0].Associations.length, 3);
  });

  it('runs one at a time with a concurrency of 1', async () => {
    const stack = network({ a: '10.4.1.0/24', b: '10.4.2.0/24' });
    const { report } = await t.engine(stack, { concurrency: 1 }).apply();
    assert.deepEqual(report?.failed, []);
    assert.equal(timeline(t.events).peak, 1);
  });

  it('skips only what depends on a failure, and the next apply finishes the job', async () => {
    // 10.5.0.0/24 lies outside the VPC's 10.4.0.0/16: AWS refuses that subnet.
    const broken = network({ good: '10.4.1.0/24', bad: '10.5.0.0/24' });
    const { report } = await t.engine(broken).apply();
    assert.deepEqual(
      report!.failed.map((f) => f.address),
      ['subnet.main/bad'],
    );
    assert.match(report!.failed[0]!.error!, /^creating subnet "main\/bad": /);
    assert.deepEqual(
      report!.skipped.map((s) => [s.address, s.because]),
      [['route-table.main/private', 'subnet.main/bad']],
    );
    const done = report!.operations
      .filter((o) => o.state === 'done')
      .map((o) => o.address)
      .sort();
    assert.deepEqual(done, ['ssm-parameter./engine-test/independent', 'subnet.main/good', 'vpc.main']);
    const { Parameters } = await t.boto.call('ssm', 'GetParameters', { Names: ['/engine-test/independent'] });
    assert.equal(Parameters.length, 1);

    const fixed = network({ good: '10.4.1.0/24', bad: '10.4.9.0/24' });
    assert.deepEqual(
      Object.entries(actions(await t.plan(fixed))).filter(([, a]) => a !== 'noop'),
      [
        ['subnet.main/bad', 'create'],
        ['route-table.main/private', 'create'],
      ],
    );
    await t.apply(fixed);
    assertNoChanges(await t.plan(fixed));
  });

  it('deletes what is no longer declared, dependents first', async () => {
    await t.apply(network({ a: '10.4.1.0/24', b: '10.4.2.0/24' }));
    t.events.length = 0;
    // Without its VPC: the subnets, the route table and the VPC itself are no longer declared.
    const smaller = new AwsStack('engine-test');
    smaller.addSsmParameter({ name: '/engine-test/independent', value: 'x' });
    const plan = await t.apply(smaller);
    assert.deepEqual(
      plan.resources
        .filter((r) => r.action === 'delete')
        .map((r) => [r.address, r.reason])
        .sort(),
      [
        ['route-table.main/private', 'no longer declared'],
        ['subnet.main/a', 'no longer declared'],
        ['subnet.main/b', 'no longer declared'],
        ['vpc.main', 'no longer declared'],
      ],
    );
    const { before } = timeline(t.events);
    assert.ok(
      before('end route-table.main/private', 'start subnet.main/a'),
      'the table lets go of its subnets first',
    );
    assert.ok(before('end subnet.main/a', 'start vpc.main'));
    assert.ok(before('end subnet.main/b', 'start vpc.main'));
    const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['engine-test'] }],
    });
    assert.equal(Vpcs.length, 0);
  });

  it('matches found resources to their declarations in a destroy plan, even when their names come from references', async () => {
    const stack = () => {
      const aws = new AwsStack('engine-test');
      // A record is known by its zone's id, which is another resource's output.
      const zone = aws.addHostedZone({ name: 'zone', domain: 'engine-test.example' });
      zone.addRecord({ recordName: 'www.engine-test.example', type: 'A', values: ['192.0.2.1'] });
      return aws;
    };
    await t.apply(stack());
    const { plan } = await t.engine(stack()).planDestroy();
    const declared = stack()
      .resources.map((r) => r.address)
      .sort();
    assert.deepEqual(plan.resources.map((r) => r.address).sort(), declared);
    assert.ok(dependedOn(plan, 'hosted-zone.zone'), 'the record goes before its zone');
    await t.destroy(stack());
    const { HostedZones } = await t.boto.call('route53', 'ListHostedZones');
    assert.equal(HostedZones.length, 0);
  });
});
