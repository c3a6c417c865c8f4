// Amazon MQ for RabbitMQ broker: Celery's broker on AWS (seed 001's "Celery and RabbitMQ"). Private, in the
// stack's subnets; its one user's password is generated here into a SecureString before the broker exists, and
// the full amqps URL (which embeds it) is written to a second SecureString the app reads by reference.
import { randomBytes } from 'node:crypto';
import type { DescribeBrokerResponse, Mq } from '@aws-sdk/client-mq';
import type { SSM } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { stackResources } from '../tagging.js';
import { RESOURCE_TAG, type TagMap, tagDelta, tagList, tagMap, userTags } from '../tags.js';

/**
 * The parameters' stack. Not `touchdown:stack`: the SSM parameter type finds its own kind by that tag and would
 * delete these as undeclared.
 */
const OWNER_STACK_TAG = 'touchdown:owner-stack';
/** The parameters' names, kept on the broker so that reads and deletes (which see only AWS) find them. */
const PASSWORD_TAG = 'touchdown:password-parameter';
const URL_TAG = 'touchdown:url-parameter';

const parameterName = z
  .string()
  .max(256)
  .regex(/^(\/[A-Za-z0-9_.-]+)+$/, 'write it like /app/prod/BROKER_PASSWORD');

const fields = {
  /** Its name in AWS is `<stack>-<path>`, at most 50 characters. */
  name: field(z.string().min(1).max(200)),
  /**
   * RabbitMQ major.minor; AWS applies patches in the maintenance window. 3.13 runs on every instance type,
   * 4.2 on mq.m7g only: https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-version-management.html
   * @default '3.13'
   */
  engineVersion: field(
    z
      .string()
      .regex(/^\d+\.\d+$/, "write it like '3.13'")
      .default('3.13'),
  ),
  /** @default 'mq.t3.micro' (single instance only) */
  instanceType: field(
    z
      .string()
      .regex(/^mq\.[a-z0-9]+\.[a-z0-9]+$/, 'write it like mq.m7g.large')
      .default('mq.t3.micro'),
  ),
  /** One node, or three over the subnets' zones. Changing it means a new broker. @default 'SINGLE_INSTANCE' */
  deploymentMode: field(z.enum(['SINGLE_INSTANCE', 'CLUSTER_MULTI_AZ']).default('SINGLE_INSTANCE'), {
    replace: true,
  }),
  /** Private subnets: exactly one for a single instance. Changing them means a new broker. */
  subnetIds: field(z.array(input(z.string().min(1))).min(1), { unordered: true, replace: true }),
  /** Security groups of the broker's endpoint (who may reach 5671). */
  securityGroupIds: field(z.array(input(z.string().min(1))).min(1), { unordered: true }),
  /** The broker's user. Changing it means a new broker. @default 'app' */
  username: field(
    z
      .string()
      .regex(/^[A-Za-z0-9_.~-]{2,100}$/)
      .default('app'),
    { replace: true },
  ),
  /** The SecureString parameter holding the generated password; only its name is ever shown. */
  passwordParameter: field(parameterName, { replace: true }),
  /** The SecureString parameter holding `amqps://user:password@host:5671`, for CELERY_BROKER_URL. */
  urlParameter: field(parameterName, { replace: true }),
  /** Weekly maintenance start (UTC), when AWS applies patches. @default { day: 'SUNDAY', time: '03:00' } */
  maintenance: field(
    z
      .strictObject({
        day: z.enum(['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY']),
        time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'write it like 03:00'),
      })
      .default({ day: 'SUNDAY', time: '03:00' }),
  ),
  /** The broker's general log in CloudWatch Logs. @default true */
  generalLogs: field(z.boolean().default(true)),
  tags: field(tags()),
};

export interface MqBrokerOutputs {
  id: string;
  arn: string;
  /** `amqps://<host>:5671`, without credentials. */
  endpoint: string;
  passwordParameter: string;
  urlParameter: string;
}

type Args = ArgsOf<typeof fields>;
type BrokerFound = Found<Args, MqBrokerOutputs>;

const TIMEOUT_MS = 60 * 60_000;

export const MqBroker = defineResourceType({
  kind: 'mq-broker',
  noun: 'Amazon MQ broker',
  listedAs: 'mq',
  expectedSeconds: { create: 900, update: 600, delete: 600 },
  fields,
  outputs: ['id', 'arn', 'endpoint', 'passwordParameter', 'urlParameter'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    if (args.deploymentMode !== 'CLUSTER_MULTI_AZ' && (args.subnetIds?.length ?? 0) !== 1) {
      problems.push('subnetIds: a single-instance broker lives in exactly one subnet');
    }
    if (args.deploymentMode === 'CLUSTER_MULTI_AZ' && args.instanceType?.startsWith('mq.t3.')) {
      problems.push('instanceType: mq.t3.micro runs a single instance only; use mq.m7g.large for a cluster');
    }
    return problems;
  },

  async find(ctx) {
    const owned = await stackResources(ctx, ['mq:broker']);
    if (owned.length === 0) return [];
    const mq = await ctx.aws.mq();
    const found = await Promise.all(owned.map((r) => describe(mq, r.arn.split(':broker:')[1]!)));
    return found.filter((b) => b && b.BrokerState !== 'DELETION_IN_PROGRESS').map((b) => read(b!));
  },

  async create(ctx, args) {
    const [mq, ssm] = await Promise.all([ctx.aws.mq(), ctx.aws.ssm()]);
    const name = physicalName(ctx.stack, ctx.path, { max: 50, allowed: /[A-Za-z0-9_-]/ });
    // Saved before the broker exists: a crash in between leaves a password to reuse, never a lost one.
    const password = await ownedSecret(ctx, ssm, args.passwordParameter, () =>
      randomBytes(24).toString('base64url'),
    );
    const { BrokerId } = await mq.createBroker({
      BrokerName: name,
      EngineType: 'RABBITMQ',
      EngineVersion: args.engineVersion,
      HostInstanceType: args.instanceType,
      DeploymentMode: args.deploymentMode,
      // Reached through its VPC endpoint only: https://docs.aws.amazon.com/amazon-mq/latest/developer-guide/rabbitmq-basic-elements-broker.html
      PubliclyAccessible: false,
      // Required true from RabbitMQ 3.13: https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers.html
      AutoMinorVersionUpgrade: true,
      SubnetIds: args.subnetIds,
      SecurityGroups: args.securityGroupIds,
      Users: [{ Username: args.username, Password: password }],
      MaintenanceWindowStartTime: window(args),
      Logs: { General: args.generalLogs },
      Tags: ctx.tags({ ...args.tags, [PASSWORD_TAG]: args.passwordParameter, [URL_TAG]: args.urlParameter }),
    });
    const broker = await untilRunning(ctx, mq, BrokerId!, 'to be created');
    const url = endpoint(broker).replace('amqps://', `amqps://${args.username}:${password}@`);
    await writeSecret(
      ctx,
      ssm,
      args.urlParameter,
      url,
      `Celery broker URL of ${name} (managed by Touchdown)`,
    );
    return read(broker);
  },

  async update(ctx, found, args, changed) {
    const mq = await ctx.aws.mq();
    if (changed.some((c) => c !== 'tags')) {
      // Changes apply at the next reboot or maintenance window; Touchdown does not reboot a broker in use.
      await mq.updateBroker({
        BrokerId: found.id,
        EngineVersion: args.engineVersion,
        HostInstanceType: args.instanceType,
        SecurityGroups: args.securityGroupIds,
        MaintenanceWindowStartTime: window(args),
        Logs: { General: args.generalLogs },
        AutoMinorVersionUpgrade: true,
      });
      ctx.progress(
        'Amazon MQ applies instance type and version changes at the next reboot or maintenance window',
      );
    }
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0) await mq.createTags({ ResourceArn: found.outputs.arn, Tags: set });
      if (remove.length > 0) await mq.deleteTags({ ResourceArn: found.outputs.arn, TagKeys: remove });
    }
    return read((await describe(mq, found.id))!);
  },

  async holdsData(ctx, found) {
    const mq = await ctx.aws.mq();
    const b = await describe(mq, found.id);
    if (!b || b.BrokerState === 'DELETION_IN_PROGRESS') return undefined;
    // Its queues are read over AMQP, not through AWS's API: a broker may always hold tasks not yet run.
    return 'a RabbitMQ broker, whose queues may hold Celery tasks not yet run';
  },

  async delete(ctx, found) {
    const [mq, ssm] = await Promise.all([ctx.aws.mq(), ctx.aws.ssm()]);
    await ignoreNotFound(mq.deleteBroker({ BrokerId: found.id }));
    await ctx.wait({
      what: `Amazon MQ broker "${ctx.path}" to be deleted`,
      timeoutMs: TIMEOUT_MS,
      hint: 'Amazon MQ takes 5 to 15 minutes to delete a broker; run the same command again to keep waiting',
      check: async () => {
        const b = await describe(mq, found.id);
        return b ? { done: false, state: b.BrokerState ?? 'deleting' } : { done: true, value: undefined };
      },
    });
    // Only once the broker is gone: until then the password is the way in.
    for (const name of [found.outputs.urlParameter, found.outputs.passwordParameter]) {
      if (name) await ignoreNotFound(ssm.deleteParameter({ Name: name }), 'ParameterNotFound');
    }
  },
});

function window(args: Args) {
  return { DayOfWeek: args.maintenance.day, TimeOfDay: args.maintenance.time, TimeZone: 'UTC' };
}

async function describe(mq: Mq, id: string): Promise<DescribeBrokerResponse | undefined> {
  return ignoreNotFound(mq.describeBroker({ BrokerId: id }));
}

function endpoint(b: DescribeBrokerResponse): string {
  const amqps = b.BrokerInstances?.flatMap((i) => i.Endpoints ?? []).find((e) => e.startsWith('amqps://'));
  return amqps ?? '';
}

async function untilRunning(
  ctx: OpContext,
  mq: Mq,
  id: string,
  goal: string,
): Promise<DescribeBrokerResponse> {
  return ctx.wait({
    what: `Amazon MQ broker "${ctx.path}" ${goal}`,
    timeoutMs: TIMEOUT_MS,
    hint: 'Amazon MQ takes 15 to 30 minutes to create a broker (longer for a cluster); run the same command again to keep waiting',
    check: async () => {
      const b = await describe(mq, id);
      if (!b) throw new Error(`the broker ${id} disappeared while waiting for it`);
      if (b.BrokerState === 'CREATION_FAILED' || b.BrokerState === 'CRITICAL_ACTION_REQUIRED') {
        throw new Error(
          `the broker ${id} is ${b.BrokerState}: see its events in the Amazon MQ console, fix the cause (subnets, security groups), delete it and run again`,
        );
      }
      return b.BrokerState === 'RUNNING' && endpoint(b)
        ? { done: true, value: b }
        : { done: false, state: b.BrokerState ?? 'unknown' };
    },
  });
}

/** The secret saved for this resource, or a new one saved now. Refuses a parameter someone else owns. */
async function ownedSecret(ctx: OpContext, ssm: SSM, name: string, make: () => string): Promise<string> {
  const existing = await ignoreNotFound(
    ssm.getParameter({ Name: name, WithDecryption: true }),
    'ParameterNotFound',
  );
  const value = existing?.Parameter?.Value;
  if (value === undefined) {
    const made = make();
    await writeSecret(
      ctx,
      ssm,
      name,
      made,
      `Password of the Amazon MQ broker ${ctx.path} (managed by Touchdown)`,
    );
    return made;
  }
  const { TagList } = await ssm.listTagsForResource({ ResourceType: 'Parameter', ResourceId: name });
  const t = tagMap(TagList);
  if (t[RESOURCE_TAG] !== ctx.address || t[OWNER_STACK_TAG] !== ctx.stack) {
    throw new Error(
      `the SSM parameter ${name} already exists and is not this broker's: delete it, or rename the broker`,
    );
  }
  ctx.progress(`reusing the password an interrupted run saved in ${name}`);
  return value;
}

async function writeSecret(ctx: OpContext, ssm: SSM, name: string, value: string, description: string) {
  const existing = await ignoreNotFound(ssm.getParameter({ Name: name }), 'ParameterNotFound');
  await ssm.putParameter({
    Name: name,
    Type: 'SecureString',
    Value: value,
    Description: description,
    Overwrite: existing !== undefined,
    // Tags cannot go with an overwrite; a parameter this broker wrote before has them already.
    ...(existing ? {} : { Tags: tagList({ [RESOURCE_TAG]: ctx.address, [OWNER_STACK_TAG]: ctx.stack }) }),
  });
}

function read(b: DescribeBrokerResponse): BrokerFound {
  const t: TagMap = b.Tags ?? {};
  const id = b.BrokerId!;
  const day = (
    b.MaintenanceWindowStartTime?.DayOfWeek ?? 'SUNDAY'
  ).toUpperCase() as Args['maintenance']['day'];
  return {
    key: t[RESOURCE_TAG] ?? id,
    id,
    args: {
      engineVersion: versionAsDeclared(b.EngineVersion ?? ''),
      instanceType: b.HostInstanceType,
      deploymentMode: b.DeploymentMode as Args['deploymentMode'],
      subnetIds: b.SubnetIds ?? [],
      securityGroupIds: b.SecurityGroups ?? [],
      username: b.Users?.[0]?.Username,
      passwordParameter: t[PASSWORD_TAG],
      urlParameter: t[URL_TAG],
      maintenance: { day, time: b.MaintenanceWindowStartTime?.TimeOfDay ?? '' },
      generalLogs: b.Logs?.General ?? false,
      tags: userTags(t),
    },
    outputs: {
      id,
      arn: b.BrokerArn!,
      endpoint: endpoint(b),
      passwordParameter: t[PASSWORD_TAG] ?? '',
      urlParameter: t[URL_TAG] ?? '',
    },
  };
}

/** AWS reports the patch it runs (3.13.7); the declaration names major.minor. */
function versionAsDeclared(actual: string): string {
  return actual.split('.').slice(0, 2).join('.');
}
