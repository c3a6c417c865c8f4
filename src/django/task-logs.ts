// Reading the app's logs in CloudWatch: the tail of a one-off task, and `touchdown logs`.
import type { AwsClients } from '../aws/clients.js';
import { ignoreNotFound } from '../aws/errors.js';

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
