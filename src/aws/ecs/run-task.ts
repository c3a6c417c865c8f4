// One-off tasks: `manage.py migrate`, `collectstatic`, `createsuperuser`, run once (on Fargate or a cluster's
// instances) from a service's task definition; the release phase waits for the exit code before it shifts traffic.
import { randomUUID } from 'node:crypto';
import type { Container, ContainerDefinition, ECS, Task } from '@aws-sdk/client-ecs';
import { Interrupted } from '../../core/errors.js';
import { DEFAULT_WAIT_TIMING, type WaitTiming, waitFor } from '../../core/wait.js';
import type { AwsClients } from '../clients.js';

export interface RunTaskRequest {
  /** The cluster's name or ARN. */
  cluster: string;
  /** The task definition revision's ARN (or `family:revision`). */
  taskDefinition: string;
  /** The container whose command is run and whose exit code is returned. */
  containerName: string;
  /** Replaces the container's command, e.g. ['python', 'manage.py', 'migrate', '--no-input']. @default the task definition's */
  command?: string[];
  /** What messages call the command (a script passed to `python -c` reads badly). @default the command, joined */
  label?: string;
  /** Added to (or replacing) the container's plain environment for this run. @default {} */
  environment?: Record<string, string>;
  subnetIds: string[];
  securityGroupIds: string[];
  /** Only for public subnets without a NAT: the task needs a route to ECR. @default false */
  assignPublicIp?: boolean;
  /** Runs on this capacity provider's instances (it scales them out if none has room). @default Fargate */
  capacityProvider?: string;
}

export interface RunTaskResult {
  taskArn: string;
  /** The container's exit code; undefined when ECS reports none. */
  exitCode: number | undefined;
  /** Why ECS stopped the task ("Essential container in task exited" for a normal end). */
  stoppedReason: string | undefined;
  /** Where the container's output is, `<prefix>/<container>/<task id>` in its awslogs group. */
  logStream?: { group: string; stream: string };
}

export interface OperationOptions {
  signal?: AbortSignal;
  timing?: WaitTiming;
  progress?: (message: string) => void;
  /** Called once the task is started, with where its output goes (to follow it while it runs). */
  onStart?: (started: { taskId: string; logStream?: { group: string; stream: string } }) => void;
  /** How long the command may run. @default 1 hour */
  timeoutMs?: number;
}

/**
 * Runs the command once in a new task, waits until the task has stopped and returns the
 * container's exit code (a non-zero code is returned, not thrown: the caller decides). Throws when
 * the task never started (the image could not be pulled, a secret could not be read, no capacity),
 * naming ECS's reason, and when it is still running after `timeoutMs`; it is then left running.
 * When `signal` aborts (Ctrl-C) the task is stopped and Interrupted is thrown.
 */
export async function runTask(
  aws: AwsClients,
  request: RunTaskRequest,
  options: OperationOptions = {},
): Promise<RunTaskResult> {
  if (options.signal?.aborted) throw new Interrupted('interrupted before the task started');
  const ecs = await aws.ecs();
  const definition = await containerOf(ecs, request.taskDefinition, request.containerName);
  const environment = Object.entries(request.environment ?? {}).map(([name, value]) => ({ name, value }));
  const { tasks, failures } = await ecs.runTask({
    cluster: request.cluster,
    taskDefinition: request.taskDefinition,
    ...(request.capacityProvider
      ? { capacityProviderStrategy: [{ capacityProvider: request.capacityProvider, weight: 1 }] }
      : { launchType: 'FARGATE' as const }),
    count: 1,
    startedBy: 'touchdown',
    propagateTags: 'TASK_DEFINITION',
    // RunTask is not idempotent without one: a retried call would run the command twice.
    clientToken: randomUUID(),
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: request.subnetIds,
        securityGroups: request.securityGroupIds,
        assignPublicIp: request.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
    },
    overrides: {
      containerOverrides: [
        {
          name: request.containerName,
          ...(request.command ? { command: request.command } : {}),
          ...(environment.length > 0 ? { environment } : {}),
        },
      ],
    },
  });
  const started = tasks?.[0];
  if (!started?.taskArn) {
    const reasons = (failures ?? []).map((f) => [f.reason, f.detail].filter(Boolean).join(': '));
    throw new Error(`ECS started no task: ${reasons.join('; ') || 'no reason given'}`);
  }
  const taskArn = started.taskArn;
  const taskId = taskArn.split('/').at(-1)!;
  const what = request.label
    ? request.label
    : request.command
      ? `"${request.command.join(' ')}"`
      : `container "${request.containerName}"`;
  const logStream = logStreamOf(definition, request.containerName, taskId);
  options.progress?.(`started task ${taskId}`);
  options.onStart?.({ taskId, ...(logStream ? { logStream } : {}) });

  const stopped = await waitFor(
    {
      what: `one-off task ${taskId} (${what}) to finish`,
      timeoutMs: options.timeoutMs ?? 60 * 60_000,
      hint:
        `the task is still running and was left so: follow its output ` +
        (logStream ? `in ${logStream.group}/${logStream.stream} ` : '') +
        `or stop it with aws ecs stop-task --cluster ${request.cluster} --task ${taskId}`,
      check: async () => {
        const { tasks: [task] = [] } = await ecs.describeTasks({
          cluster: request.cluster,
          tasks: [taskArn],
        });
        if (task?.lastStatus === 'STOPPED') return { done: true, value: task };
        return { done: false, state: task?.lastStatus ?? 'not visible yet' };
      },
    },
    {
      timing: options.timing ?? DEFAULT_WAIT_TIMING,
      signal: options.signal ?? new AbortController().signal,
      progress: (state) => options.progress?.(`task ${taskId}: ${state}`),
    },
  ).catch(async (err: unknown) => {
    if (!options.signal?.aborted) throw err;
    // Interrupted (Ctrl-C): a command left running would race the next run's (two migrations at once).
    await ecs.stopTask({
      cluster: request.cluster,
      task: taskArn,
      reason: 'touchdown was interrupted before the command ended',
    });
    throw new Interrupted(`interrupted: stopped task ${taskId} (${what}) before it ended`);
  });

  const container = stopped.containers?.find((c) => c.name === request.containerName);
  if (neverRan(stopped, container)) {
    const why = [stopped.stoppedReason, container?.reason].filter(Boolean).join(': ');
    throw new Error(`task ${taskId} stopped before ${what} ran: ${why || 'no reason given'}`);
  }
  return {
    taskArn,
    exitCode: container?.exitCode ?? undefined,
    stoppedReason: stopped.stoppedReason || undefined,
    ...(logStream ? { logStream } : {}),
  };
}

/** The named container's definition; a wrong name would otherwise surface as an opaque RunTask error. */
async function containerOf(ecs: ECS, taskDefinition: string, name: string): Promise<ContainerDefinition> {
  const { taskDefinition: td } = await ecs.describeTaskDefinition({ taskDefinition });
  const containers = td?.containerDefinitions ?? [];
  const found = containers.find((c) => c.name === name);
  if (!found) {
    throw new Error(
      `the task definition ${taskDefinition} has no container "${name}"; it has ${containers.map((c) => `"${c.name}"`).join(', ')}`,
    );
  }
  return found;
}

/** Failed to start: ECS says so, or the container has a reason (CannotPullContainerError…) and no exit code. */
function neverRan(task: Task, container: Container | undefined): boolean {
  if (task.stopCode === 'TaskFailedToStart') return true;
  return container?.exitCode == null && Boolean(container?.reason);
}

/** Where a container's output is: `<prefix>/<container>/<task id>` in its awslogs group. */
export function logStreamOf(c: ContainerDefinition, name: string, taskId: string) {
  const options = c.logConfiguration?.logDriver === 'awslogs' ? c.logConfiguration.options : undefined;
  const group = options?.['awslogs-group'];
  const prefix = options?.['awslogs-stream-prefix'];
  return group && prefix ? { group, stream: `${prefix}/${name}/${taskId}` } : undefined;
}
