import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, type TestAws, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { AwsStack } from '../stack.js';
import { EcsCluster } from './cluster.js';
import { EcsService } from './service.js';
import { TaskDefinition } from './task-definition.js';

const STACK = 'service-test';
const SERVICE = 'service-test-web';
const ROLE = 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole';

type Args = Partial<ArgsInput<typeof EcsService.fields>>;

/** A VPC with one app subnet and group, two clusters, a task definition and the web service. */
function stack(
  service: Args = {},
  {
    cluster = 'main',
    assignPublicIp = false,
    image = 'example/xkcd:v1',
  }: { cluster?: 'main' | 'other'; assignPublicIp?: boolean; image?: string } = {},
) {
  const aws = new AwsStack(STACK);
  const vpc = aws.addVpc({ name: 'net', cidrBlock: '10.3.0.0/16' });
  const subnet = vpc.addSubnet({ name: 'app', cidrBlock: '10.3.1.0/24' });
  const group = vpc.addSecurityGroup({ name: 'app' });
  const clusters = {
    main: aws.add(EcsCluster, { name: 'main' }),
    other: aws.add(EcsCluster, { name: 'other' }),
  };
  const td = aws.add(TaskDefinition, {
    name: 'web',
    executionRoleArn: ROLE,
    containers: [{ name: 'django', image, portMappings: [{ containerPort: 8000 }] }],
  });
  aws.add(EcsService, {
    name: 'web',
    cluster: clusters[cluster].arn,
    taskDefinition: td.arn,
    network: { subnetIds: [subnet.id], securityGroupIds: [group.id], assignPublicIp },
    ...service,
  });
  return aws;
}

interface BotoService {
  serviceName: string;
  status: string;
  clusterArn: string;
  taskDefinition: string;
  desiredCount: number;
  launchType: string;
  propagateTags: string;
  deployments: { id: string; status: string }[];
  deploymentConfiguration?: { minimumHealthyPercent: number };
  networkConfiguration: { awsvpcConfiguration: { subnets: string[]; assignPublicIp: string } };
  tags: { key: string; value: string }[];
}

async function service(t: TestAws, cluster = 'service-test-main'): Promise<BotoService | undefined> {
  const { services } = await t.boto.call('ecs', 'DescribeServices', {
    cluster,
    services: [SERVICE],
    include: ['TAGS'],
  });
  return (services as BotoService[]).find((s) => s.status === 'ACTIVE');
}

describe('ECS service', () => {
  // moto reports one running task per service, so a service of one task is stable at once.
  const t = useLocalAws({ declaredTypesOnly: true, env: { MOTO_ECS_SERVICE_RUNNING: '1' } });

  it('moves to the new task definition revision in the same apply when the image changes', async () => {
    await t.apply(stack());
    const plan = await t.plan(stack({}, { image: 'example/xkcd:v2' }));
    assert.equal(actions(plan)['task-definition.web'], 'update');
    const change = plan.resources.find((r) => r.address === 'ecs-service.web')!;
    assert.equal(change.action, 'update');
    assert.deepEqual(
      change.changes.map((c) => [c.name, c.after]),
      [['taskDefinition', { unknown: true }]],
    );
    await t.apply(stack({}, { image: 'example/xkcd:v2' }));
    assert.match((await service(t))!.taskDefinition, /task-definition\/service-test-web:2$/);
    assertNoChanges(await t.plan(stack({}, { image: 'example/xkcd:v2' })));
  });

  it('is created with its network, revision and tags in the create call, and a second plan shows no changes', async () => {
    const plan = await t.apply(stack({ tags: { team: 'web' } }));
    assert.equal(actions(plan)['ecs-service.web'], 'create');
    const s = await service(t);
    assert.ok(s, 'the service is ACTIVE');
    assert.match(s.taskDefinition, /task-definition\/service-test-web:1$/);
    assert.equal(s.desiredCount, 1);
    assert.equal(s.launchType, 'FARGATE');
    assert.equal(s.propagateTags, 'SERVICE');
    assert.equal(s.networkConfiguration.awsvpcConfiguration.assignPublicIp, 'DISABLED');
    assert.deepEqual(Object.fromEntries(s.tags.map((x) => [x.key, x.value])), {
      'touchdown:stack': STACK,
      'touchdown:resource': 'ecs-service.web',
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    // moto drops deploymentConfiguration and enableExecuteCommand on CreateService: they are compared once reported.
    assertNoChanges(await t.plan(stack({ tags: { team: 'web' } })));
  });

  it('scales without sending the task definition, so the running revision is kept (seed 001, issue 1)', async () => {
    await t.apply(stack());
    const before = await service(t);
    const plan = await t.plan(stack({ desiredCount: 3 }));
    const change = plan.resources.find((r) => r.address === 'ecs-service.web')!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes, [{ name: 'desiredCount', before: 1, after: 3 }]);

    // What went over the wire, seen by the SDK itself.
    const clients = t.aws.clients();
    const sent: Record<string, unknown>[] = [];
    const ecs = await clients.ecs();
    ecs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateServiceCommand') sent.push({ ...(args.input as object) });
        return next(args);
      },
      { step: 'initialize', name: 'spyOnUpdateService' },
    );
    const { report } = await t.engine(stack({ desiredCount: 3 }), { aws: clients }).apply();
    assert.deepEqual(report!.failed, []);
    assert.equal(sent.length, 1);
    assert.deepEqual(Object.keys(sent[0]!).sort(), ['cluster', 'desiredCount', 'service']);

    const after = await service(t);
    assert.equal(after!.desiredCount, 3);
    assert.equal(after!.taskDefinition, before!.taskDefinition, 'the revision is kept');
    assert.deepEqual(
      after!.deployments.map((d) => d.id),
      before!.deployments.map((d) => d.id),
      'no new deployment',
    );
  });

  it('updates its network, tag propagation and tags in place', async () => {
    await t.apply(stack());
    // Deployment settings are compared once AWS reports them; moto reports them only after an UpdateService (below).
    const change = () =>
      stack({ propagateTags: 'TASK_DEFINITION', tags: { env: 'prod' } }, { assignPublicIp: true });
    const plan = await t.plan(change());
    const update = plan.resources.find((r) => r.address === 'ecs-service.web')!;
    assert.equal(update.action, 'update');
    assert.deepEqual(update.changes.map((c) => c.name).sort(), ['network', 'propagateTags', 'tags']);
    await t.apply(change());
    const s = await service(t);
    assert.equal(s!.networkConfiguration.awsvpcConfiguration.assignPublicIp, 'ENABLED');
    assert.equal(s!.propagateTags, 'TASK_DEFINITION');
    assert.ok(s!.tags.some((x) => x.key === 'env' && x.value === 'prod'));
    assertNoChanges(await t.plan(change()));
  });

  it('is replaced when it moves to another cluster, and the plan says why', async () => {
    await t.apply(stack());
    const plan = await t.plan(stack({}, { cluster: 'other' }));
    const change = plan.resources.find((r) => r.address === 'ecs-service.web')!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['cluster']);
    await t.apply(stack({}, { cluster: 'other' }));
    assert.equal(await service(t, 'service-test-main'), undefined, 'gone from the first cluster');
    assert.ok(await service(t, 'service-test-other'));
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(stack());
    await t.boto.call('ecs', 'DeleteService', {
      cluster: 'service-test-main',
      service: SERVICE,
      force: true,
    });
    assert.equal(actions(await t.plan(stack()))['ecs-service.web'], 'create');
    await t.apply(stack());
    assert.ok(await service(t));
  });

  it('is put back after being scaled and reconfigured outside Touchdown', async () => {
    await t.apply(stack());
    await t.boto.call('ecs', 'UpdateService', {
      cluster: 'service-test-main',
      service: SERVICE,
      desiredCount: 4,
      deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 100 },
    });
    const plan = await t.plan(stack());
    const change = plan.resources.find((r) => r.address === 'ecs-service.web')!;
    assert.deepEqual(change.changes.map((c) => c.name).sort(), ['deployment', 'desiredCount']);
    await t.apply(stack());
    const s = await service(t);
    assert.equal(s!.desiredCount, 1);
    assert.equal(s!.deploymentConfiguration!.minimumHealthyPercent, 100);
  });

  it('is deleted by destroy, before its cluster and task definition', async () => {
    await t.apply(stack());
    const plan = await t.destroy(stack());
    assert.equal(actions(plan)['ecs-service.web'], 'delete');
    const { services } = await t.boto.call('ecs', 'DescribeServices', {
      cluster: 'service-test-main',
      services: [SERVICE],
    });
    assert.deepEqual(
      (services as BotoService[]).map((s) => s.status),
      ['INACTIVE'],
    );
    const { clusters } = await t.boto.call('ecs', 'DescribeClusters', { clusters: ['service-test-main'] });
    assert.deepEqual(
      (clusters as { status: string }[]).map((c) => c.status),
      ['INACTIVE'],
    );
  });
});

describe('ECS service that never becomes stable', () => {
  // Without MOTO_ECS_SERVICE_RUNNING, moto's services report no running task, as a crashing container would.
  const t = useLocalAws({ declaredTypesOnly: true });

  it('refuses a blue/green strategy without the target group, rule and role ECS switches with', () => {
    const aws = stack({ deployment: { strategy: 'BLUE_GREEN' } });
    assert.throws(() => aws.check(), /deployment\.strategy: BLUE_GREEN needs a load balancer with blueGreen/);
  });

  it('refuses a capacity provider for Fargate tasks, naming the argument to set', () => {
    const aws = stack({ capacityProvider: 'service-test-instances' });
    assert.throws(
      () => aws.check(),
      /capacityProvider: a provider's instances run EC2 tasks; set launchType: 'EC2'/,
    );
    stack({ capacityProvider: 'service-test-instances', launchType: 'EC2' }).check();
  });

  it('fails the apply at the timeout, naming the service and where to look', async () => {
    const engine = t.engine(stack(), {
      timing: { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000, timeoutFactor: 0.001 },
    });
    const { report } = await engine.apply();
    const failed = report!.failed.map((f) => f.address);
    assert.deepEqual(failed, ['ecs-service.web']);
    const { error, hint } = report!.failed[0]!;
    assert.match(
      error!,
      /^waiting for ECS service "web": gave up waiting for ECS service "web" \(service-test-web\) to become stable after \d+s; it was still "0 of 1 tasks running, deployment IN_PROGRESS"/,
    );
    assert.match(hint!, /aws ecs describe-services --cluster service-test-main --services service-test-web/);
    assert.match(hint!, /--desired-status STOPPED/);
  });
});
