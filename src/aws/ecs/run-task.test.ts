import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { EcsCluster } from './cluster.js';
import { type RunTaskRequest, runTask } from './run-task.js';
import { TaskDefinition } from './task-definition.js';

const t = useLocalAws({ declaredTypesOnly: true });
const FAST = { initialDelayMs: 10, maxDelayMs: 50, defaultTimeoutMs: 30_000 };
const MIGRATE = ['python', 'manage.py', 'migrate', '--no-input'];

/** The network, cluster and task definition a release phase runs `migrate` with. */
function stack() {
  const aws = new AwsStack('run-task-test');
  // A Touchdown VPC has DNS hostnames on, which moto needs to give a task its network interface.
  const vpc = aws.addVpc({ name: 'net', cidrBlock: '10.4.0.0/16' });
  const subnet = vpc.addSubnet({ name: 'app', cidrBlock: '10.4.1.0/24' });
  const group = vpc.addSecurityGroup({ name: 'app' });
  const cluster = aws.add(EcsCluster, { name: 'main' });
  const td = aws.add(TaskDefinition, {
    name: 'web',
    executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
    containers: [{ name: 'django', image: 'example/xkcd:v1', logGroup: '/run-task-test/web' }],
  });
  aws.output('cluster', cluster.name);
  aws.output('taskDefinition', td.arn);
  aws.output('subnet', subnet.id);
  aws.output('group', group.id);
  return aws;
}

async function deployed(): Promise<RunTaskRequest> {
  await t.apply(stack());
  const out = (await t.engine(stack()).outputs()) as Record<string, string>;
  return {
    cluster: out.cluster!,
    taskDefinition: out.taskDefinition!,
    containerName: 'django',
    subnetIds: [out.subnet!],
    securityGroupIds: [out.group!],
  };
}

describe('runTask', () => {
  // The state manager outlives moto's reset: put ECS tasks back to one step per DescribeTasks.
  afterEach(() => t.aws.setTransition('ecs::task', { progression: 'manual', times: 1 }));

  it('runs a one-off task, waits through its states until it stops, and returns the exit code', async () => {
    const request = await deployed();
    // Each state lasts two DescribeTasks calls.
    await t.aws.setTransition('ecs::task', { progression: 'manual', times: 2 });
    const seen: string[] = [];
    const result = await runTask(
      t.aws.clients(),
      { ...request, command: MIGRATE, environment: { RELEASE: 'v1' } },
      { timing: FAST, progress: (m) => seen.push(m) },
    );
    const taskId = result.taskArn.split('/').at(-1)!;
    const states = seen.map((m) => m.split(': ')[1]).filter((s, i, all) => s && s !== all[i - 1]);
    assert.deepEqual(states, ['RUNNING', 'DEACTIVATING', 'STOPPING', 'DEPROVISIONING']);
    // moto runs no container and reports exit code 0 for every task.
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.logStream, { group: '/run-task-test/web', stream: `ecs/django/${taskId}` });

    const { tasks } = await t.boto.call('ecs', 'DescribeTasks', {
      cluster: request.cluster,
      tasks: [result.taskArn],
    });
    const [task] = tasks;
    assert.equal(task.lastStatus, 'STOPPED');
    assert.equal(task.launchType, 'FARGATE');
    assert.equal(task.startedBy, 'touchdown');
    assert.equal(task.taskDefinitionArn, request.taskDefinition);
    assert.deepEqual(task.overrides.containerOverrides, [
      { name: 'django', command: MIGRATE, environment: [{ name: 'RELEASE', value: 'v1' }] },
    ]);
  });

  it('gives up at its timeout with the task named, left running, and how to follow or stop it', async () => {
    const request = await deployed();
    await t.aws.setTransition('ecs::task', { progression: 'manual', times: 1_000_000 });
    await assert.rejects(
      runTask(t.aws.clients(), { ...request, command: MIGRATE }, { timing: FAST, timeoutMs: 300 }),
      (err: Error) => {
        assert.match(
          err.message,
          /^gave up waiting for one-off task [0-9a-f-]+ \("python manage.py migrate --no-input"\) to finish after \d+ms; it was still "RUNNING"/,
        );
        assert.match(
          err.message,
          /left so: follow its output in \/run-task-test\/web\/ecs\/django\/[0-9a-f-]+/,
        );
        assert.match(err.message, /aws ecs stop-task --cluster run-task-test-main --task [0-9a-f-]+/);
        return true;
      },
    );
  });

  // A task that never starts (stopCode TaskFailedToStart) cannot be staged: moto sets no stopCode.

  it('refuses a container the task definition does not have, before running anything', async () => {
    const request = await deployed();
    await assert.rejects(runTask(t.aws.clients(), { ...request, containerName: 'web' }, { timing: FAST }), {
      message: /has no container "web"; it has "django"/,
    });
    const { taskArns } = await t.boto.call('ecs', 'ListTasks', { cluster: request.cluster });
    assert.deepEqual(taskArns, []);
  });
});
