// EventBridge Scheduler schedule: seed 002's nightly jobs, a Django management command run as an ECS task
// (or a Lambda function invoked) on a cron, a rate or once.
import { randomUUID } from 'node:crypto';
import type { GetScheduleOutput, Scheduler, Target } from '@aws-sdk/client-scheduler';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext, type Wanted } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { afterIamPropagation } from '../iam/propagation.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';

// ---- schedule expressions, checked as AWS would check them, with what is wrong ----

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Characters beyond `, - * /` this field allows. */
  extra?: RegExp;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const CRON_FIELDS: CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  // L (last day), LW (last weekday), 15W (weekday nearest the 15th).
  { name: 'day-of-month', min: 1, max: 31, extra: /^(L|LW|\d{1,2}W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 6L or FRIL (last Friday), 6#3 or FRI#3 (third Friday).
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAYS,
    extra: new RegExp(`^(L|([1-7]|${DAYS.join('|')})(L|#[1-5]))$`),
  },
  { name: 'year', min: 1970, max: 2199 },
];
const CRON_EXAMPLE = 'cron(0 3 * * ? *) runs at 03:00 every day';

/** What is wrong with a cron body (`0 3 * * ? *`), or undefined. */
export function cronProblem(body: string): string | undefined {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    return `has ${parts.length} fields; AWS's cron takes six (minutes hours day-of-month month day-of-week year), e.g. ${CRON_EXAMPLE}`;
  }
  for (const [i, spec] of CRON_FIELDS.entries()) {
    const problem = cronFieldProblem(parts[i]!, spec);
    if (problem) return `${spec.name} "${parts[i]}": ${problem}`;
  }
  const [dom, dow] = [parts[2]!, parts[4]!];
  if ((dom === '?') === (dow === '?')) {
    return `day-of-month "${dom}" and day-of-week "${dow}": exactly one of them must be ?, e.g. ${CRON_EXAMPLE}`;
  }
  return undefined;
}

function cronFieldProblem(value: string, spec: CronField): string | undefined {
  if (value === '?') {
    return spec.name === 'day-of-month' || spec.name === 'day-of-week'
      ? undefined
      : '? is only for day-of-month or day-of-week; use *';
  }
  for (const item of value.split(',')) {
    if (spec.extra?.test(item.toUpperCase())) continue;
    const [range, step, ...rest] = item.split('/');
    if (rest.length > 0 || step === '') return `"${item}" has a malformed step; write it like */5`;
    if (step !== undefined && !/^\d+$/.test(step)) return `step "${step}" is not a whole number`;
    if (range === '*') continue;
    const ends = range!.split('-');
    if (ends.length > 2) return `"${item}" is not a value or a range like 1-5`;
    for (const end of ends) {
      const n = cronValue(end, spec);
      if (n === undefined) {
        const named = spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : '';
        return `"${end}" is not a number ${spec.min}-${spec.max}${named}`;
      }
      if (n < spec.min || n > spec.max) return `${end} is outside ${spec.min}-${spec.max}`;
    }
  }
  return undefined;
}

function cronValue(text: string, spec: CronField): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const i = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  return i >= 0 ? i + 1 : undefined;
}

/** What is wrong with a schedule expression, or undefined. */
export function expressionProblem(expression: string): string | undefined {
  const m = /^(cron|rate|at)\((.*)\)$/.exec(expression.trim());
  if (!m)
    return 'write cron(minutes hours day-of-month month day-of-week year), rate(1 day) or at(2030-01-31T03:00:00)';
  const [, kind, body] = m;
  if (kind === 'cron') return cronProblem(body!);
  if (kind === 'rate') {
    const r = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body!.trim());
    if (!r) return `rate(${body}): write a whole number and minute(s), hour(s) or day(s), e.g. rate(6 hours)`;
    const n = Number(r[1]);
    if (n < 1) return `rate(${body}): the value must be at least 1`;
    const plural = r[2]!.endsWith('s');
    if (n === 1 && plural)
      return `rate(${body}): use the singular with 1, e.g. rate(1 ${r[2]!.slice(0, -1)})`;
    if (n > 1 && !plural) return `rate(${body}): use the plural above 1, e.g. rate(${n} ${r[2]}s)`;
    return undefined;
  }
  const at = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body!);
  if (!at || Number.isNaN(Date.parse(`${body}Z`))) {
    return `at(${body}): write a date and time like at(2030-01-31T03:00:00), in the schedule's timezone`;
  }
  return undefined;
}

const expression = () =>
  z.string().superRefine((value, ctx) => {
    const problem = expressionProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `"${value}" ${problem}` });
  });

const timezone = () =>
  z
    .string()
    .refine(
      (tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      },
      { message: 'not a time zone AWS knows; write an IANA name like Europe/London or UTC' },
    )
    .default('UTC');

// ---- the resource ----

const ecsTask = z.strictObject({
  /** The cluster (its ARN) the task runs in. */
  clusterArn: input(z.string().startsWith('arn:')),
  /** The task definition (its ARN, with revision) to run. */
  taskDefinitionArn: input(z.string().startsWith('arn:')),
  /** Subnets of the task's network interface (the app subnets). */
  subnetIds: z.array(input(z.string())).min(1),
  /** Security groups of the task's network interface. */
  securityGroupIds: z.array(input(z.string())).min(1),
  /** @default false: tasks in private subnets reach the internet through NAT. */
  assignPublicIp: z.boolean().default(false),
  /** The container whose command is replaced. */
  containerName: z.string().min(1),
  /** The command to run instead of the image's, e.g. ['python', 'manage.py', 'clearsessions']. */
  command: z.array(z.string()).min(1),
  /** Runs on this capacity provider's instances (an EcsCapacityProvider's name). @default Fargate */
  capacityProvider: input(z.string().min(1)).optional(),
});

const lambda = z.strictObject({
  /** The function (its ARN) to invoke. */
  functionArn: input(z.string().startsWith('arn:')),
  /** The event it receives, as JSON. @default none */
  input: z.json().optional(),
});

const target = z
  .strictObject({ ecsTask: ecsTask.optional(), lambda: lambda.optional() })
  .refine((t) => (t.ecsTask === undefined) !== (t.lambda === undefined), {
    message: 'give exactly one of ecsTask or lambda',
  });

/** Network lists compare as sets. */
function normalizeTarget(value: unknown): unknown {
  const t = value as { ecsTask?: Record<string, unknown> };
  if (typeof t?.ecsTask !== 'object' || t.ecsTask === null) return value;
  const sorted = (v: unknown) => (Array.isArray(v) ? [...v].map(String).sort() : v);
  return {
    ...t,
    ecsTask: {
      ...t.ecsTask,
      subnetIds: sorted(t.ecsTask.subnetIds),
      securityGroupIds: sorted(t.ecsTask.securityGroupIds),
    },
  };
}

const fields = {
  /** The schedule's label; AWS's name is `<stack>.<name>`. Changing it means a new schedule. */
  name: field(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[0-9A-Za-z_.-]+$/, 'use letters, digits and _.- only'),
  ),
  /** @default 'default': the schedule group (it must exist). Changing it means a new schedule. */
  groupName: field(z.string().min(1).max(64).default('default'), { replace: true }),
  /** When: `cron(0 3 * * ? *)` (six fields, as AWS writes cron), `rate(1 day)` or `at(2030-01-31T03:00:00)`. */
  expression: field(expression()),
  /** @default 'UTC': the IANA time zone the expression is read in, e.g. 'Europe/London'. */
  timezone: field(timezone()),
  /** @default 'ENABLED' */
  state: field(z.enum(['ENABLED', 'DISABLED']).default('ENABLED')),
  /** @default 'off' (on time): or minutes (1 to 1440) AWS may spread the run over. */
  flexibleWindowMinutes: field(z.union([z.literal('off'), z.number().int().min(1).max(1440)]).default('off')),
  /** What runs: an ECS task with a command (`{ ecsTask: {...} }`) or a Lambda function (`{ lambda: {...} }`). */
  target: field(target, { normalize: normalizeTarget }),
  /** The role (its ARN) the scheduler assumes to start the target: it needs ecs:RunTask and iam:PassRole, or lambda:InvokeFunction. */
  roleArn: field(input(z.string().startsWith('arn:'))),
  /** @default no retries, and events older than a day dropped. */
  retryPolicy: field(
    z
      .strictObject({
        /** @default 0: a nightly job that failed runs again the next night, not twice now. */
        maximumRetryAttempts: z.number().int().min(0).max(185).default(0),
        /** @default 86400: how long, in seconds, a run may wait to be started. */
        maximumEventAgeSeconds: z.number().int().min(60).max(86400).default(86400),
      })
      .prefault({}),
  ),
  /** An SQS queue (its ARN) that receives runs that could not be started. @default none */
  deadLetterArn: field(input(z.string().startsWith('arn:')).optional()),
};

export interface ScheduleOutputs {
  arn: string;
  /** The schedule's name in AWS: `<stack>.<name>`. */
  name: string;
}

type Args = ArgsOf<typeof fields>;
type ScheduleFound = Found<Args, ScheduleOutputs>;

export const Schedule = defineResourceType({
  kind: 'schedule',
  noun: 'schedule',
  fields,
  outputs: ['arn', 'name'],
  defaultOutput: 'arn',
  // CreateSchedule takes no tags (only schedule groups do): found by a name that starts with the stack's. AWS knows a
  // schedule by group and name; the key is the name alone, so that a move to another group plans as a replacement.
  identity: { by: 'name', name: (args) => args.name },

  async find(ctx, wanted) {
    const scheduler = await ctx.aws.scheduler();
    const prefix = `${ctx.stack}.`;
    const listed = await allPages(
      (NextToken) => scheduler.listSchedules({ NamePrefix: prefix, MaxResults: 100, NextToken }),
      (p) => p.Schedules,
    );
    const keys = declaredKeys(ctx.stack, wanted);
    // ListSchedules gives names only: one GetSchedule each, the only way to read a schedule's target.
    const limit = pLimit(8);
    const found = await Promise.all(
      listed
        .filter((s) => s.Name?.startsWith(prefix))
        .map((s) =>
          limit(async () => {
            const got = await ignoreNotFound(
              scheduler.getSchedule({ Name: s.Name!, GroupName: s.GroupName }),
            );
            const key = keys.get(s.Name!) ?? s.Name!.slice(prefix.length);
            return got && read(got, key);
          }),
        ),
    );
    return found.filter((f) => f !== undefined);
  },

  async create(ctx, args) {
    const scheduler = await ctx.aws.scheduler();
    const name = scheduleName(ctx.stack, args.name);
    const ClientToken = randomUUID();
    // A scheduler role made a moment ago may not be assumable by EventBridge Scheduler yet.
    await afterIamPropagation(ctx, SCHEDULER_ROLE_USER, () =>
      scheduler.createSchedule({ ...request(name, args), ClientToken }),
    );
    return fresh(ctx, scheduler, name, args);
  },

  async update(ctx, found, args) {
    const scheduler = await ctx.aws.scheduler();
    // UpdateSchedule replaces the whole definition: send all of it.
    const ClientToken = randomUUID();
    await afterIamPropagation(ctx, SCHEDULER_ROLE_USER, () =>
      scheduler.updateSchedule({ ...request(found.outputs.name, args), ClientToken }),
    );
    return fresh(ctx, scheduler, found.outputs.name, args);
  },

  async delete(ctx, found) {
    const scheduler = await ctx.aws.scheduler();
    await ignoreNotFound(
      scheduler.deleteSchedule({
        Name: found.outputs.name,
        GroupName: found.args.groupName,
        ClientToken: randomUUID(),
      }),
    );
  },
});

/**
 * `xkcd-prod` + `clearsessions` → `xkcd-prod.clearsessions`, cut with a hash to AWS's 64. A dot never appears in a
 * stack name, so one stack's prefix never matches another's names (as `xkcd-` would match `xkcd-prod-…`).
 */
function scheduleName(stack: string, name: string): string {
  return `${stack}.${physicalName('', name, { max: 64 - stack.length - 1, allowed: /[0-9A-Za-z_.-]/ })}`;
}

/** Which declared schedule each AWS name belongs to (a long name is cut with a hash, so it cannot be read back). */
function declaredKeys(stack: string, wanted: Wanted<Args>[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const w of wanted) {
    if (typeof w.args.name === 'string' && w.key !== undefined)
      keys.set(scheduleName(stack, w.args.name), w.key);
  }
  return keys;
}

function request(name: string, args: Args) {
  const window = args.flexibleWindowMinutes;
  return {
    Name: name,
    GroupName: args.groupName,
    ScheduleExpression: args.expression,
    ScheduleExpressionTimezone: args.timezone,
    State: args.state,
    FlexibleTimeWindow:
      window === 'off'
        ? { Mode: 'OFF' as const }
        : { Mode: 'FLEXIBLE' as const, MaximumWindowInMinutes: window },
    Target: targetRequest(args),
  };
}

function targetRequest(args: Args): Target {
  const common = {
    RoleArn: args.roleArn,
    RetryPolicy: {
      MaximumRetryAttempts: args.retryPolicy.maximumRetryAttempts,
      MaximumEventAgeInSeconds: args.retryPolicy.maximumEventAgeSeconds,
    },
    DeadLetterConfig: args.deadLetterArn ? { Arn: args.deadLetterArn } : undefined,
  };
  const task = args.target.ecsTask;
  if (task) {
    // The templated ECS target (EcsParameters) documents no container overrides. The universal target calls
    // RunTask with Input as its request, command override included:
    // https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html
    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
    const partition = task.clusterArn.split(':')[1] ?? 'aws';
    return { ...common, Arn: runTaskTarget(partition), Input: JSON.stringify(runTaskRequest(task)) };
  }
  const fn = args.target.lambda!;
  return {
    ...common,
    Arn: fn.functionArn,
    Input: fn.input === undefined ? undefined : JSON.stringify(fn.input),
  };
}

type EcsTask = z.output<typeof ecsTask>;

/** What a universal RunTask target's Input holds, as read back. */
interface RunTaskInput {
  cluster?: string;
  taskDefinition?: string;
  capacityProviderStrategy?: { capacityProvider?: string }[];
  networkConfiguration?: {
    awsvpcConfiguration?: { subnets?: string[]; securityGroups?: string[]; assignPublicIp?: string };
  };
  overrides?: { containerOverrides?: { name?: string; command?: string[] }[] };
}

/** The universal target that calls ECS RunTask. */
const runTaskTarget = (partition: string) => `arn:${partition}:scheduler:::aws-sdk:ecs:runTask`;

/** RunTask's request, in the member names of ECS's API reference. */
function runTaskRequest(task: EcsTask) {
  return {
    cluster: task.clusterArn,
    taskDefinition: task.taskDefinitionArn,
    count: 1,
    ...(task.capacityProvider
      ? { capacityProviderStrategy: [{ capacityProvider: task.capacityProvider, weight: 1 }] }
      : { launchType: 'FARGATE' }),
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: task.subnetIds,
        securityGroups: task.securityGroupIds,
        assignPublicIp: task.assignPublicIp ? 'ENABLED' : 'DISABLED',
      },
    },
    overrides: { containerOverrides: [{ name: task.containerName, command: task.command }] },
  };
}

/** EventBridge Scheduler assumes the schedule's role when the schedule is made or changed. */
const SCHEDULER_ROLE_USER = {
  noun: 'schedule',
  service: 'EventBridge Scheduler',
  principal: 'scheduler.amazonaws.com',
};

/** The schedule as AWS has it, right after a write. */
async function fresh(ctx: OpContext, scheduler: Scheduler, name: string, args: Args): Promise<ScheduleFound> {
  return ctx.wait({
    what: `schedule "${ctx.path}" to be readable`,
    timeoutMs: 60_000,
    check: async () => {
      const got = await ignoreNotFound(scheduler.getSchedule({ Name: name, GroupName: args.groupName }));
      return got ? { done: true, value: read(got, args.name) } : { done: false, state: 'not visible yet' };
    },
  });
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readTarget(t: Target | undefined): Args['target'] {
  if (t?.Arn?.endsWith(':aws-sdk:ecs:runTask')) {
    const run = (parseJson(t.Input) ?? {}) as RunTaskInput;
    const net = run.networkConfiguration?.awsvpcConfiguration;
    const container = run.overrides?.containerOverrides?.[0];
    const provider = run.capacityProviderStrategy?.[0]?.capacityProvider;
    return {
      ecsTask: {
        clusterArn: run.cluster as string,
        taskDefinitionArn: run.taskDefinition as string,
        subnetIds: net?.subnets ?? [],
        securityGroupIds: net?.securityGroups ?? [],
        assignPublicIp: net?.assignPublicIp === 'ENABLED',
        containerName: container?.name as string,
        command: container?.command as string[],
        capacityProvider: provider,
      },
    };
  }
  const ecs = t?.EcsParameters;
  if (!ecs) {
    return {
      lambda: { functionArn: t?.Arn ?? '', input: parseJson(t?.Input) as z.output<typeof lambda>['input'] },
    };
  }
  // A schedule made with the templated target, before: its Input is not documented to reach the container,
  // so it reads as running no command, and the plan moves it to the universal target.
  const net = ecs.NetworkConfiguration?.awsvpcConfiguration;
  return {
    ecsTask: {
      clusterArn: t!.Arn!,
      taskDefinitionArn: ecs.TaskDefinitionArn!,
      subnetIds: net?.Subnets ?? [],
      securityGroupIds: net?.SecurityGroups ?? [],
      assignPublicIp: net?.AssignPublicIp === 'ENABLED',
      containerName: '',
      command: [],
      capacityProvider: ecs.CapacityProviderStrategy?.[0]?.capacityProvider,
    },
  };
}

function read(s: GetScheduleOutput, key: string): ScheduleFound {
  const window = s.FlexibleTimeWindow;
  const retry = s.Target?.RetryPolicy;
  return {
    key,
    id: s.Arn!,
    args: {
      groupName: s.GroupName ?? 'default',
      expression: s.ScheduleExpression,
      timezone: s.ScheduleExpressionTimezone ?? 'UTC',
      state: s.State as Args['state'],
      flexibleWindowMinutes: window?.Mode === 'FLEXIBLE' ? window.MaximumWindowInMinutes! : 'off',
      target: readTarget(s.Target),
      roleArn: s.Target?.RoleArn,
      retryPolicy: {
        // AWS's own defaults where none is stored: 185 retries within a day.
        maximumRetryAttempts: retry?.MaximumRetryAttempts ?? 185,
        maximumEventAgeSeconds: retry?.MaximumEventAgeInSeconds ?? 86400,
      },
      deadLetterArn: s.Target?.DeadLetterConfig?.Arn,
    },
    outputs: { arn: s.Arn!, name: s.Name! },
  };
}
