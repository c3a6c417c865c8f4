// Lambda permission: lets one service (API Gateway, EventBridge) invoke a function, from one source only.
// Statements carry no tags: a statement is the stack's when its id starts with `<stack>_`.
import { createHash } from 'node:crypto';
import type { Lambda } from '@aws-sdk/client-lambda';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { stackResources } from '../tagging.js';

const KIND = 'lambda-permission';

const fields = {
  /** The permission's label; its statement id in the function's policy is `<stack>_<label>`. */
  name: field(z.string().min(1).max(200)),
  /** The function's name or ARN (`fn.name` or `fn.arn`). Changing it means a new permission. */
  functionName: field(input(z.string().min(1).max(170)), { replace: true, normalize: functionNameOf }),
  /**
   * An alias (e.g. `live`) or version the permission is for: invoking an alias needs a permission on the
   * alias itself. @default none: the unqualified function. Changing it means a new permission.
   */
  qualifier: field(
    z
      .string()
      .regex(/^[A-Za-z0-9_$-]{1,128}$/, 'an alias name like live, or a version number')
      .optional(),
    { replace: true },
  ),
  /** Who may invoke: a service such as `apigateway.amazonaws.com`, or an account id. */
  principal: field(z.string().min(1), { replace: true, normalize: principalForm }),
  /**
   * Only calls from this source, e.g. an HttpApi's `executionArn`: without it any account's API Gateway
   * could invoke the function. Changing it means a new permission (AWS edits none in place).
   */
  sourceArn: field(input(z.string().startsWith('arn:')), { replace: true }),
  /** @default 'lambda:InvokeFunction' */
  action: field(
    z
      .string()
      .regex(/^lambda:[A-Za-z*]+$/)
      .default('lambda:InvokeFunction'),
    { replace: true },
  ),
};

export interface LambdaPermissionOutputs {
  statementId: string;
}

type Args = ArgsOf<typeof fields>;
type PermissionFound = Found<Args, LambdaPermissionOutputs>;

interface Statement {
  Sid?: string;
  Principal?: string | { Service?: string; AWS?: string };
  Action?: string | string[];
  Resource?: string;
  Condition?: { ArnLike?: Record<string, string> };
}

export const LambdaPermission = defineResourceType({
  kind: KIND,
  noun: 'Lambda permission',
  listedAs: 'lambda',
  fields,
  outputs: ['statementId'],
  defaultOutput: 'statementId',
  identity: { by: 'address' },

  async find(ctx, wanted) {
    const lambda = await ctx.aws.lambda();
    // The stack's functions (one tagging call), and functions outside it named literally.
    const functions = new Set<string>();
    for (const r of await stackResources(ctx, ['lambda:function'])) functions.add(nameOf(r.arn));
    for (const w of wanted)
      if (typeof w.args.functionName === 'string') functions.add(nameOf(w.args.functionName));
    const addresses = new Map(
      wanted.map((w) => [statementIdFor(ctx.stack, w.address.slice(KIND.length + 1)), w.address]),
    );
    // Each function's own policy, and those of the aliases or versions declared permissions name (an
    // alias keeps its statements apart from its function's).
    const qualifiers = new Set<string | undefined>([undefined]);
    for (const w of wanted) if (typeof w.args.qualifier === 'string') qualifiers.add(w.args.qualifier);
    const policies = [...functions].flatMap((name) => [...qualifiers].map((q) => [name, q] as const));
    const limit = pLimit(8);
    const read = await Promise.all(
      policies.map(([name, qualifier]) =>
        limit(async () => [name, await policyOf(lambda, name, qualifier)] as const),
      ),
    );
    // A statement is found once, whichever policy showed it.
    const found = new Map<string, PermissionFound>();
    for (const [name, statements] of read) {
      for (const s of statements) {
        if (!s.Sid?.startsWith(`${ctx.stack}_`) || found.has(s.Sid)) continue;
        found.set(s.Sid, toFound(s, name, addresses.get(s.Sid) ?? `${KIND}.${s.Sid}`));
      }
    }
    return [...found.values()];
  },

  async create(ctx, args) {
    const lambda = await ctx.aws.lambda();
    const statementId = statementIdFor(ctx.stack, ctx.path);
    const functionName = nameOf(args.functionName);
    await whenFree(ctx, () =>
      lambda.addPermission({
        FunctionName: functionName,
        StatementId: statementId,
        Action: args.action,
        Principal: args.principal,
        SourceArn: args.sourceArn,
        Qualifier: args.qualifier,
      }),
    );
    return ctx.wait({
      what: `permission "${ctx.path}" to show in the function's policy`,
      timeoutMs: 60_000,
      check: async () => {
        const s = (await policyOf(lambda, functionName, args.qualifier)).find((x) => x.Sid === statementId);
        return s
          ? { done: true, value: toFound(s, functionName, ctx.address) }
          : { done: false, state: 'absent' };
      },
    });
  },

  async delete(ctx, found) {
    const lambda = await ctx.aws.lambda();
    const FunctionName = found.args.functionName!;
    await whenFree(ctx, () =>
      ignoreNotFound(
        lambda.removePermission({ FunctionName, StatementId: found.id, Qualifier: found.args.qualifier }),
      ),
    );
  },
});

/**
 * `<stack>_<path>`, cut to Lambda's 100 characters with a hash. An underscore never occurs in a stack's
 * name, so the stack "web" never takes the stack "web-api"'s statements for its own.
 */
export function statementIdFor(stack: string, path: string): string {
  const id = `${stack}_${path.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
  if (id.length <= 100) return id;
  const hash = createHash('sha256').update(`${stack}/${path}`).digest('hex').slice(0, 6);
  return `${id.slice(0, 93)}-${hash}`;
}

/** A function's name, from its name or its (possibly qualified) ARN. */
function nameOf(functionNameOrArn: string): string {
  return functionNameOrArn.startsWith('arn:')
    ? (functionNameOrArn.split(':')[6] ?? functionNameOrArn)
    : functionNameOrArn;
}

function functionNameOf(value: unknown): unknown {
  return typeof value === 'string' ? nameOf(value) : value;
}

/** AWS writes an account principal as its root ARN. */
function principalForm(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(value)?.[1] ?? value;
}

async function policyOf(lambda: Lambda, functionName: string, qualifier?: string): Promise<Statement[]> {
  // A function (or alias) with no statements, or no longer there, answers ResourceNotFoundException.
  const answer = await ignoreNotFound(lambda.getPolicy({ FunctionName: functionName, Qualifier: qualifier }));
  if (!answer?.Policy) return [];
  return (JSON.parse(answer.Policy) as { Statement?: Statement[] }).Statement ?? [];
}

/** Runs a policy change, waiting while an update to the function is in progress. */
async function whenFree(ctx: OpContext, call: () => Promise<unknown>): Promise<void> {
  await ctx.wait({
    what: `an update of the function of permission "${ctx.path}" to finish`,
    timeoutMs: 10 * 60_000,
    check: async () => {
      try {
        await call();
        return { done: true, value: undefined };
      } catch (err) {
        const message = (err as Error)?.message ?? '';
        if (errorCode(err) === 'ResourceConflictException' && !/already exists/i.test(message))
          return { done: false, state: 'update in progress' };
        throw err;
      }
    },
  });
}

function toFound(s: Statement, functionName: string, key: string): PermissionFound {
  const principal =
    typeof s.Principal === 'string' ? s.Principal : (s.Principal?.Service ?? s.Principal?.AWS);
  return {
    key,
    id: s.Sid!,
    args: {
      functionName,
      // The statement's resource is the function's ARN, with `:<alias or version>` when qualified.
      qualifier: s.Resource?.split(':')[7],
      principal,
      sourceArn: s.Condition?.ArnLike?.['AWS:SourceArn'],
      action: Array.isArray(s.Action) ? s.Action[0] : s.Action,
    },
    outputs: { statementId: s.Sid! },
  };
}
