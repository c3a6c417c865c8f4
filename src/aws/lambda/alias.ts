// Lambda alias: a stable name (`live`) for one published version of a function. API Gateway and schedules
// invoke the alias, so a release moves it to a new version at once and a rollback moves it back.
// Aliases take no tags: the description names the stack and address that own one.
import type { AliasConfiguration, Lambda } from '@aws-sdk/client-lambda';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { allPages, byNextMarker } from '../pages.js';
import { stackResources } from '../tagging.js';

const fields = {
  /** The alias's name, e.g. `live`, and its label. Changing it means a new alias. */
  name: field(
    z
      .string()
      .max(128)
      .regex(/^(?!\d+$)[A-Za-z0-9_-]+$/, 'letters, digits, - and _ (not only digits: those name versions)'),
    { replace: true },
  ),
  /** The function (`fn.name`). Changing it means a new alias. */
  functionName: field(input(z.string().min(1).max(64)), { replace: true }),
  /**
   * The published version it serves, e.g. '7'. @default left where it points; a new alias points at the
   * function's newest published version.
   */
  functionVersion: field(z.string().regex(/^\d+$/, 'a published version number, like "7"').optional()),
};

export interface LambdaAliasOutputs {
  name: string;
  /** The alias's ARN (the function's ARN and `:<name>`): what API Gateway and schedules invoke. */
  arn: string;
  functionVersion: string;
}

type Args = ArgsOf<typeof fields>;
type AliasFound = Found<Args, LambdaAliasOutputs>;

const OWNER = /^Managed by Touchdown: stack=(\S+) resource=(.+)$/;

export const LambdaAlias = defineResourceType({
  kind: 'lambda-alias',
  noun: 'Lambda alias',
  listedAs: 'lambda',
  fields,
  outputs: ['name', 'arn', 'functionVersion'],
  defaultOutput: 'arn',
  updatedOutputs: ['functionVersion'],
  identity: { by: 'address' },

  async find(ctx) {
    const lambda = await ctx.aws.lambda();
    const functions = (await stackResources(ctx, ['lambda:function'])).map((r) => r.arn);
    // One ListAliases per function of the stack.
    const limit = pLimit(8);
    const perFunction = await Promise.all(
      functions.map((arn) =>
        limit(async () => {
          const aliases = (await ignoreNotFound(aliasesOf(lambda, nameOf(arn)))) ?? [];
          return aliases.flatMap((a) => {
            const owner = OWNER.exec(a.Description ?? '');
            return owner?.[1] === ctx.stack ? [toFound(a, nameOf(arn), owner[2]!)] : [];
          });
        }),
      ),
    );
    return perFunction.flat();
  },

  async create(ctx, args) {
    const lambda = await ctx.aws.lambda();
    const version = args.functionVersion ?? (await newestVersion(lambda, args.functionName));
    if (!version) {
      throw new Error(`function ${args.functionName} has no published version yet: publish one first`);
    }
    const created = await lambda.createAlias({
      FunctionName: args.functionName,
      Name: args.name,
      FunctionVersion: version,
      Description: ownerOf(ctx),
    });
    return toFound(created, args.functionName, ctx.address);
  },

  async update(ctx, found, args) {
    const lambda = await ctx.aws.lambda();
    const updated = await lambda.updateAlias({
      FunctionName: args.functionName,
      Name: args.name,
      FunctionVersion: args.functionVersion ?? found.outputs.functionVersion,
      Description: ownerOf(ctx),
    });
    return toFound(updated, args.functionName, ctx.address);
  },

  async delete(ctx, found) {
    const lambda = await ctx.aws.lambda();
    await ignoreNotFound(lambda.deleteAlias({ FunctionName: found.args.functionName!, Name: found.id }));
  },
});

function ownerOf(ctx: OpContext): string {
  return `Managed by Touchdown: stack=${ctx.stack} resource=${ctx.address}`;
}

function nameOf(functionArn: string): string {
  return functionArn.split(':')[6] ?? functionArn;
}

function aliasesOf(lambda: Lambda, FunctionName: string): Promise<AliasConfiguration[]> {
  return allPages(
    (Marker) => lambda.listAliases({ FunctionName, Marker }),
    (p) => p.Aliases,
    byNextMarker,
  );
}

/** The highest published version number, or undefined when only $LATEST exists. */
async function newestVersion(lambda: Lambda, FunctionName: string): Promise<string | undefined> {
  const versions = await allPages(
    (Marker) => lambda.listVersionsByFunction({ FunctionName, Marker }),
    (p) => p.Versions,
    byNextMarker,
  );
  const numbers = versions.map((v) => Number(v.Version)).filter((n) => Number.isInteger(n));
  return numbers.length > 0 ? String(Math.max(...numbers)) : undefined;
}

function toFound(a: AliasConfiguration, functionName: string, key: string): AliasFound {
  return {
    key,
    id: a.Name!,
    args: { name: a.Name, functionName, functionVersion: a.FunctionVersion },
    outputs: { name: a.Name!, arn: a.AliasArn!, functionVersion: a.FunctionVersion! },
  };
}
