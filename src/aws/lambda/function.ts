// Lambda function: a Python package from a zip, run on request (API Gateway) or on a schedule, with its log
// group made first so that its logs expire, and its secrets read from SSM at start, never from the stack.
import type { CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import type { Architecture, GetFunctionResponse, Lambda, Runtime } from '@aws-sdk/client-lambda';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { isPlainObject } from '../../core/ref.js';
import { defineResourceType, type FindContext, type Found, type OpContext } from '../../core/resource.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { afterIamPropagation, iamNotVisibleYet } from '../iam/propagation.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { stackResources } from '../tagging.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagDelta, userTags } from '../tags.js';
import {
  CODE_SOURCE_TAG,
  codeIdentity,
  codeSourceTag,
  lambdaCode,
  MAX_DIRECT_UPLOAD,
  MB,
  sourceOf,
  uploadCode,
} from './code.js';

/** Python runtimes AWS Lambda supports for new functions (python3.11 and older were deprecated by 30 June 2026). */
export const PYTHON_RUNTIMES = ['python3.12', 'python3.13', 'python3.14', 'python3.15'] as const;

/** The function reads its secrets from this SSM path at start (see `secretsPath`). */
export const SSM_PATH_VARIABLE = 'TOUCHDOWN_SSM_PATH';

/** Marks the function's log group as part of it (not `touchdown:stack`: it is no resource of its own). */
const PART_OF_TAG = 'touchdown:part-of';
/** The values CloudWatch Logs accepts for retention. */
const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
/** Set by Lambda itself; a function cannot set them. */
const RESERVED_VARIABLES = new Set(
  (
    '_HANDLER _X_AMZN_TRACE_ID AWS_DEFAULT_REGION AWS_REGION AWS_EXECUTION_ENV AWS_LAMBDA_FUNCTION_NAME ' +
    'AWS_LAMBDA_FUNCTION_MEMORY_SIZE AWS_LAMBDA_FUNCTION_VERSION AWS_LAMBDA_INITIALIZATION_TYPE ' +
    'AWS_LAMBDA_LOG_GROUP_NAME AWS_LAMBDA_LOG_STREAM_NAME AWS_ACCESS_KEY AWS_ACCESS_KEY_ID ' +
    'AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_LAMBDA_RUNTIME_API LAMBDA_TASK_ROOT LAMBDA_RUNTIME_DIR'
  ).split(' '),
);

const fields = {
  /** The function's label; its name in AWS is derived from the stack and this (at most 64 characters). */
  name: field(z.string().min(1).max(200)),
  /** @default 'python3.12' */
  runtime: field(
    z
      .enum(PYTHON_RUNTIMES, {
        error: (issue) =>
          `"${String(issue.input)}" is not a Python runtime AWS Lambda supports; use one of ${PYTHON_RUNTIMES.join(', ')}`,
      })
      .default('python3.12'),
  ),
  /** The module and function Lambda calls, e.g. `touchdown_lambda.handler`. */
  handler: field(
    z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^\s]+$/, 'a handler has no spaces: module.function, e.g. touchdown_lambda.handler'),
  ),
  /**
   * The code: `{ zipFile: 'build/app.zip' }` (its SHA-256 tells whether it changed), or a zip already in
   * S3, `{ s3Bucket, s3Key }`. A zip over 50 MB goes through `uploadBucket`.
   */
  code: field(lambdaCode, { normalize: codeIdentity }),
  /** Bucket a zip over 50 MB (Lambda's direct upload limit) is uploaded to first, under `touchdown/lambda/`. */
  uploadBucket: field(input(z.string().min(3).max(63)).optional(), { writeOnly: true }),
  /** The execution role's ARN (`role.arn`); its trust policy must allow `lambda.amazonaws.com`. */
  roleArn: field(
    input(
      z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, "pass the role's ARN (role.arn), not its name"),
    ),
  ),
  /** @default 512: memory in MB (128 to 10240); CPU grows with it, and so does the price per second. */
  memoryMb: field(z.number().int().min(128).max(10240).default(512)),
  /**
   * @default 30: seconds an invocation may run (1 to 900). Behind API Gateway a request gets at most
   * 29 s (LambdaProxyRoute's default; 30 s is an HTTP API's hard limit) whatever this says: long work
   * (migrations, nightly jobs) belongs in a function invoked directly or on a schedule.
   */
  timeoutSeconds: field(z.number().int().min(1).max(900).default(30)),
  /**
   * @default {}: environment variables. Secrets do not belong here (they would show in the console and in
   * plans): keep them in SSM under `secretsPath`. Values that look like secrets are refused.
   */
  environment: field(
    z
      .record(
        z
          .string()
          .regex(
            /^[a-zA-Z][a-zA-Z0-9_]*$/,
            'variable names are letters, digits and _, starting with a letter',
          ),
        input(z.string()),
      )
      .default({}),
  ),
  /**
   * @default none: SSM path (e.g. `/xkcd/prod/`) whose parameters the function loads at start, passed to it
   * as TOUCHDOWN_SSM_PATH. The role needs ssm:GetParametersByPath on it (and kms:Decrypt for SecureStrings).
   */
  secretsPath: field(
    input(z.string().regex(/^\/[A-Za-z0-9_.\-/]*$/, 'an SSM path starts with "/", like /xkcd/prod/'))
      .nullable()
      .default(null),
  ),
  /**
   * @default none (no VPC: the function reaches the internet but not private resources). In a VPC it reaches
   * RDS and ElastiCache, and the internet only through a NAT; the role then needs
   * AWSLambdaVPCAccessExecutionRole.
   */
  vpc: field(
    z
      .strictObject({
        subnetIds: z.array(input(z.string())).min(1).max(16),
        securityGroupIds: z.array(input(z.string())).min(1).max(5),
      })
      .nullable()
      .default(null),
    { normalize: sortedVpc },
  ),
  /** @default 'arm64' (Graviton: about 20% cheaper per second); the zip's native wheels must match. */
  architecture: field(z.enum(['arm64', 'x86_64']).default('arm64')),
  /** @default none: concurrent executions set aside for this function (and its ceiling); 0 stops it. */
  reservedConcurrency: field(z.number().int().min(0).nullable().default(null)),
  /** @default 30: days the log group /aws/lambda/<name> keeps logs (1, 3, 5, 7, 14, 30, 60, 90, ... 3653). */
  logRetentionDays: field(
    z
      .number()
      .int()
      .refine((d) => RETENTION_DAYS.includes(d), {
        message: `CloudWatch Logs keeps logs for one of ${RETENTION_DAYS.join(', ')} days`,
      })
      .default(30),
  ),
  tags: field(tags()),
};

export interface LambdaFunctionOutputs {
  /** The function's name in AWS. */
  name: string;
  arn: string;
  /** What API Gateway calls: arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations. */
  invokeArn: string;
}

type Args = ArgsOf<typeof fields>;
type LambdaFound = Found<Args, LambdaFunctionOutputs>;

export const LambdaFunction = defineResourceType({
  kind: 'lambda-function',
  noun: 'Lambda function',
  listedAs: 'lambda',
  fields,
  outputs: ['name', 'arn', 'invokeArn'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    for (const [key, value] of Object.entries(args.environment ?? {})) {
      if (key === SSM_PATH_VARIABLE) {
        problems.push(`environment.${key}: set by Touchdown from secretsPath; use secretsPath`);
      } else if (RESERVED_VARIABLES.has(key)) {
        problems.push(`environment.${key}: Lambda sets this variable itself; pick another name`);
      } else if (typeof value === 'string' && looksSecret(key, value)) {
        problems.push(
          `environment.${key}: looks like a secret written into the stack; store it in SSM as a ` +
            'SecureString under secretsPath, which the function reads at start',
        );
      }
    }
    const literal = Object.entries(args.environment ?? {}).filter(([, v]) => typeof v === 'string');
    const size = literal.reduce((n, [k, v]) => n + k.length + String(v).length, 0);
    if (size > 4096) {
      problems.push(`environment: ${size} bytes; Lambda allows 4 KB of variables: move settings to SSM`);
    }
    const code = args.code as { zipFile?: string; bytes?: number } | undefined;
    if (code?.bytes !== undefined && code.bytes > MAX_DIRECT_UPLOAD && args.uploadBucket === undefined) {
      problems.push(
        `code: "${code.zipFile}" is ${Math.ceil(code.bytes / MB)} MB, over the 50 MB Lambda takes directly; ` +
          'give an uploadBucket to send it through S3',
      );
    }
    return problems;
  },

  async find(ctx) {
    const [lambda, logs] = await Promise.all([ctx.aws.lambda(), ctx.aws.logs()]);
    const arns = (await stackResources(ctx, ['lambda:function'])).map((r) => r.arn);
    if (arns.length === 0) return [];
    // ListFunctions carries neither tags nor reserved concurrency: one GetFunction per function of the stack.
    const limit = pLimit(8);
    const names = arns.map((arn) => arn.split(':')[6] ?? arn);
    const [functions, retention] = await Promise.all([
      Promise.all(arns.map((arn) => limit(() => ignoreNotFound(lambda.getFunction({ FunctionName: arn }))))),
      // The stack's function names share a prefix (the stack's name): one listing covers their log groups.
      retentionByLogGroup(logs, logGroupName(commonPrefix(names))),
    ]);
    return (
      functions
        .filter((f) => f !== undefined)
        // The tagging API lists a deleted function for a while; the function's own tags are the truth.
        .filter((f) => f.Configuration !== undefined && f.Tags?.[STACK_TAG] === ctx.stack)
        .map((f) => toFound(f, retention.get(logGroupName(f.Configuration!.FunctionName!)), ctx.region))
    );
  },

  async create(ctx, args) {
    const [lambda, logs] = await Promise.all([ctx.aws.lambda(), ctx.aws.logs()]);
    const name = functionName(ctx);
    // Made before the function, so that Lambda never makes it without a retention (logs kept forever).
    const madeLogGroup = await ensureLogGroup(ctx, logs, name, args);
    try {
      const code = await uploadCode(ctx, name, args);
      const request = {
        FunctionName: name,
        Runtime: args.runtime as Runtime,
        Handler: args.handler,
        Role: args.roleArn,
        Code: code,
        MemorySize: args.memoryMb,
        Timeout: args.timeoutSeconds,
        Environment: { Variables: variables(args) },
        VpcConfig: args.vpc
          ? { SubnetIds: args.vpc.subnetIds, SecurityGroupIds: args.vpc.securityGroupIds }
          : undefined,
        Architectures: [args.architecture as Architecture],
        PackageType: 'Zip' as const,
        Tags: ctx.tags({ ...args.tags, ...codeSourceTag(args) }),
      };
      // A role made a moment ago is not yet usable by Lambda (IAM is eventually consistent).
      await afterIamPropagation(ctx, LAMBDA_ROLE_USER, () => lambda.createFunction(request));
    } catch (err) {
      if (madeLogGroup) await ignoreNotFound(logs.deleteLogGroup({ logGroupName: logGroupName(name) }));
      throw err;
    }
    if (args.reservedConcurrency !== null) {
      await lambda.putFunctionConcurrency({
        FunctionName: name,
        ReservedConcurrentExecutions: args.reservedConcurrency,
      });
    }
    await ctx.wait({
      what: `Lambda function "${ctx.path}" to become active`,
      // In a VPC, Lambda makes its network interfaces first: minutes, not seconds.
      timeoutMs: 10 * 60_000,
      check: async () => {
        const c = await lambda.getFunctionConfiguration({ FunctionName: name });
        if (c.State === 'Failed') {
          throw new Error(`it failed to start: ${c.StateReasonCode ?? ''} ${c.StateReason ?? ''}`.trim());
        }
        return c.State === 'Active'
          ? { done: true, value: undefined }
          : { done: false, state: c.State ?? 'Pending' };
      },
    });
    return readOne(ctx, lambda, logs, name);
  },

  async update(ctx, found, args, changed) {
    const [lambda, logs] = await Promise.all([ctx.aws.lambda(), ctx.aws.logs()]);
    const name = found.outputs.name;
    const has = (...names: (keyof Args)[]) => names.some((n) => changed.includes(n));
    if (has('code', 'architecture')) {
      const code = await uploadCode(ctx, name, args);
      await whenFree(ctx, 'code', () =>
        lambda.updateFunctionCode({
          FunctionName: name,
          ...code,
          Architectures: [args.architecture as Architecture],
        }),
      );
      await updated(ctx, lambda, name, 'code');
    }
    if (
      has('runtime', 'handler', 'roleArn', 'memoryMb', 'timeoutSeconds', 'environment', 'secretsPath', 'vpc')
    ) {
      // A code update and a configuration update cannot overlap: the wait above separates them.
      await whenFree(ctx, 'configuration', () =>
        lambda.updateFunctionConfiguration({
          FunctionName: name,
          Runtime: args.runtime as Runtime,
          Handler: args.handler,
          Role: args.roleArn,
          MemorySize: args.memoryMb,
          Timeout: args.timeoutSeconds,
          Environment: { Variables: variables(args) },
          VpcConfig: {
            SubnetIds: args.vpc?.subnetIds ?? [],
            SecurityGroupIds: args.vpc?.securityGroupIds ?? [],
          },
        }),
      );
      await updated(ctx, lambda, name, 'configuration');
    }
    if (has('reservedConcurrency')) {
      if (args.reservedConcurrency === null) await lambda.deleteFunctionConcurrency({ FunctionName: name });
      else
        await lambda.putFunctionConcurrency({
          FunctionName: name,
          ReservedConcurrentExecutions: args.reservedConcurrency,
        });
    }
    if (has('tags', 'code')) {
      const current = { ...(found.args.tags ?? {}), ...sourceOf(found) };
      const { set, remove } = tagDelta(current, { ...args.tags, ...codeSourceTag(args) });
      if (Object.keys(set).length > 0) await lambda.tagResource({ Resource: found.outputs.arn, Tags: set });
      if (remove.length > 0) await lambda.untagResource({ Resource: found.outputs.arn, TagKeys: remove });
    }
    if (has('logRetentionDays', 'tags')) {
      await ensureLogGroup(ctx, logs, name, args, found.args.tags ?? {});
    }
    return readOne(ctx, lambda, logs, name);
  },

  async delete(ctx, found) {
    const [lambda, logs] = await Promise.all([ctx.aws.lambda(), ctx.aws.logs()]);
    await whenFree(ctx, 'deletion', () =>
      ignoreNotFound(lambda.deleteFunction({ FunctionName: found.outputs.name })),
    );
    await ignoreNotFound(logs.deleteLogGroup({ logGroupName: logGroupName(found.outputs.name) }));
  },
});

/** The function's name in AWS: the stack and the user's path, within Lambda's 64 characters. */
function functionName(ctx: OpContext): string {
  return physicalName(ctx.stack, ctx.path, { max: 64, allowed: /[A-Za-z0-9_-]/ });
}

function commonPrefix(names: string[]): string {
  let prefix = names[0] ?? '';
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

function logGroupName(name: string): string {
  return `/aws/lambda/${name}`;
}

function partition(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/** The variables the function gets: the user's, and the SSM path its secrets come from. */
function variables(args: Args): Record<string, string> {
  return args.secretsPath === null
    ? args.environment
    : { ...args.environment, [SSM_PATH_VARIABLE]: args.secretsPath };
}

/** Key names that hold secrets, and values that are secrets whatever their name. */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|CREDENTIAL/i;
const SECRET_VALUE = [
  /\bAKIA[0-9A-Z]{16}\b/, // an AWS access key id
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/i, // a URL with a password: postgres://app:pw@db/app
  /\b[sr]k_(live|test)_[0-9a-zA-Z]{10,}/, // Stripe
  /\bgh[pousr]_[A-Za-z0-9]{30,}/, // GitHub
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/, // Slack
];
/** Values that name where a secret is (an SSM path, an ARN) or are plain flags, not secrets. */
const NOT_SECRET = /^(\/|arn:|ssm:|true$|false$|yes$|no$|on$|off$|\d{1,6}$|$)/i;

function looksSecret(key: string, value: string): boolean {
  if (SECRET_VALUE.some((re) => re.test(value))) return true;
  return SECRET_NAME.test(key) && !NOT_SECRET.test(value);
}

/** Lambda assumes the function's role at create and at each configuration change. */
const LAMBDA_ROLE_USER = {
  noun: 'Lambda function',
  service: 'Lambda',
  principal: 'lambda.amazonaws.com',
  also: 'in a VPC, that the role has AWSLambdaVPCAccessExecutionRole',
};

/** Runs a change, waiting while another change to the function is still in progress. */
async function whenFree(ctx: OpContext, what: string, call: () => Promise<unknown>): Promise<void> {
  await ctx.wait({
    what: `an earlier change to Lambda function "${ctx.path}" to finish before its ${what}`,
    timeoutMs: 10 * 60_000,
    check: async () => {
      try {
        await call();
        return { done: true, value: undefined };
      } catch (err) {
        if (errorCode(err) === 'ResourceConflictException')
          return { done: false, state: 'update in progress' };
        // A role changed to one made a moment ago: IAM has not told Lambda yet.
        const notYet = iamNotVisibleYet(err);
        if (notYet) return { done: false, state: notYet };
        throw err;
      }
    },
  });
}

/** Waits for the last update to finish; a failed one fails the step with Lambda's reason. */
async function updated(ctx: OpContext, lambda: Lambda, name: string, what: string): Promise<void> {
  await ctx.wait({
    what: `the ${what} update of Lambda function "${ctx.path}" to finish`,
    timeoutMs: 10 * 60_000,
    check: async () => {
      const c = await lambda.getFunctionConfiguration({ FunctionName: name });
      if (c.LastUpdateStatus === 'Failed') {
        const reason = `${c.LastUpdateStatusReasonCode ?? ''} ${c.LastUpdateStatusReason ?? ''}`.trim();
        throw new Error(`the ${what} update failed: ${reason || 'no reason given'}`);
      }
      return c.LastUpdateStatus === 'InProgress'
        ? { done: false, state: 'InProgress' }
        : { done: true, value: undefined };
    },
  });
}

function sortedVpc(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const sorted = (v: unknown) => (Array.isArray(v) ? [...v].map(String).sort() : v);
  return { subnetIds: sorted(value.subnetIds), securityGroupIds: sorted(value.securityGroupIds) };
}

/** Makes the log group (or adopts one Lambda made) with its retention and tags; true when it made it. */
async function ensureLogGroup(
  ctx: OpContext,
  logs: CloudWatchLogs,
  name: string,
  args: Args,
  previousTags: TagMap = {},
): Promise<boolean> {
  const logGroup = logGroupName(name);
  const wanted = { ...args.tags, [PART_OF_TAG]: `${ctx.stack}/${ctx.address}` };
  let made = true;
  try {
    await logs.createLogGroup({ logGroupName: logGroup, tags: wanted });
  } catch (err) {
    if (errorCode(err) !== 'ResourceAlreadyExistsException') throw err;
    made = false;
    const arn = `arn:${partition(ctx.region)}:logs:${ctx.region}:${await ctx.account()}:log-group:${logGroup}`;
    const { set, remove } = tagDelta(previousTags, wanted);
    if (Object.keys(set).length > 0) await logs.tagResource({ resourceArn: arn, tags: set });
    if (remove.length > 0) await logs.untagResource({ resourceArn: arn, tagKeys: remove });
  }
  await logs.putRetentionPolicy({ logGroupName: logGroup, retentionInDays: args.logRetentionDays });
  return made;
}

/** Retention in days by log group name, for every group under a prefix (one listing, paged). */
async function retentionByLogGroup(
  logs: CloudWatchLogs,
  prefix: string,
): Promise<Map<string, number | undefined>> {
  const groups = await allPages(
    (nextToken) => logs.describeLogGroups({ logGroupNamePrefix: prefix, nextToken }),
    (p) => p.logGroups,
    (p) => p.nextToken,
  );
  const out = new Map<string, number | undefined>();
  for (const g of groups) if (g.logGroupName) out.set(g.logGroupName, g.retentionInDays);
  return out;
}

/** The function as it is now, right after a write. */
async function readOne(
  ctx: FindContext,
  lambda: Lambda,
  logs: CloudWatchLogs,
  name: string,
): Promise<LambdaFound> {
  const [fn, retention] = await Promise.all([
    lambda.getFunction({ FunctionName: name }),
    retentionByLogGroup(logs, logGroupName(name)),
  ]);
  return toFound(fn, retention.get(logGroupName(name)), ctx.region);
}

function toFound(fn: GetFunctionResponse, retention: number | undefined, region: string): LambdaFound {
  const c = fn.Configuration!;
  const name = c.FunctionName!;
  // The unqualified ARN, whatever version GetFunction answered for.
  const arn = c.FunctionArn!.replace(/:\$LATEST$/, '');
  const t = fn.Tags ?? {};
  const { [SSM_PATH_VARIABLE]: secretsPath, ...environment } = c.Environment?.Variables ?? {};
  const subnets = c.VpcConfig?.SubnetIds ?? [];
  const source = t[CODE_SOURCE_TAG];
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      runtime: c.Runtime as Args['runtime'],
      handler: c.Handler,
      code: {
        sha256: c.CodeSha256,
        bytes: c.CodeSize,
        ...(source ? { source } : {}),
      } as unknown as Args['code'],
      roleArn: c.Role,
      memoryMb: c.MemorySize,
      timeoutSeconds: c.Timeout,
      environment,
      secretsPath: secretsPath ?? null,
      vpc:
        subnets.length > 0
          ? { subnetIds: subnets, securityGroupIds: c.VpcConfig?.SecurityGroupIds ?? [] }
          : null,
      architecture: (c.Architectures?.[0] ?? 'x86_64') as Args['architecture'],
      reservedConcurrency: fn.Concurrency?.ReservedConcurrentExecutions ?? null,
      // Present even when unknown, so that a log group deleted or left without retention shows as a change.
      logRetentionDays: retention as number,
      tags: userTags(t),
    },
    outputs: {
      name,
      arn,
      invokeArn: `arn:${partition(region)}:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
    },
  };
}
