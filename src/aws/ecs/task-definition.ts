// ECS task definition: what a Fargate (or EC2) task runs (images, commands, environment, secrets by reference,
// logs). AWS never changes one in place: every change registers a new revision of the same family,
// and the revision it replaces is deregistered.
import type {
  TaskDefinition as AwsTaskDefinition,
  ContainerDefinition,
  ECS,
  RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { diffArgs } from '../../core/diff.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { createOnce, ownedHere } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { RESOURCE_TAG, type TagMap } from '../tags.js';
import {
  chunks,
  ecsName,
  ecsTagList,
  ecsTagMap,
  ecsUserTags,
  stackEcsResources,
  updateEcsTags,
} from './common.js';

/** Where a container's logs go in its log group: `<prefix>/<container>/<task id>`. */
const DEFAULT_LOG_PREFIX = 'ecs';

const envName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'environment names use letters, digits and _, not starting with a digit',
  );

/** An SSM parameter's or a Secrets Manager secret's ARN: the container reads the value at start. */
const secretReference = z
  .string()
  .regex(
    /^arn:[^:]+:(ssm:[^:]*:\d*:parameter\/.+|secretsmanager:[^:]*:\d*:secret:.+)$/,
    'give the ARN of an SSM parameter or a Secrets Manager secret (e.g. param.arn), never the secret itself',
  );

const container = z.strictObject({
  /** The container's name; load balancers and one-off tasks refer to it. */
  name: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'container names use letters, digits, _ and -'),
  /** The image, e.g. interpolate`${repo.uri}:v42` or `nginx:1.27`. */
  image: input(z.string().min(1)),
  /** The task stops when an essential container stops. @default true */
  essential: z.boolean().default(true),
  /** Overrides the image's CMD, e.g. ['gunicorn', 'app.wsgi', '-b', '0.0.0.0:8000']. @default the image's */
  command: z.array(z.string()).min(1).optional(),
  /** Overrides the image's ENTRYPOINT. @default the image's */
  entryPoint: z.array(z.string()).min(1).optional(),
  /** Ports the container listens on. @default [] */
  portMappings: z
    .array(
      z.strictObject({
        containerPort: z.number().int().min(1).max(65535),
        /** @default 'tcp' */
        protocol: z.enum(['tcp', 'udp']).default('tcp'),
      }),
    )
    .default([]),
  /** Plain settings (ALLOWED_HOSTS, DATABASE_HOST); anyone who can read the task definition sees them. @default {} */
  environment: z.record(envName, input(z.string())).default({}),
  /**
   * Secrets by reference: variable name → ARN of an SSM parameter or Secrets Manager secret,
   * e.g. { DJANGO_SECRET_KEY: secretKey.arn }. ECS reads the value when the task starts;
   * the task definition only ever holds the ARN. @default {}
   */
  secrets: z.record(envName, input(secretReference)).default({}),
  /** Docker's health check; ECS restarts an unhealthy essential container's task. @default none */
  healthCheck: z
    .strictObject({
      /** e.g. ['CMD-SHELL', 'curl -fs http://localhost:8000/health || exit 1'] */
      command: z.array(z.string()).min(1),
      /** Seconds between checks (5 to 300). @default 30 */
      interval: z.number().int().min(5).max(300).default(30),
      /** Seconds a check may take (2 to 60). @default 5 */
      timeout: z.number().int().min(2).max(60).default(5),
      /** Failures in a row that make it unhealthy (1 to 10). @default 3 */
      retries: z.number().int().min(1).max(10).default(3),
      /** Seconds after start when failures do not count (0 to 300). @default 0 */
      startPeriod: z.number().int().min(0).max(300).default(0),
    })
    .optional(),
  /** The CloudWatch log group the container's output goes to (awslogs). @default none: output is lost */
  logGroup: input(z.string().min(1)).optional(),
  /** First part of each log stream's name. @default 'ecs' when logGroup is set */
  logStreamPrefix: z.string().min(1).max(512).optional(),
  /** Hard memory limit in MiB; the container is killed above it. @default the task's memory */
  memory: z.number().int().min(6).optional(),
  /** CPU units reserved for this container (1024 = one vCPU). @default none: shares the task's */
  cpu: z.number().int().min(0).optional(),
});

const fields = {
  /** The task definition's name in this stack; its family in AWS is `<stack>-<name>`. */
  name: field(z.string().min(1).max(200)),
  /** CPU units for the whole task (1024 = one vCPU): 256, 512, 1024, 2048, 4096, 8192 or 16384. @default 256 */
  cpu: field(z.number().int().default(256)),
  /** Memory for the whole task in MiB; which values are allowed depends on cpu. @default 512 */
  memory: field(z.number().int().default(512)),
  /** The role ECS uses to pull images, read `secrets` and write logs. */
  executionRoleArn: field(input(z.string().startsWith('arn:'))),
  /** The role the application's own AWS calls use (S3, SES, SQS). @default null: none */
  taskRoleArn: field(input(z.string().startsWith('arn:')).nullable().default(null)),
  /**
   * Where its tasks may run: 'FARGATE', 'EC2' (a cluster's own instances) or both; with FARGATE, cpu and memory
   * must be a size Fargate offers. Tasks always get their own network interface (awsvpc). @default ['FARGATE']
   */
  compatibilities: field(
    z
      .array(z.enum(['FARGATE', 'EC2']))
      .min(1)
      .default(['FARGATE']),
    { unordered: true },
  ),
  /**
   * The processor its tasks run on: ARM64 is Graviton (Fargate and Linux EC2 instances; about 20% cheaper on
   * Fargate), and the image must be built for it (linux/arm64).
   * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RuntimePlatform.html
   * @default { cpuArchitecture: 'X86_64' }
   */
  runtimePlatform: field(
    z.strictObject({ cpuArchitecture: z.enum(['X86_64', 'ARM64']) }).default({ cpuArchitecture: 'X86_64' }),
  ),
  /** The containers of each task; usually one. */
  containers: field(z.array(container).min(1).max(10), { normalize: (v) => normalizeContainers(v) }),
  tags: field(tags()),
};

export interface TaskDefinitionOutputs {
  family: string;
  /** The ARN of the current revision, ending in `:<revision>`. */
  arn: string;
  revision: number;
}

type Args = ArgsOf<typeof fields>;
type Container = Args['containers'][number];
type TaskFound = Found<Args, TaskDefinitionOutputs>;

export const TaskDefinition = defineResourceType({
  kind: 'task-definition',
  noun: 'ECS task definition',
  listedAs: 'ecs',
  fields,
  outputs: ['family', 'arn', 'revision'],
  defaultOutput: 'arn',
  updatedOutputs: ['arn', 'revision'],
  identity: { by: 'address' },

  check(args) {
    const onFargate = (args.compatibilities ?? ['FARGATE']).includes('FARGATE');
    const problems = onFargate ? fargateSizeProblems(args.cpu ?? 256, args.memory ?? 512) : [];
    const containers = args.containers ?? [];
    const names = containers.map((c) => c.name);
    for (const n of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
      problems.push(`containers: two containers are called "${n}"; give each its own name`);
    }
    if (containers.length > 0 && !containers.some((c) => c.essential !== false)) {
      problems.push('containers: at least one container must be essential, or the task never stops');
    }
    const reserved = containers.reduce((sum, c) => sum + (c.memory ?? 0), 0);
    if (args.memory !== undefined && reserved > args.memory) {
      problems.push(
        `containers: their memory adds up to ${reserved} MiB, more than the task's ${args.memory} MiB`,
      );
    }
    containers.forEach((c, i) => {
      problems.push(...containerProblems(c, `containers[${i}]`));
    });
    return problems;
  },

  async find(ctx, wanted) {
    const owned = await stackEcsResources(ctx, 'task-definition');
    // Each revision carries the tags; one family is one resource.
    const families = new Map<string, string>();
    for (const { arn, tags } of owned) {
      const key = tags[RESOURCE_TAG];
      if (key !== undefined) families.set(familyOf(arn), key);
    }
    const ecs = await ctx.aws.ecs();
    const declared = new Map(wanted.map((w) => [w.address, w]));
    const limit = pLimit(8);
    const found = await Promise.all(
      [...families].map(([family, key]) =>
        limit(async () => {
          const arn = await latestActive(ecs, family);
          return arn ? readArn(ecs, arn, key, declared.get(key)?.args.containers) : undefined;
        }),
      ),
    );
    return found.filter((f) => f !== undefined);
  },

  async create(ctx, args) {
    const ecs = await ctx.aws.ecs();
    const arn = await register(ctx, ecs, ecsName(ctx), args);
    return readArn(ecs, arn, ctx.address, args.containers);
  },

  async update(ctx, found, args, changed) {
    const ecs = await ctx.aws.ecs();
    if (changed.every((c) => c === 'tags')) {
      // Tags are the one thing a revision can change; no new revision, no redeploy.
      await updateEcsTags(ecs, found.outputs.arn, found.args.tags ?? {}, args.tags);
      return readArn(ecs, found.outputs.arn, found.key, args.containers);
    }
    const family = found.outputs.family;
    const arn = await register(ctx, ecs, family, args);
    // One ACTIVE revision per family: the declared one. Running tasks and services keep an INACTIVE
    // revision until they move on; new ones cannot start from it.
    const older = (await listRevisions(ecs, family, 'ACTIVE')).filter((a) => a !== arn);
    await Promise.all(
      older.map((taskDefinition) => ignoreNotFound(ecs.deregisterTaskDefinition({ taskDefinition }))),
    );
    ctx.progress(
      `registered revision ${revisionOf(arn)}, deregistered ${older.map(revisionOf).join(', ') || 'none'}`,
    );
    return readArn(ecs, arn, found.key, args.containers);
  },

  async delete(ctx, found) {
    const ecs = await ctx.aws.ecs();
    const family = found.outputs.family;
    const active = await listRevisions(ecs, family, 'ACTIVE');
    await Promise.all(
      active.map((taskDefinition) => ignoreNotFound(ecs.deregisterTaskDefinition({ taskDefinition }))),
    );
    // Deregistered revisions stay listed for ever unless deleted; AWS removes them once no task uses them.
    const inactive = await listRevisions(ecs, family, 'INACTIVE');
    for (const taskDefinitions of chunks(inactive, 10)) {
      const { failures } = await ecs.deleteTaskDefinitions({ taskDefinitions });
      const [first] = (failures ?? []).filter((f) => !/does not exist/i.test(f.reason ?? ''));
      if (first) throw new Error(`revision ${first.arn} could not be deleted: ${first.reason}`);
    }
    ctx.progress(`deregistered ${active.length} and deleted ${inactive.length} revisions`);
  },
});

// ---- checks ----

/** The CPU and memory pairs Fargate runs (Linux), in MiB per CPU size. */
const FARGATE_SIZES: Record<number, { from: number; to: number; step: number } | number[]> = {
  256: [512, 1024, 2048],
  512: { from: 1024, to: 4096, step: 1024 },
  1024: { from: 2048, to: 8192, step: 1024 },
  2048: { from: 4096, to: 16384, step: 1024 },
  4096: { from: 8192, to: 30720, step: 1024 },
  8192: { from: 16384, to: 61440, step: 4096 },
  16384: { from: 32768, to: 122880, step: 8192 },
};

export function fargateSizeProblems(cpu: number, memory: number): string[] {
  const sizes = FARGATE_SIZES[cpu];
  if (!sizes) {
    return [
      `cpu: Fargate runs tasks of 256, 512, 1024, 2048, 4096, 8192 or 16384 CPU units (1024 = one vCPU), not ${cpu}`,
    ];
  }
  if (Array.isArray(sizes)) {
    if (sizes.includes(memory)) return [];
    return [`memory: with cpu ${cpu}, Fargate takes memory ${sizes.join(', ')} (MiB), not ${memory}`];
  }
  const { from, to, step } = sizes;
  if (memory >= from && memory <= to && (memory - from) % step === 0) return [];
  return [
    `memory: with cpu ${cpu}, Fargate takes memory ${from} to ${to} MiB in steps of ${step}, not ${memory}`,
  ];
}

// Word parts that mark a value as secret; KEY_PREFIX (Django's cache setting) is not one.
const SECRET_WORDS = /(PASSWORD|PASSWD|SECRET|TOKEN|(^|_)(API|ACCESS|PRIVATE)?KEY(_(?!PREFIX)|$))/i;

/** A variable name that says it holds a secret (task definitions refuse those in plain environment). */
export const isSecretName = (name: string) => SECRET_WORDS.test(name);

function containerProblems(c: Partial<Container>, where: string): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(c.environment ?? {})) {
    // A reference is another resource's output (a host name, an ARN); a literal is typed into the config.
    if (isSecretName(name) && typeof value === 'string') {
      problems.push(
        `${where}.environment.${name}: looks like a secret, and plain environment values are visible to ` +
          'anyone who can read the task definition. Store it in SSM Parameter Store (SecureString) or ' +
          `Secrets Manager and pass its ARN in "secrets": { ${name}: parameter.arn }`,
      );
    }
  }
  for (const name of Object.keys(c.secrets ?? {})) {
    if (name in (c.environment ?? {})) {
      problems.push(`${where}: "${name}" is both in environment and in secrets; keep one`);
    }
  }
  if (c.logStreamPrefix !== undefined && c.logGroup === undefined) {
    problems.push(`${where}.logStreamPrefix: only used with logGroup; set logGroup too`);
  }
  return problems;
}

// ---- reading and writing ----

/** What ECS fills in when it is not given, so that leaving it out and reading it back compare equal. */
function normalizeContainers(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((c: Record<string, unknown>) => ({
    ...c,
    logStreamPrefix: c.logGroup !== undefined ? (c.logStreamPrefix ?? DEFAULT_LOG_PREFIX) : c.logStreamPrefix,
    cpu: c.cpu === 0 ? undefined : c.cpu,
  }));
}

async function register(ctx: OpContext, ecs: ECS, family: string, args: Args): Promise<string> {
  const request: RegisterTaskDefinitionCommandInput = {
    family,
    requiresCompatibilities: args.compatibilities,
    networkMode: 'awsvpc',
    cpu: String(args.cpu),
    memory: String(args.memory),
    executionRoleArn: args.executionRoleArn,
    taskRoleArn: args.taskRoleArn ?? undefined,
    // Left out for X86_64, ECS's own default, so a task definition registered before reads back the same.
    ...(args.runtimePlatform.cpuArchitecture === 'ARM64'
      ? { runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' } }
      : {}),
    containerDefinitions: args.containers.map((c) => containerDefinition(c, args.memory, ctx.region)),
    tags: ecsTagList(ctx.tags(args.tags)),
  };
  // No client token, and a second register makes a second revision: after a lost answer, the family's newest
  // revision is adopted when its tags are this resource's and it holds what was asked.
  return createOnce(
    async () => (await ecs.registerTaskDefinition(request)).taskDefinition!.taskDefinitionArn!,
    async () => {
      const arn = await latestActive(ecs, family);
      if (!arn) return undefined;
      const { taskDefinition, tags } = await ecs.describeTaskDefinition({
        taskDefinition: arn,
        include: ['TAGS'],
      });
      const t = ecsTagMap(tags);
      const same =
        diffArgs(fields, args, read(taskDefinition!, t, ctx.address, args.containers).args).length === 0;
      return { value: arn, ours: ownedHere(ctx, t) && same };
    },
  );
}

function containerDefinition(c: Container, taskMemory: number, region: string): ContainerDefinition {
  const byName = <T>(record: Record<string, T>) =>
    Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  return {
    name: c.name,
    image: c.image,
    essential: c.essential,
    command: c.command,
    entryPoint: c.entryPoint,
    portMappings: c.portMappings.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol })),
    environment: byName(c.environment).map(([name, value]) => ({ name, value })),
    secrets: byName(c.secrets).map(([name, valueFrom]) => ({ name, valueFrom })),
    healthCheck: c.healthCheck,
    logConfiguration: c.logGroup
      ? {
          logDriver: 'awslogs',
          options: {
            'awslogs-group': c.logGroup,
            'awslogs-region': region,
            'awslogs-stream-prefix': c.logStreamPrefix ?? DEFAULT_LOG_PREFIX,
          },
        }
      : undefined,
    // Always a container limit: without one some tools (and local emulators) refuse the task.
    memory: c.memory ?? taskMemory,
    cpu: c.cpu,
  };
}

/** The family's newest ACTIVE revision, whoever registered it. */
async function latestActive(ecs: ECS, family: string): Promise<string | undefined> {
  const { taskDefinitionArns } = await ecs.listTaskDefinitions({
    familyPrefix: family,
    status: 'ACTIVE',
    sort: 'DESC',
    maxResults: 1,
  });
  // The highest revision of what came back, whatever order it came in.
  return (taskDefinitionArns ?? []).reduce<string | undefined>(
    (best, arn) => (best === undefined || revisionOf(arn) > revisionOf(best) ? arn : best),
    undefined,
  );
}

async function listRevisions(ecs: ECS, family: string, status: 'ACTIVE' | 'INACTIVE'): Promise<string[]> {
  return allPages(
    (nextToken) => ecs.listTaskDefinitions({ familyPrefix: family, status, nextToken }),
    (p) => p.taskDefinitionArns,
    (p) => p.nextToken,
  );
}

async function readArn(
  ecs: ECS,
  arn: string,
  key: string,
  declared: readonly Partial<Container>[] | undefined,
): Promise<TaskFound> {
  const { taskDefinition, tags } = await ecs.describeTaskDefinition({
    taskDefinition: arn,
    include: ['TAGS'],
  });
  return read(taskDefinition!, ecsTagMap(tags), key, declared);
}

function read(
  td: AwsTaskDefinition,
  t: TagMap,
  key: string,
  declared: readonly Partial<Container>[] | undefined,
): TaskFound {
  const memory = Number(td.memory);
  const containers = (td.containerDefinitions ?? []).map((c) =>
    readContainer(
      c,
      memory,
      declared?.find((d) => d.name === c.name),
    ),
  );
  const arn = td.taskDefinitionArn!;
  return {
    key: t[RESOURCE_TAG] ?? key,
    id: arn,
    args: {
      cpu: Number(td.cpu),
      memory,
      executionRoleArn: td.executionRoleArn,
      taskRoleArn: td.taskRoleArn ?? null,
      compatibilities: (td.requiresCompatibilities ?? ['FARGATE']) as Args['compatibilities'],
      runtimePlatform: {
        cpuArchitecture: td.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64',
      },
      containers,
      tags: ecsUserTags(t),
    },
    outputs: { family: td.family!, arn, revision: td.revision! },
  };
}

function readContainer(c: ContainerDefinition, taskMemory: number, declared?: Partial<Container>): Container {
  const log = c.logConfiguration?.logDriver === 'awslogs' ? (c.logConfiguration.options ?? {}) : undefined;
  const hc = c.healthCheck;
  return {
    name: c.name!,
    image: c.image!,
    essential: c.essential ?? true,
    command: nonEmpty(c.command),
    entryPoint: nonEmpty(c.entryPoint),
    portMappings: (c.portMappings ?? []).map((p) => ({
      containerPort: p.containerPort!,
      protocol: p.protocol ?? 'tcp',
    })),
    environment: Object.fromEntries((c.environment ?? []).map((e) => [e.name!, e.value ?? ''])),
    secrets: Object.fromEntries((c.secrets ?? []).map((s) => [s.name!, s.valueFrom!])),
    healthCheck: hc && {
      command: hc.command ?? [],
      interval: hc.interval ?? 30,
      timeout: hc.timeout ?? 5,
      retries: hc.retries ?? 3,
      startPeriod: hc.startPeriod ?? 0,
    },
    logGroup: log?.['awslogs-group'],
    logStreamPrefix: log?.['awslogs-stream-prefix'],
    // A limit equal to the task's is what Touchdown sets when none is declared.
    memory: declared && declared.memory === undefined && c.memory === taskMemory ? undefined : c.memory,
    cpu: c.cpu || undefined,
  };
}

function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

/** `arn:aws:ecs:…:task-definition/xkcd-web:7` → `xkcd-web`. */
function familyOf(arn: string): string {
  return arn.split('/').at(-1)!.split(':')[0]!;
}

function revisionOf(arn: string): number {
  return Number(arn.split(':').at(-1));
}
