// Before and after of a plan, as the estimate reads them: what exists (found args, references matched by the ids and
// ARNs AWS reported) and what the plan leaves. The worlds here are plain data, as buildPlan makes them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from '../config/load-manifest.js';
import type { Plan, ResourceChange, World } from '../core/plan.js';
import { resolveDeep } from '../core/ref.js';
import type { AnyResourceType } from '../core/resource.js';
import { awsBlueprint } from '../django/blueprint/index.js';
import { costDifference } from './difference.js';
import { estimateCost } from './estimate.js';
import { declaredResources, plannedResources } from './planned.js';
import { PRICE_TABLE } from './prices.js';

const TODAY = new Date(PRICE_TABLE.date);
const stack = awsBlueprint(
  parseManifest(
    'app: shop\ndjango: { settings: shop.settings, wsgi: shop.wsgi }\ndatabase: {}\nweb: { cpu: 512, memory: 1024, count: 2 }\nworkers: { default: { command: celery } }\n',
    'touchdown.yml',
  ),
  { region: 'us-east-1', account: '123456789012', zones: ['us-east-1a', 'us-east-1b'], image: 'shop:v1' },
);

/** What AWS would report for the stack as declared: ARNs with a revision, as task definitions have. */
function existing(): World {
  const outputs = (address: string) => ({
    arn: `arn:aws:test:us-east-1:123456789012:${address}:3`,
    id: `id-${address}`,
  });
  const world: World = { found: new Map(), outputs: new Map() };
  for (const r of stack.resources) {
    const args = resolveDeep(r.args, (s) => outputs(s.address)) as Record<string, unknown>;
    const found = { key: r.address, id: `id-${r.address}`, args, outputs: outputs(r.address) };
    world.found.set(r.address, { type: r.type as AnyResourceType, found });
  }
  return world;
}

function planOf(action: (address: string) => ResourceChange['action']): Plan {
  const resources = stack.resources.map(
    (r): ResourceChange => ({
      address: r.address,
      kind: r.type.kind,
      noun: r.type.noun,
      path: r.path,
      action: action(r.address),
      changes: [],
      dependsOn: [],
    }),
  );
  return {
    format: 'touchdown.plan/1',
    stack: stack.name,
    region: 'us-east-1',
    createdAt: '',
    resources,
    outputs: {},
    summary: { create: 0, update: 0, replace: 0, delete: 0, noop: 0 },
    apiCalls: 0,
  };
}

const estimate = (r: Parameters<typeof estimateCost>[0]) =>
  estimateCost(r, { region: 'us-east-1', today: TODAY });

describe('plan before and after', () => {
  it('a service found in AWS is priced with the task definition its ARN names', () => {
    const world = existing();
    const { before, after } = plannedResources(
      planOf(() => 'noop'),
      world,
      stack,
    );
    const declared = estimate(declaredResources(stack));
    assert.equal(estimate(before).total, declared.total);
    assert.equal(estimate(after).total, declared.total);
    const web = before.find((r) => r.address === 'ecs-service.web')!;
    assert.equal(web.links?.taskDefinition, 'task-definition.web');
    // A reference inside an argument: the queue's deadLetter.targetArn names the dead-letter queue's ARN.
    assert.equal(before.find((r) => r.address === 'queue.celery')?.links?.deadLetter, 'queue.celery-dead');
  });

  it('an update is priced with the declared arguments after and the found ones before', () => {
    const world = existing();
    const db = world.found.get('db-instance.db')!.found;
    db.args = { ...db.args, instanceClass: 'db.t4g.medium' };
    const { before, after } = plannedResources(
      planOf((a) => (a === 'db-instance.db' ? 'update' : 'noop')),
      world,
      stack,
    );
    const d = costDifference(estimate(before), estimate(after));
    const hours = PRICE_TABLE.hoursPerMonth;
    const fig = (k: string) => PRICE_TABLE.baseFigures[k]!.usd;
    assert.equal(d.changes.length, 1, JSON.stringify(d.changes));
    assert.ok(
      Math.abs(d.monthly - hours * (fig('rds.db.t4g.micro') - fig('rds.db.t4g.medium'))) < 0.011,
      String(d.monthly),
    );
  });

  it('destroy: everything found is before, nothing after, so the difference is the whole bill saved', () => {
    const world = existing();
    const { before, after } = plannedResources(
      planOf(() => 'delete'),
      world,
      stack,
    );
    assert.equal(after.length, 0);
    const d = costDifference(estimate(before), estimate(after));
    assert.equal(d.monthly, -estimate(declaredResources(stack)).total);
    assert.ok(
      d.changes.every((c) => c.monthly < 0 && c.what.endsWith('removed')),
      JSON.stringify(d.changes),
    );
  });

  it('a create is priced after only; a noop never found (a partial plan) is neither', () => {
    const world = existing();
    world.found.delete('db-instance.db');
    world.found.delete('ecr-repository.app');
    const { before, after } = plannedResources(
      planOf((a) => (a === 'db-instance.db' ? 'create' : 'noop')),
      world,
      stack,
    );
    assert.ok(!before.some((r) => r.address === 'db-instance.db'));
    assert.ok(after.some((r) => r.address === 'db-instance.db'));
    assert.ok(![...before, ...after].some((r) => r.address === 'ecr-repository.app'));
  });
});
