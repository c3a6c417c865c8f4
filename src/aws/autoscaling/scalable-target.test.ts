import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { resourceTypes } from '../registry.js';
import { AwsStack } from '../stack.js';
import { ScalableTarget } from './scalable-target.js';

const t = useLocalAws();
const ADDRESS = 'scalable-target.web';

// The ECS services come from elsewhere: `web` tagged as this stack's (as the stack's ECS service type tags it),
// `worker` someone else's.
let webArn: string;
beforeEach(async () => {
  await t.boto.call('ecs', 'CreateCluster', { clusterName: 'main' });
  await t.boto.call('ecs', 'RegisterTaskDefinition', {
    family: 'web',
    containerDefinitions: [{ name: 'web', image: 'radpress:1', memory: 512 }],
  });
  const web = await t.boto.call('ecs', 'CreateService', {
    cluster: 'main',
    serviceName: 'web',
    taskDefinition: 'web',
    desiredCount: 1,
    tags: [{ key: 'touchdown:stack', value: 'aas-test' }],
  });
  webArn = web.service.serviceArn;
  await t.boto.call('ecs', 'CreateService', {
    cluster: 'main',
    serviceName: 'worker',
    taskDefinition: 'web',
    desiredCount: 1,
  });
});

function scaling(
  o: { resourceId?: string; minCapacity?: number; maxCapacity?: number; declared?: boolean } = {},
) {
  const aws = new AwsStack('aas-test');
  if (o.declared === false) return aws;
  aws.add(ScalableTarget, {
    name: 'web',
    resourceId: o.resourceId ?? 'service/main/web',
    minCapacity: o.minCapacity ?? 1,
    maxCapacity: o.maxCapacity ?? 4,
    tags: { team: 'web' },
  });
  return aws;
}

interface BotoTarget {
  ResourceId: string;
  MinCapacity: number;
  MaxCapacity: number;
  ScalableTargetARN: string;
}

async function targets(): Promise<BotoTarget[]> {
  const { ScalableTargets } = await t.boto.call('application-autoscaling', 'DescribeScalableTargets', {
    ServiceNamespace: 'ecs',
  });
  return ScalableTargets;
}

describe('ScalableTarget', () => {
  it('registers the service with its bounds; a second plan shows no changes, even for an ARN', async () => {
    // moto lacks ListTagsForResource for scalable targets: the Tags sent at registration cannot be read back.
    const plan = await t.apply(scaling());
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [target, ...others] = await targets();
    assert.equal(others.length, 0);
    assert.equal(target!.ResourceId, 'service/main/web');
    assert.equal(target!.MinCapacity, 1);
    assert.equal(target!.MaxCapacity, 4);
    assertNoChanges(await t.plan(scaling()));
    // The service's ARN names the same target: AWS reads it back as service/<cluster>/<service>.
    assertNoChanges(await t.plan(scaling({ resourceId: webArn })));
  });

  it('changes its bounds in place', async () => {
    await t.apply(scaling());
    const [before] = await targets();
    assert.equal(actions(await t.plan(scaling({ maxCapacity: 6 })))[ADDRESS], 'update');
    await t.apply(scaling({ maxCapacity: 6 }));
    const [after, ...others] = await targets();
    assert.equal(others.length, 0);
    assert.equal(after!.ScalableTargetARN, before!.ScalableTargetARN);
    assert.equal(after!.MaxCapacity, 6);
  });

  it('moves to another service by registering it and deregistering the first', async () => {
    await t.apply(scaling());
    // The service is the target's identity (its tags cannot be read), so a move is a new target and an old one.
    const plan = await t.plan(scaling({ resourceId: 'service/main/worker' }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const old = plan.resources.find((r) => r.address === 'scalable-target.service/main/web')!;
    assert.equal(old.action, 'delete');
    assert.equal(old.reason, 'no longer declared');
    await t.apply(scaling({ resourceId: 'service/main/worker' }));
    assert.deepEqual(
      (await targets()).map((x) => x.ResourceId),
      ['service/main/worker'],
    );
  });

  it('is registered again after being deregistered outside Touchdown', async () => {
    await t.apply(scaling());
    await t.boto.call('application-autoscaling', 'DeregisterScalableTarget', {
      ServiceNamespace: 'ecs',
      ResourceId: 'service/main/web',
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    assert.equal(actions(await t.plan(scaling()))[ADDRESS], 'create');
    await t.apply(scaling());
    assert.equal((await targets()).length, 1);
  });

  it('gets its bounds back after they are changed outside Touchdown', async () => {
    await t.apply(scaling());
    await t.boto.call('application-autoscaling', 'RegisterScalableTarget', {
      ServiceNamespace: 'ecs',
      ResourceId: 'service/main/web',
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 2,
    });
    const plan = await t.plan(scaling());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'minCapacity', before: 2, after: 1 },
    ]);
    await t.apply(scaling());
    assert.equal((await targets())[0]!.MinCapacity, 1);
  });

  it("is deleted by destroy, and when no longer declared; another's target stays", async () => {
    await t.boto.call('application-autoscaling', 'RegisterScalableTarget', {
      ServiceNamespace: 'ecs',
      ResourceId: 'service/main/worker',
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 1,
      MaxCapacity: 2,
    });
    await t.apply(scaling());
    const plan = await t.destroy(scaling());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.deepEqual(
      (await targets()).map((x) => x.ResourceId),
      ['service/main/worker'],
    );

    await t.apply(scaling());
    // Found through the stack's own ECS service, though no longer declared (the shared registry lacks the type yet).
    const engine = t.engine(scaling({ declared: false }), { registry: [...resourceTypes, ScalableTarget] });
    assert.deepEqual(actions((await engine.plan()).plan), { 'scalable-target.service/main/web': 'delete' });
    assert.deepEqual((await engine.apply()).report?.failed, []);
    assert.deepEqual(
      (await targets()).map((x) => x.ResourceId),
      ['service/main/worker'],
    );
  });
});
