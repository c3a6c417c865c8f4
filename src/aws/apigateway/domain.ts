// A custom domain for an HTTP API (api.xkcd.com): a regional endpoint with an ACM certificate, mapped to
// one stage. Route53 points at it with an alias to its targetDomainName and hostedZoneId.
import type { ApiGatewayV2, ApiMapping, DomainName } from '@aws-sdk/client-apigatewayv2';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { RESOURCE_TAG, STACK_TAG, tagDelta, userTags } from '../tags.js';
import { named, partition } from './http-api.js';

const fields = {
  /** The domain's label. */
  name: field(z.string().min(1).max(200)),
  /** The host name, e.g. `api.xkcd.com`. Changing it means a new domain. */
  domainName: field(
    z
      .string()
      .max(253)
      .regex(
        /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
        'a lower-case host name, like api.xkcd.com',
      ),
    { replace: true },
  ),
  /** An issued ACM certificate for the name, in the API's own region (a regional endpoint). */
  certificateArn: field(input(z.string().regex(/^arn:aws[a-z-]*:acm:/, "an ACM certificate's ARN"))),
  /** The HTTP API served at this domain (`api.id`). */
  apiId: field(input(z.string().min(1))),
  /** The stage served (`stage.name`): pass the stage's output so that the mapping waits for the stage. */
  stage: field(input(z.string().min(1))),
  /** @default '' (the root): the path the API is served under, e.g. `v1` for api.xkcd.com/v1/. */
  basePath: field(
    z
      .string()
      .regex(/^([^/\s]+(\/[^/\s]+)*)?$/, 'a base path has no leading, trailing or double "/"')
      .default(''),
  ),
  tags: field(tags()),
};

export interface HttpApiDomainOutputs {
  domainName: string;
  /** What a Route53 alias (or CNAME) points at: d-xxxx.execute-api.<region>.amazonaws.com. */
  targetDomainName: string;
  /** The hosted zone of targetDomainName, for a Route53 alias record. */
  hostedZoneId: string;
  /** The mapping of the API's stage to this domain. */
  apiMappingId: string;
}

type Args = ArgsOf<typeof fields>;
type DomainFound = Found<Args, HttpApiDomainOutputs>;

export const HttpApiDomain = defineResourceType({
  kind: 'http-api-domain',
  noun: 'HTTP API domain',
  fields,
  outputs: ['domainName', 'targetDomainName', 'hostedZoneId', 'apiMappingId'],
  defaultOutput: 'domainName',
  identity: { by: 'address' },

  async find(ctx, wanted) {
    const api = await ctx.aws.apiGateway();
    const domains = (await allDomains(api)).filter((d) => d.Tags?.[STACK_TAG] === ctx.stack);
    const basePaths = new Map(wanted.map((w) => [w.address, w.args.basePath]));
    // One GetApiMappings per domain of the stack.
    const limit = pLimit(8);
    return Promise.all(
      domains.map((d) =>
        limit(async () => {
          const mappings = (await ignoreNotFound(mappingsOf(api, d.DomainName!))) ?? [];
          const key = d.Tags?.[RESOURCE_TAG] ?? d.DomainName!;
          return toFound(d, ownMapping(mappings, basePaths.get(key)));
        }),
      ),
    );
  },

  async create(ctx, args) {
    const api = await ctx.aws.apiGateway();
    await named(
      'CreateDomainName',
      api.createDomainName({
        DomainName: args.domainName,
        DomainNameConfigurations: [configuration(args)],
        Tags: ctx.tags(args.tags),
      }),
    );
    await available(ctx, api, args.domainName);
    await named(
      'CreateApiMapping',
      api.createApiMapping({
        DomainName: args.domainName,
        ApiId: args.apiId,
        Stage: args.stage,
        ApiMappingKey: args.basePath,
      }),
    );
    return readOne(api, args);
  },

  async update(ctx, found, args, changed) {
    const api = await ctx.aws.apiGateway();
    const DomainName = found.id;
    if (changed.includes('certificateArn')) {
      await named(
        'UpdateDomainName',
        api.updateDomainName({ DomainName, DomainNameConfigurations: [configuration(args)] }),
      );
      await available(ctx, api, DomainName);
    }
    if (changed.some((c) => c === 'apiId' || c === 'stage' || c === 'basePath')) {
      const mapping = { DomainName, ApiId: args.apiId, Stage: args.stage, ApiMappingKey: args.basePath };
      // The mapping may be gone (deleted outside Touchdown) while the domain stayed.
      if (found.outputs.apiMappingId) {
        await named(
          'UpdateApiMapping',
          api.updateApiMapping({ ...mapping, ApiMappingId: found.outputs.apiMappingId }),
        );
      } else {
        await named('CreateApiMapping', api.createApiMapping(mapping));
      }
    }
    if (changed.includes('tags')) {
      const ResourceArn = `arn:${partition(ctx.region)}:apigateway:${ctx.region}::/domainnames/${DomainName}`;
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0)
        await named('TagResource', api.tagResource({ ResourceArn, Tags: set }));
      if (remove.length > 0)
        await named('UntagResource', api.untagResource({ ResourceArn, TagKeys: remove }));
    }
    return readOne(api, args);
  },

  async delete(ctx, found) {
    const api = await ctx.aws.apiGateway();
    const DomainName = found.id;
    // Mappings first: they tie the domain to an API.
    const mappings = (await ignoreNotFound(mappingsOf(api, DomainName))) ?? [];
    for (const m of mappings) {
      await named(
        'DeleteApiMapping',
        ignoreNotFound(api.deleteApiMapping({ DomainName, ApiMappingId: m.ApiMappingId })),
      );
    }
    await named('DeleteDomainName', ignoreNotFound(api.deleteDomainName({ DomainName })));
  },
});

/** A regional endpoint with TLS 1.2: edge endpoints need a certificate in us-east-1 and are not made here. */
function configuration(args: Args) {
  return {
    CertificateArn: args.certificateArn,
    EndpointType: 'REGIONAL' as const,
    SecurityPolicy: 'TLS_1_2' as const,
  };
}

async function allDomains(api: ApiGatewayV2): Promise<DomainName[]> {
  return allPages(
    (NextToken) => api.getDomainNames({ NextToken, MaxResults: '100' }),
    (p) => p.Items,
  );
}

function mappingsOf(api: ApiGatewayV2, DomainName: string): Promise<ApiMapping[]> {
  return allPages(
    (NextToken) => api.getApiMappings({ DomainName, NextToken }),
    (p) => p.Items,
  );
}

/** The mapping this resource manages: the one at its base path, else the only one there is. */
function ownMapping(mappings: ApiMapping[], basePath: unknown): ApiMapping | undefined {
  return mappings.find((m) => (m.ApiMappingKey ?? '') === basePath) ?? mappings[0];
}

/** Waits while API Gateway sets the domain up (UPDATING); a certificate it cannot use fails the step. */
async function available(ctx: OpContext, api: ApiGatewayV2, DomainName: string): Promise<void> {
  await ctx.wait({
    what: `domain ${DomainName} to become available`,
    timeoutMs: 10 * 60_000,
    hint: 'check in the API Gateway console that the certificate is issued and covers the name',
    check: async () => {
      const d = await named('GetDomainName', api.getDomainName({ DomainName }));
      const c = d.DomainNameConfigurations?.[0];
      if (c?.DomainNameStatus === 'PENDING_CERTIFICATE_REIMPORT') {
        throw new Error(`the certificate must be imported again: ${c.DomainNameStatusMessage ?? ''}`.trim());
      }
      // Only a status saying work is under way is waited for.
      return c?.DomainNameStatus === 'UPDATING' || c?.DomainNameStatus === 'PENDING_OWNERSHIP_VERIFICATION'
        ? { done: false, state: c.DomainNameStatus }
        : { done: true, value: undefined };
    },
  });
}

async function readOne(api: ApiGatewayV2, args: Args): Promise<DomainFound> {
  const [domain, mappings] = await Promise.all([
    named('GetDomainName', api.getDomainName({ DomainName: args.domainName })),
    named('GetApiMappings', mappingsOf(api, args.domainName)),
  ]);
  return toFound(domain as DomainName, ownMapping(mappings, args.basePath));
}

function toFound(d: DomainName, mapping: ApiMapping | undefined): DomainFound {
  const name = d.DomainName!;
  const t = d.Tags ?? {};
  const c = d.DomainNameConfigurations?.[0];
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      domainName: name,
      certificateArn: c?.CertificateArn,
      // A mapping deleted outside Touchdown shows as the API and stage to map again.
      apiId: mapping?.ApiId as string,
      stage: mapping?.Stage as string,
      basePath: mapping?.ApiMappingKey ?? '',
      tags: userTags(t),
    },
    outputs: {
      domainName: name,
      targetDomainName: c?.ApiGatewayDomainName ?? '',
      hostedZoneId: c?.HostedZoneId ?? '',
      apiMappingId: mapping?.ApiMappingId ?? '',
    },
  };
}
