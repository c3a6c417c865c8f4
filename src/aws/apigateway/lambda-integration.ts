// A route of an HTTP API with its Lambda proxy integration: one resource, since neither is any use alone.
// Neither takes tags: the integration's description names the stack and address that own both.
import type { ApiGatewayV2, Integration, Route } from '@aws-sdk/client-apigatewayv2';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { apiIdsFor } from './http-api.js';

const fields = {
  /** The route's label. */
  name: field(z.string().min(1).max(200)),
  /** The HTTP API (`api.id`). Changing it means a new route and integration. */
  apiId: field(input(z.string().min(1)), { replace: true }),
  /** The function requests go to: its `arn` (its `invokeArn` works too). */
  functionArn: field(
    input(z.string().regex(/^arn:aws[a-z-]*:(lambda|apigateway):/, "pass the function's arn or invokeArn")),
    { normalize: functionArnOf },
  ),
  /**
   * @default '$default': every request the other routes do not take. Or a method and path, such as
   * 'ANY /{proxy+}' (everything under /) or 'GET /health'.
   */
  routeKey: field(
    z
      .string()
      .regex(
        /^(\$default|(ANY|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \/\S*)$/,
        "a route key is '$default' or a method and a path, like 'ANY /{proxy+}'",
      )
      .default('$default'),
  ),
  /** @default '2.0': the event shape the function receives (Mangum and apig-wsgi read both). */
  payloadFormatVersion: field(z.enum(['2.0', '1.0']).default('2.0')),
  /** @default 29000: milliseconds API Gateway waits for the function (50 to 30000, an HTTP API's limit). */
  timeoutMillis: field(z.number().int().min(50).max(30_000).default(29_000)),
};

export interface LambdaProxyRouteOutputs {
  routeId: string;
  integrationId: string;
}

type Args = ArgsOf<typeof fields>;
type RouteFound = Found<Args, LambdaProxyRouteOutputs>;

const OWNER = /^Managed by Touchdown: stack=(\S+) resource=(.+)$/;

export const LambdaProxyRoute = defineResourceType({
  kind: 'lambda-proxy-route',
  noun: 'Lambda proxy route',
  fields,
  outputs: ['routeId', 'integrationId'],
  defaultOutput: 'routeId',
  identity: { by: 'address' },

  async find(ctx, wanted) {
    const api = await ctx.aws.apiGateway();
    const apiIds = await apiIdsFor(
      ctx,
      wanted.map((w) => w.args.apiId),
    );
    // Two listings per API (routes, integrations); GetApis has already named the stack's APIs.
    const limit = pLimit(8);
    const perApi = await Promise.all(
      apiIds.map((ApiId) =>
        limit(async () => {
          const [routes, integrations] = await Promise.all([
            ignoreNotFound(routesOf(api, ApiId)),
            ignoreNotFound(integrationsOf(api, ApiId)),
          ]);
          return (integrations ?? []).flatMap((i) => {
            const owner = OWNER.exec(i.Description ?? '');
            if (owner?.[1] !== ctx.stack) return [];
            const route = (routes ?? []).find((r) => r.Target === `integrations/${i.IntegrationId}`);
            return [toFound(ApiId, i, route, owner[2]!)];
          });
        }),
      ),
    );
    return perApi.flat();
  },

  async create(ctx, args) {
    const api = await ctx.aws.apiGateway();
    const integration = await api.createIntegration({
      ApiId: args.apiId,
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: functionArnOf(args.functionArn) as string,
      PayloadFormatVersion: args.payloadFormatVersion,
      TimeoutInMillis: args.timeoutMillis,
      Description: ownerOf(ctx),
    });
    try {
      await api.createRoute({
        ApiId: args.apiId,
        RouteKey: args.routeKey,
        Target: `integrations/${integration.IntegrationId}`,
      });
    } catch (err) {
      // An integration without its route serves nothing: take it back.
      await ignoreNotFound(
        api.deleteIntegration({ ApiId: args.apiId, IntegrationId: integration.IntegrationId }),
      );
      throw err;
    }
    return readOne(ctx, api, args.apiId, integration.IntegrationId!);
  },

  async update(ctx, found, args, changed) {
    const api = await ctx.aws.apiGateway();
    const { integrationId: IntegrationId, routeId: RouteId } = found.outputs;
    const ApiId = args.apiId;
    if (changed.some((c) => ['functionArn', 'payloadFormatVersion', 'timeoutMillis'].includes(c))) {
      await api.updateIntegration({
        ApiId,
        IntegrationId,
        IntegrationUri: functionArnOf(args.functionArn) as string,
        PayloadFormatVersion: args.payloadFormatVersion,
        TimeoutInMillis: args.timeoutMillis,
      });
    }
    if (changed.includes('routeKey')) {
      // The route may be gone (deleted outside Touchdown) while its integration stayed.
      if (RouteId) await api.updateRoute({ ApiId, RouteId, RouteKey: args.routeKey });
      else await api.createRoute({ ApiId, RouteKey: args.routeKey, Target: `integrations/${IntegrationId}` });
    }
    return readOne(ctx, api, ApiId, IntegrationId);
  },

  async delete(ctx, found) {
    const api = await ctx.aws.apiGateway();
    const ApiId = found.args.apiId!;
    // The route first: an integration a route targets cannot be deleted.
    if (found.outputs.routeId)
      await ignoreNotFound(api.deleteRoute({ ApiId, RouteId: found.outputs.routeId }));
    await ignoreNotFound(api.deleteIntegration({ ApiId, IntegrationId: found.outputs.integrationId }));
  },
});

function ownerOf(ctx: OpContext): string {
  return `Managed by Touchdown: stack=${ctx.stack} resource=${ctx.address}`;
}

/** A function's ARN, from its ARN or from the invoke ARN API Gateway uses. */
function functionArnOf(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return /\/functions\/(arn:[^/]+)\/invocations$/.exec(value)?.[1] ?? value;
}

function routesOf(api: ApiGatewayV2, ApiId: string): Promise<Route[]> {
  return allPages(
    (NextToken) => api.getRoutes({ ApiId, NextToken }),
    (p) => p.Items,
  );
}

function integrationsOf(api: ApiGatewayV2, ApiId: string): Promise<Integration[]> {
  return allPages(
    (NextToken) => api.getIntegrations({ ApiId, NextToken }),
    (p) => p.Items,
  );
}

async function readOne(
  ctx: OpContext,
  api: ApiGatewayV2,
  ApiId: string,
  IntegrationId: string,
): Promise<RouteFound> {
  const [integration, routes] = await Promise.all([
    api.getIntegration({ ApiId, IntegrationId }),
    routesOf(api, ApiId),
  ]);
  const route = routes.find((r) => r.Target === `integrations/${IntegrationId}`);
  return toFound(ApiId, integration, route, ctx.address);
}

function toFound(apiId: string, i: Integration, route: Route | undefined, key: string): RouteFound {
  return {
    key,
    id: route?.RouteId ?? i.IntegrationId!,
    args: {
      apiId,
      functionArn: i.IntegrationUri,
      // A route deleted outside Touchdown shows as a route key to put back.
      routeKey: route?.RouteKey as string,
      payloadFormatVersion: i.PayloadFormatVersion as Args['payloadFormatVersion'],
      timeoutMillis: i.TimeoutInMillis,
    },
    outputs: { routeId: route?.RouteId ?? '', integrationId: i.IntegrationId! },
  };
}
