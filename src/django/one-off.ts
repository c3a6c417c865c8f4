// One-off management commands (migrate, collectstatic, manage) run once with a release's code, wherever the
// app runs: a Fargate task of the release task definition, or an invocation of the published Lambda version.
import type { AwsClients } from '../aws/clients.js';
import { type OperationOptions, type RunTaskResult, runTask } from '../aws/ecs/run-task.js';
import { invokeFunction } from '../aws/lambda/invoke.js';
import type { Manifest } from '../config/manifest.js';
import type { World } from '../core/plan.js';
import { DEFAULT_WAIT_TIMING, waitFor } from '../core/wait.js';
import { WEB_CONTAINER, words } from './blueprint/fargate.js';
import { type AppHandles, outputsOf } from './blueprint/index.js';
import { followLogStream, lastLogLines } from './task-logs.js';

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
  /**
   * Runs the release phase's commands in order in one run (one task start instead of one per command),
   * stopping at the first that fails; `started` hears each command as its output says it starts.
   */
  releasePhase?(commands: ReleaseCommand[], started: (name: string) => void): Promise<ReleasePhaseResult>;
}

export type ReleaseCommand = [name: string, args: string[]];

export interface ReleasePhaseResult extends OneOffResult {
  /** The command the run stopped at (exit code not 0); undefined when its output could not be read. */
  failed?: ReleaseCommand;
}

// Runs in the release's container: each command in order, announced on a line of its own, stopping at the
// first that fails with its exit code (a signal's as a shell reports it). Python is what manage.py needs anyway.
const RELEASE_RUNNER = `import json, subprocess, sys
steps = json.loads(sys.argv[1])
for i, (name, args) in enumerate(steps, 1):
    print(f"[touchdown] release step {i} of {len(steps)}: {name}", flush=True)
    code = subprocess.call([sys.executable, "manage.py", *args])
    if code != 0:
        print(f"[touchdown] release step {i} of {len(steps)} failed: {name} exited with code {code}", flush=True)
        sys.exit(code if code > 0 else 128 - code)
`;
const STEP_LINE = /^\[touchdown\] release step (\d+) of \d+: /;
const FAILED_LINE = /^\[touchdown\] release step (\d+) of \d+ failed: /;

/** The container command that runs the release phase's commands in one task. */
export function releasePhaseCommand(commands: ReleaseCommand[]): string[] {
  return ['python', '-c', RELEASE_RUNNER, JSON.stringify(commands)];
}

/** The command number (from 1) a line of the release runner's output announces, if it is one. */
export function announcedStep(line: string): number | undefined {
  const m = STEP_LINE.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** The command number (from 1) the runner's last line says it stopped at, if it is that line. */
export function failedStep(line: string): number | undefined {
  const m = FAILED_LINE.exec(line);
  return m ? Number(m[1]) : undefined;
}

/**
 * The release phase's management commands, in order: migrate, collectstatic, then the project's own
 * (release.commands). Each must succeed before the next starts, on AWS and in `touchdown up` alike.
 */
export function releaseCommands(m: Manifest): ReleaseCommand[] {
  const commands: ReleaseCommand[] = [];
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
      return taskResult(aws, result);
    },
    async releasePhase(commands, started) {
      // Which command runs is read from the task's output as it comes: CloudWatch has the runner's lines.
      let announced = 0;
      let stoppedAt: number | undefined;
      const heard = (line: string) => {
        stoppedAt ??= failedStep(line);
        const n = announcedStep(line);
        if (n === undefined || n <= announced || n > commands.length) return;
        announced = n;
        started(commands[n - 1]![0]);
      };
      const ended = new AbortController();
      let following: Promise<number> | undefined;
      const onStart: OperationOptions['onStart'] = (run) => {
        options.onStart?.(run);
        if (run.logStream) following = followLogStream(aws, run.logStream, heard, ended.signal);
      };
      try {
        const command = releasePhaseCommand(commands);
        const label = `release phase: ${commands.map(([, args]) => args.join(' ')).join(', then ')}`;
        const result = await runTask(aws, { ...task, command, label }, { ...options, onStart });
        ended.abort();
        await following;
        const ran = taskResult(aws, result);
        // Only the runner's own last line names the command: CloudWatch may still lack the latest announcement.
        if (result.exitCode !== 0 && stoppedAt === undefined && result.logStream)
          stoppedAt = await lastLine(ran, options).catch(() => undefined);
        const failed = stoppedAt === undefined ? undefined : commands[stoppedAt - 1];
        return { ...ran, ...(failed ? { failed } : {}) };
      } finally {
        ended.abort();
      }
    },
  };
}

/** The runner's line saying where it stopped, once CloudWatch has it (it delivers within seconds). */
function lastLine(ran: OneOffResult, options: OperationOptions): Promise<number | undefined> {
  return waitFor(
    {
      what: "the release runner's last line",
      timeoutMs: 20_000,
      check: async () => {
        const n = (await ran.lastLines(5)).map(failedStep).find((x) => x !== undefined);
        return n === undefined ? { done: false, state: 'not in the log yet' } : { done: true, value: n };
      },
    },
    {
      timing: options.timing ?? DEFAULT_WAIT_TIMING,
      signal: options.signal ?? new AbortController().signal,
      progress: () => {},
    },
  );
}

function taskResult(aws: AwsClients, result: RunTaskResult): OneOffResult {
  const stream = result.logStream;
  return {
    exitCode: result.exitCode,
    reason: result.stoppedReason,
    lastLines: async (count) => (stream ? lastLogLines(aws, stream.group, stream.stream, count) : []),
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
