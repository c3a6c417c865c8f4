// A stage of an HTTP API: the deployed, callable version of its routes, with throttling and access logs.
import type { ApiGatewayV2, Stage } from '@aws-sdk/client-apigatewayv2';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type WaitSpec } from '../../core/resource.js';
import { DEFAULT_WAIT_TIMING, type WaitTiming, waitFor } from '../../core/wait.js';
import type { AwsClients } from '../clients.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { RESOURCE_TAG, STACK_TAG, tagDelta, userTags } from '../tags.js';
import { apiIdsFor, named, partition } from './http-api.js';

/** One JSON line per request: what a Django operator looks for first. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
});

const fields = {
  /**
   * @default '$default': the stage's name, and its label. '$default' serves the API at its root; any other
   * name prefixes every path (`/prod/...`). Changing it means a new stage.
   */
  name: field(
    z
      .string()
      .regex(/^(\$default|[A-Za-z0-9_-]{1,128})$/, "a stage is '$default' or letters, digits, - and _")
      .default('$default'),
    { replace: true },
  ),
  /** The HTTP API (`api.id`). Changing it means a new stage. */
  apiId: field(input(z.string().min(1)), { replace: true }),
  /** @default true: every change to routes is live at once. When false, `deployHttpApiStage` publishes them. */
  autoDeploy: field(z.boolean().default(true)),
  /** Where access logs go (a log group's ARN) and in what shape. @default none; left as it is when removed. */
  accessLogs: field(
    z
      .strictObject({
        destinationArn: input(z.string().startsWith('arn:')),
        /** @default one JSON object a request: id, IP, time, method, route, path, status, latency. */
        format: z.string().min(1).default(ACCESS_LOG_FORMAT),
      })
      .optional(),
    { normalize: withoutWildcard },
  ),
  /**
   * Requests per second (rateLimit) and bursts (burstLimit) the stage accepts before answering 429.
   * @default AWS's account limits; left as it is when removed.
   */
  throttling: field(
    z
      .strictObject({
        burstLimit: z.number().int().min(0),
        rateLimit: z.number().min(0),
      })
      .optional(),
  ),
  tags: field(tags()),
};

export interface HttpApiStageOutputs {
  name: string;
  /** https://<api>.execute-api.<region>.amazonaws.com/ (plus the stage's name unless it is $default). */
  invokeUrl: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type StageFound = Found<Args, HttpApiStageOutputs>;

export const HttpApiStage = defineResourceType({
  kind: 'http-api-stage',
  noun: 'HTTP API stage',
  fields,
  outputs: ['name', 'invokeUrl', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  async find(ctx, wanted) {
    const api = await ctx.aws.apiGateway();
    const apiIds = await apiIdsFor(
      ctx,
      wanted.map((w) => w.args.apiId),
    );
    // One GetStages per API: stages carry their tags, so ownership needs no further call.
    const limit = pLimit(8);
    const perApi = await Promise.all(
      apiIds.map((ApiId) =>
        limit(async () => [ApiId, (await ignoreNotFound(stagesOf(api, ApiId))) ?? []] as const),
      ),
    );
    return perApi.flatMap(([apiId, stages]) =>
      stages.filter((s) => s.Tags?.[STACK_TAG] === ctx.stack).map((s) => toFound(apiId, s, ctx.region)),
    );
  },

  async create(ctx, args) {
    const api = await ctx.aws.apiGateway();
    await named(
      'CreateStage',
      api.createStage({
        ApiId: args.apiId,
        StageName: args.name,
        AutoDeploy: args.autoDeploy,
        AccessLogSettings: args.accessLogs && {
          DestinationArn: withoutWildcard(args.accessLogs).destinationArn,
          Format: args.accessLogs.format,
        },
        DefaultRouteSettings: args.throttling && {
          ThrottlingBurstLimit: args.throttling.burstLimit,
          ThrottlingRateLimit: args.throttling.rateLimit,
        },
        Tags: ctx.tags(args.tags),
      }),
    );
    // Without automatic deployment the stage serves nothing until a deployment reaches it.
    if (!args.autoDeploy) await deploy(api, args.apiId, args.name, ctx.wait);
    return readOne(api, args.apiId, args.name, ctx.region);
  },

  async update(ctx, found, args, changed) {
    const api = await ctx.aws.apiGateway();
    if (changed.some((c) => c === 'autoDeploy' || c === 'accessLogs' || c === 'throttling')) {
      await named(
        'UpdateStage',
        api.updateStage({
          ApiId: args.apiId,
          StageName: args.name,
          AutoDeploy: args.autoDeploy,
          AccessLogSettings: args.accessLogs && {
            DestinationArn: withoutWildcard(args.accessLogs).destinationArn,
            Format: args.accessLogs.format,
          },
          DefaultRouteSettings: args.throttling && {
            ThrottlingBurstLimit: args.throttling.burstLimit,
            ThrottlingRateLimit: args.throttling.rateLimit,
          },
        }),
      );
    }
    if (changed.includes('tags')) {
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      const ResourceArn = found.outputs.arn;
      if (Object.keys(set).length > 0)
        await named('TagResource', api.tagResource({ ResourceArn, Tags: set }));
      if (remove.length > 0)
        await named('UntagResource', api.untagResource({ ResourceArn, TagKeys: remove }));
    }
    return readOne(api, args.apiId, args.name, ctx.region);
  },

  async delete(ctx, found) {
    const api = await ctx.aws.apiGateway();
    await named(
      'DeleteStage',
      ignoreNotFound(api.deleteStage({ ApiId: found.args.apiId!, StageName: found.id })),
    );
  },
});

/**
 * Publishes an HTTP API's current routes to a stage whose autoDeploy is off, and waits until the deployment
 * is DEPLOYED; a FAILED one throws with API Gateway's reason. Returns the deployment's id.
 */
export async function deployHttpApiStage(
  aws: AwsClients,
  apiId: string,
  stage: string,
  options: { signal?: AbortSignal; timing?: WaitTiming; progress?: (message: string) => void } = {},
): Promise<string> {
  const api = await aws.apiGateway();
  return deploy(api, apiId, stage, (spec) =>
    waitFor(spec, {
      timing: options.timing ?? DEFAULT_WAIT_TIMING,
      signal: options.signal ?? new AbortController().signal,
      progress: (state) => options.progress?.(`deployment ${state}`),
    }),
  );
}

async function deploy(
  api: ApiGatewayV2,
  ApiId: string,
  StageName: string,
  wait: <T>(spec: WaitSpec<T>) => Promise<T>,
): Promise<string> {
  const { DeploymentId } = await named('CreateDeployment', api.createDeployment({ ApiId, StageName }));
  await wait({
    what: `the deployment of stage "${StageName}" to finish`,
    timeoutMs: 5 * 60_000,
    check: async () => {
      const d = await named('GetDeployment', api.getDeployment({ ApiId, DeploymentId }));
      if (d.DeploymentStatus === 'FAILED') {
        throw new Error(`the deployment failed: ${d.DeploymentStatusMessage ?? 'no reason given'}`);
      }
      return d.DeploymentStatus === 'DEPLOYED'
        ? { done: true, value: undefined }
        : { done: false, state: d.DeploymentStatus ?? 'PENDING' };
    },
  });
  return DeploymentId!;
}

/** A log group's ARN as `describeLogGroups` gives it ends in `:*`; API Gateway wants it without. */
function withoutWildcard<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const v = value as { destinationArn?: unknown };
  return typeof v.destinationArn === 'string'
    ? { ...value, destinationArn: v.destinationArn.replace(/:\*$/, '') }
    : value;
}

function stagesOf(api: ApiGatewayV2, ApiId: string): Promise<Stage[]> {
  return allPages(
    (NextToken) => api.getStages({ ApiId, NextToken }),
    (p) => p.Items,
  );
}

async function readOne(
  api: ApiGatewayV2,
  ApiId: string,
  StageName: string,
  region: string,
): Promise<StageFound> {
  const stage = await named('GetStage', api.getStage({ ApiId, StageName }));
  return toFound(ApiId, stage as Stage, region);
}

function toFound(apiId: string, s: Stage, region: string): StageFound {
  const name = s.StageName!;
  const t = s.Tags ?? {};
  const r = s.DefaultRouteSettings;
  const args: Partial<Args> = {
    name,
    apiId,
    autoDeploy: s.AutoDeploy ?? false,
    accessLogs: s.AccessLogSettings?.DestinationArn
      ? { destinationArn: s.AccessLogSettings.DestinationArn, format: s.AccessLogSettings.Format ?? '' }
      : undefined,
    throttling:
      r?.ThrottlingBurstLimit !== undefined || r?.ThrottlingRateLimit !== undefined
        ? { burstLimit: r?.ThrottlingBurstLimit ?? 0, rateLimit: r?.ThrottlingRateLimit ?? 0 }
        : undefined,
    tags: userTags(t),
  };
  return {
    key: t[RESOURCE_TAG] ?? `${apiId}/${name}`,
    id: name,
    args,
    outputs: {
      name,
      invokeUrl: `https://${apiId}.execute-api.${region}.amazonaws.com/${name === '$default' ? '' : name}`,
      arn: `arn:${partition(region)}:apigateway:${region}::/apis/${apiId}/stages/${name}`,
    },
  };
}
