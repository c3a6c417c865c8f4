// One-off management commands (migrate, collectstatic, manage) run once with a release's code, wherever the
// app runs: a Fargate task of the release task definition, or an invocation of the published Lambda version.
import type { AwsClients } from '../aws/clients.js';
import { type OperationOptions, runTask } from '../aws/ecs/run-task.js';
import { invokeFunction } from '../aws/lambda/invoke.js';
import type { Manifest } from '../config/manifest.js';
import type { World } from '../core/plan.js';
import { WEB_CONTAINER, words } from './blueprint/fargate.js';
import { type AppHandles, outputsOf } from './blueprint/index.js';
import { lastLogLines } from './task-logs.js';

export interface OneOffResult {
  /** Undefined when the command never came to an end of its own (the task did not start, the function raised). */
  exitCode: number | undefined;
  /** Why there is no exit code. */
  reason?: string;
  /** The command's last lines of output. */
  lastLines(count: number): Promise<string[]>;
}

export interface OneOffRunner {
  /** Runs `manage.py <args>` once and waits for it to end; a failing command is a result, not a throw. */
  manage(args: string[]): Promise<OneOffResult>;
}

/**
 * The release phase's management commands, in order: migrate, collectstatic, then the project's own
 * (release.commands). Each must succeed before the next starts, on AWS and in `touchdown up` alike.
 */
export function releaseCommands(m: Manifest): [name: string, args: string[]][] {
  const commands: [string, string[]][] = [];
  if (m.release.migrate && m.database) commands.push(['migrate', ['migrate', '--noinput']]);
  if (m.release.collectstatic && m.buckets.static)
    commands.push(['collectstatic', ['collectstatic', '--noinput']]);
  for (const command of m.release.commands) {
    const args = words(command);
    // Named by the command and what it acts on ("loaddata initial.json"): a step the user recognises.
    commands.push([args.join(' '), args]);
  }
  return commands;
}

/** Where and how one-off commands run on ECS: the release task definition in the app's network. */
export function oneOffTask(world: World, h: AppHandles) {
  const c = h.containers;
  return {
    cluster: String(outputsOf(world, c?.cluster)?.arn),
    taskDefinition: String(outputsOf(world, c?.taskDefinitions.release)?.arn),
    containerName: WEB_CONTAINER,
    subnetIds: h.app.subnets.map((s) => String(outputsOf(world, s)?.id)),
    securityGroupIds: [String(outputsOf(world, h.app.securityGroup)?.id)],
    // Without a NAT the app subnets are public: a task needs its own address to reach ECR.
    assignPublicIp: h.app.public,
    // web.compute ec2: on the stack's own instances, through their capacity provider.
    capacityProvider: outputsOf(world, c?.capacityProvider)?.name,
  };
}

export function ecsRunner(
  aws: AwsClients,
  task: ReturnType<typeof oneOffTask>,
  options: OperationOptions,
): OneOffRunner {
  return {
    async manage(args) {
      const result = await runTask(aws, { ...task, command: ['python', 'manage.py', ...args] }, options);
      const stream = result.logStream;
      return {
        exitCode: result.exitCode,
        reason: result.stoppedReason,
        lastLines: async (count) => (stream ? lastLogLines(aws, stream.group, stream.stream, count) : []),
      };
    },
  };
}

/** Sends Touchdown's manage event to one published version of the function (see touchdown_lambda.py). */
export function lambdaRunner(
  aws: AwsClients,
  functionName: string,
  version: string,
  options: OperationOptions,
): OneOffRunner {
  return {
    async manage(args) {
      const answer = await invokeFunction(
        aws,
        { functionName, qualifier: version, payload: { touchdown: 'manage', args } },
        options,
      );
      const tail = (lines: string[]) => async (count: number) => lines.slice(-count);
      if (answer.functionError) {
        const e = answer.payload as { errorType?: string; errorMessage?: string; stackTrace?: string[] };
        return {
          exitCode: undefined,
          reason: `the function failed: ${[e?.errorType, e?.errorMessage].filter(Boolean).join(': ') || answer.functionError}`,
          lastLines: tail([...(e?.stackTrace ?? []), ...answer.logTail]),
        };
      }
      const result = answer.payload as { exitCode?: unknown; output?: unknown } | undefined;
      if (typeof result?.exitCode !== 'number') {
        return {
          exitCode: undefined,
          reason: `the function answered without an exit code: ${JSON.stringify(answer.payload).slice(0, 200)}`,
          lastLines: tail(answer.logTail),
        };
      }
      return {
        exitCode: result.exitCode,
        lastLines: tail(
          String(result.output ?? '')
            .split('\n')
            .filter(Boolean),
        ),
      };
    },
  };
}
