// HTTP API (API Gateway v2): the HTTPS front door that hands each request to a Lambda function.
import type { Api, ApiGatewayV2, Cors } from '@aws-sdk/client-apigatewayv2';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { isPlainObject } from '../../core/ref.js';
import { defineResourceType, type FindContext, type Found } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { RESOURCE_TAG, STACK_TAG, tagDelta, userTags } from '../tags.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', '*'] as const;

const cors = z.strictObject({
  /** Origins allowed to call the API from a browser, e.g. `['https://xkcd.com']`; `'*'` allows any. */
  allowOrigins: z.array(input(z.string().min(1))).min(1),
  /** @default ['*'] */
  allowMethods: z.array(z.enum(METHODS)).min(1).default(['*']),
  /** @default [] */
  allowHeaders: z.array(z.string().min(1)).default([]),
  /** @default [] */
  exposeHeaders: z.array(z.string().min(1)).default([]),
  /** Seconds a browser may cache the answer to a preflight request. @default none */
  maxAgeSeconds: z.number().int().min(0).max(86400).optional(),
  /** @default false: cookies and Authorization headers are not sent cross-origin. */
  allowCredentials: z.boolean().default(false),
});

const fields = {
  /** The API's label; its name in AWS is derived from the stack and this. */
  name: field(z.string().min(1).max(200)),
  /** @default none: browsers on other origins cannot call the API. */
  corsConfiguration: field(cors.nullable().default(null), { normalize: canonicalCors }),
  /**
   * @default false. Set true once a custom domain (HttpApiDomain) serves the API, so that the
   * https://<id>.execute-api.<region>.amazonaws.com address stops answering.
   */
  disableExecuteApiEndpoint: field(z.boolean().default(false)),
  tags: field(tags()),
};

export interface HttpApiOutputs {
  id: string;
  /** https://<id>.execute-api.<region>.amazonaws.com */
  endpoint: string;
  /** The API itself, for tagging and IAM: arn:aws:apigateway:<region>::/apis/<id>. */
  arn: string;
  /**
   * Every stage, method and route of the API (arn:aws:execute-api:<region>:<account>:<id>/*): pass it as a
   * LambdaPermission's sourceArn so that only this API may invoke the function.
   */
  executionArn: string;
}

type Args = ArgsOf<typeof fields>;
type ApiFound = Found<Args, HttpApiOutputs>;

export const HttpApi = defineResourceType({
  kind: 'http-api',
  noun: 'HTTP API',
  fields,
  outputs: ['id', 'endpoint', 'arn', 'executionArn'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  check(args) {
    const c = args.corsConfiguration;
    if (c?.allowCredentials && c.allowOrigins.includes('*')) {
      return ['corsConfiguration: browsers send no credentials to a "*" origin; list the origins instead'];
    }
    return [];
  },

  async find(ctx) {
    const api = await ctx.aws.apiGateway();
    const apis = (await allApis(api)).filter((a) => a.Tags?.[STACK_TAG] === ctx.stack);
    if (apis.length === 0) return [];
    const account = await ctx.account();
    return apis.map((a) => toFound(a, ctx.region, account));
  },

  async create(ctx, args) {
    const api = await ctx.aws.apiGateway();
    const created = await api.createApi({
      Name: physicalName(ctx.stack, ctx.path, { max: 128, allowed: /[A-Za-z0-9_-]/ }),
      ProtocolType: 'HTTP',
      CorsConfiguration: toCors(args.corsConfiguration),
      DisableExecuteApiEndpoint: args.disableExecuteApiEndpoint,
      Tags: ctx.tags(args.tags),
    });
    return readOne(ctx, api, created.ApiId!);
  },

  async update(ctx, found, args, changed) {
    const api = await ctx.aws.apiGateway();
    const ApiId = found.id;
    if (changed.includes('corsConfiguration') && args.corsConfiguration === null) {
      await ignoreNotFound(api.deleteCorsConfiguration({ ApiId }));
    }
    if (
      changed.includes('disableExecuteApiEndpoint') ||
      (changed.includes('corsConfiguration') && args.corsConfiguration !== null)
    ) {
      await api.updateApi({
        ApiId,
        CorsConfiguration: toCors(args.corsConfiguration),
        DisableExecuteApiEndpoint: args.disableExecuteApiEndpoint,
      });
    }
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0) await api.tagResource({ ResourceArn: found.outputs.arn, Tags: set });
      if (remove.length > 0) await api.untagResource({ ResourceArn: found.outputs.arn, TagKeys: remove });
    }
    return readOne(ctx, api, ApiId);
  },

  async delete(ctx, found) {
    const api = await ctx.aws.apiGateway();
    await ignoreNotFound(api.deleteApi({ ApiId: found.id }));
  },
});

/** Listings in flight, by client: the finders of APIs, routes and stages start together and share one. */
const listing = new WeakMap<ApiGatewayV2, Promise<Api[]>>();

/** Every API in the region (GetApis has no filter), a hundred a page. */
export function allApis(api: ApiGatewayV2): Promise<Api[]> {
  let apis = listing.get(api);
  if (!apis) {
    apis = allPages(
      (NextToken) => api.getApis({ MaxResults: '100', NextToken }),
      (p) => p.Items,
    ).finally(() => listing.delete(api));
    listing.set(api, apis);
  }
  return apis;
}

/**
 * The APIs whose children (routes, stages) a finder looks at: the stack's own, found by tag, and APIs
 * outside it that declarations name by id.
 */
export async function apiIdsFor(ctx: FindContext, declared: unknown[]): Promise<string[]> {
  const api = await ctx.aws.apiGateway();
  const ids = new Set(
    (await allApis(api)).filter((a) => a.Tags?.[STACK_TAG] === ctx.stack).map((a) => a.ApiId!),
  );
  for (const id of declared) if (typeof id === 'string') ids.add(id);
  return [...ids];
}

/**
 * Awaits one AWS call of the several a step makes, so that a failure names the call (API Gateway's
 * messages rarely do). The error itself is kept, code and status included.
 */
export async function named<T>(operation: string, request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof Error && !err.message.startsWith(operation))
      err.message = `${operation}: ${err.message}`;
    throw err;
  }
}

export function partition(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

function toCors(c: Args['corsConfiguration']): Cors | undefined {
  if (c === null) return undefined;
  return {
    AllowOrigins: c.allowOrigins,
    AllowMethods: c.allowMethods,
    AllowHeaders: c.allowHeaders.length > 0 ? c.allowHeaders : undefined,
    ExposeHeaders: c.exposeHeaders.length > 0 ? c.exposeHeaders : undefined,
    MaxAge: c.maxAgeSeconds,
    AllowCredentials: c.allowCredentials,
  };
}

function fromCors(c: Cors | undefined): Args['corsConfiguration'] {
  if (!c?.AllowOrigins?.length) return null;
  return {
    allowOrigins: c.AllowOrigins,
    allowMethods: (c.AllowMethods ?? []) as (typeof METHODS)[number][],
    allowHeaders: c.AllowHeaders ?? [],
    exposeHeaders: c.ExposeHeaders ?? [],
    maxAgeSeconds: c.MaxAge,
    allowCredentials: c.AllowCredentials ?? false,
  };
}

/** Lists compare as sets; header names without case (AWS lower-cases them). */
function canonicalCors(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const set = (v: unknown, lower = false) =>
    Array.isArray(v) ? [...new Set(v.map((x) => (lower ? String(x).toLowerCase() : String(x))))].sort() : v;
  return {
    allowOrigins: set(value.allowOrigins),
    allowMethods: set(value.allowMethods),
    allowHeaders: set(value.allowHeaders, true),
    exposeHeaders: set(value.exposeHeaders, true),
    maxAgeSeconds: value.maxAgeSeconds,
    allowCredentials: value.allowCredentials === true,
  };
}

async function readOne(ctx: FindContext, api: ApiGatewayV2, ApiId: string): Promise<ApiFound> {
  const [got, account] = await Promise.all([api.getApi({ ApiId }), ctx.account()]);
  return toFound(got as Api, ctx.region, account);
}

function toFound(a: Api, region: string, account: string): ApiFound {
  const id = a.ApiId!;
  const t = a.Tags ?? {};
  return {
    key: t[RESOURCE_TAG] ?? id,
    id,
    args: {
      corsConfiguration: fromCors(a.CorsConfiguration),
      disableExecuteApiEndpoint: a.DisableExecuteApiEndpoint ?? false,
      tags: userTags(t),
    },
    outputs: {
      id,
      endpoint: a.ApiEndpoint ?? `https://${id}.execute-api.${region}.amazonaws.com`,
      arn: `arn:${partition(region)}:apigateway:${region}::/apis/${id}`,
      executionArn: `arn:${partition(region)}:execute-api:${region}:${account}:${id}/*`,
    },
  };
}
