// Reading the app's logs in CloudWatch: the tail of a one-off task, and `touchdown logs`.
import type { AwsClients } from '../aws/clients.js';
import { logStreamOf } from '../aws/ecs/run-task.js';
import { ignoreNotFound } from '../aws/errors.js';
import { allPages } from '../aws/pages.js';
import { sleep } from '../core/wait.js';

/** The last lines a container wrote, oldest first. */
export async function lastLogLines(
  aws: AwsClients,
  group: string,
  stream: string,
  count: number,
): Promise<string[]> {
  const logs = await aws.logs();
  const page = await ignoreNotFound(
    logs.getLogEvents({ logGroupName: group, logStreamName: stream, limit: count, startFromHead: false }),
  );
  return (page?.events ?? []).map((e) => e.message ?? '');
}

/**
 * Prints a container's lines as CloudWatch receives them, until `stop` aborts; then reads once more for what
 * it wrote before it stopped. A stream that does not exist yet (the task is starting) is not an error.
 */
export async function followLogStream(
  aws: AwsClients,
  where: { group: string; stream: string },
  print: (line: string) => void,
  stop: AbortSignal,
  everyMs = 2_000,
): Promise<number> {
  const logs = await aws.logs();
  let token: string | undefined;
  let printed = 0;
  const drain = async () => {
    for (;;) {
      const page = await ignoreNotFound(
        logs.getLogEvents({
          logGroupName: where.group,
          logStreamName: where.stream,
          startFromHead: true,
          nextToken: token,
        }),
      );
      const events = page?.events ?? [];
      for (const e of events) print(e.message ?? '');
      printed += events.length;
      // The forward token stays the same once the end of the stream is reached.
      if (!page?.nextForwardToken || events.length === 0) return;
      token = page.nextForwardToken;
    }
  };
  while (!stop.aborted) {
    await drain();
    await sleep(everyMs, stop).catch(() => {});
  }
  await drain();
  return printed;
}

/**
 * The last lines of the task of these task definitions that stopped last: why a deployment's tasks failed
 * (the app would not start, or answered the load balancer's health check wrongly).
 */
export async function lastLinesOfStoppedTask(
  aws: AwsClients,
  cluster: string,
  taskDefinitionArns: string[],
  count: number,
): Promise<string[]> {
  const ecs = await aws.ecs();
  const arns = await allPages(
    (nextToken) => ecs.listTasks({ cluster, desiredStatus: 'STOPPED', nextToken }),
    (page) => page.taskArns,
    (page) => page.nextToken,
  );
  const tasks = [];
  for (let i = 0; i < arns.length; i += 100) {
    const page = await ecs.describeTasks({ cluster, tasks: arns.slice(i, i + 100) });
    tasks.push(...(page.tasks ?? []));
  }
  const last = tasks
    .filter((t) => taskDefinitionArns.includes(t.taskDefinitionArn ?? ''))
    .sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0))[0];
  if (!last?.taskArn || !last.taskDefinitionArn) return [];
  const { taskDefinition } = await ecs.describeTaskDefinition({ taskDefinition: last.taskDefinitionArn });
  const container = taskDefinition?.containerDefinitions?.[0];
  const stream = container?.name && logStreamOf(container, container.name, last.taskArn.split('/').at(-1)!);
  const reason = `task ${last.taskArn.split('/').at(-1)} stopped: ${last.stoppedReason ?? 'no reason given'}`;
  return [...(stream ? await lastLogLines(aws, stream.group, stream.stream, count) : []), reason];
}

export interface LogLine {
  time: number;
  group: string;
  stream: string;
  message: string;
}

/** Lines from several log groups since a time, optionally matching a CloudWatch filter pattern, oldest first. */
export async function readLogs(
  aws: AwsClients,
  groups: string[],
  options: { since: number; filter?: string; until?: number },
): Promise<LogLine[]> {
  const logs = await aws.logs();
  const lines: LogLine[] = [];
  for (const group of groups) {
    let nextToken: string | undefined;
    do {
      const page = await ignoreNotFound(
        logs.filterLogEvents({
          logGroupName: group,
          startTime: options.since,
          endTime: options.until,
          filterPattern: options.filter,
          nextToken,
        }),
      );
      for (const e of page?.events ?? []) {
        lines.push({
          time: e.timestamp ?? 0,
          group,
          stream: e.logStreamName ?? '',
          message: e.message ?? '',
        });
      }
      nextToken = page?.nextToken;
    } while (nextToken);
  }
  return lines.sort((a, b) => a.time - b.time);
}
