// OpenSearch Service domain: the app's search engine (seed 002's "managed Elasticsearch service"), inside the
// VPC, encrypted at rest and between nodes, HTTPS only, answering only the IAM roles named in its access policy.

import { isDeepStrictEqual } from 'node:util';
import type { DomainStatus, OpenSearch } from '@aws-sdk/client-opensearch';
import { z } from 'zod';
import { type ArgsOf, field, input, normalizePolicy, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { stackResources } from '../tagging.js';
import { RESOURCE_TAG, type TagMap, tagDelta, tagList, tagMap, userTags } from '../tags.js';

/** The oldest TLS AWS lets a client use with the domain. */
export const TLS_POLICY = 'Policy-Min-TLS-1-2-2019-07' as const;

const fields = {
  /** Its name in AWS is `<stack>-<path>`, lower case, 3 to 28 characters. */
  name: field(z.string().min(1).max(200)),
  /** `OpenSearch_<major>.<minor>`; raised in place with an upgrade (never lowered). @default 'OpenSearch_2.19' */
  engineVersion: field(
    z
      .string()
      .regex(/^OpenSearch_\d+\.\d+$/, "write it like 'OpenSearch_2.19'")
      .default('OpenSearch_2.19'),
  ),
  /** Data node type. @default 't3.small.search' (2 vCPU burstable, 2 GB; the smallest that takes encryption) */
  instanceType: field(
    z
      .string()
      .regex(/^[a-z0-9]+\.[a-z0-9]+\.search$/, 'write it like t3.small.search')
      .default('t3.small.search'),
  ),
  /** Data nodes; more than one spreads them over the subnets' zones (a multiple of their number). @default 1 */
  instanceCount: field(z.number().int().min(1).max(80).default(1)),
  /** gp3 storage per node in GB. @default 10 */
  volumeSize: field(z.number().int().min(10).max(3584).default(10)),
  /** One private subnet per zone the nodes use: one for a single node, two or three otherwise. Changed in place. */
  subnetIds: field(
    z
      .array(input(z.string().min(1)))
      .min(1)
      .max(3),
    { unordered: true },
  ),
  /** Security groups of the domain's network interfaces (who may reach port 443). */
  securityGroupIds: field(z.array(input(z.string().min(1))).min(1), { unordered: true }),
  /** IAM roles allowed to call the domain's HTTP API (es:ESHttp*); no one else is. */
  accessRoleArns: field(z.array(input(z.string().startsWith('arn:'))).min(1), { unordered: true }),
  /** UTC hour of the daily automated snapshot (kept 14 days by AWS). @default 3 */
  snapshotHour: field(z.number().int().min(0).max(23).default(3)),
  tags: field(tags()),
};

export interface OpenSearchDomainOutputs {
  name: string;
  arn: string;
  /** The VPC endpoint's host name (empty until AWS assigns it). */
  endpoint: string;
  /** `https://<endpoint>`, for OPENSEARCH_URL. */
  url: string;
}

type Args = ArgsOf<typeof fields>;
type DomainFound = Found<Args, OpenSearchDomainOutputs>;

// AWS's published times: 15 to 30 minutes to create, configuration changes run a blue/green deployment.
const CREATE_TIMEOUT_MS = 90 * 60_000;
const DELETE_TIMEOUT_MS = 60 * 60_000;

export const OpenSearchDomain = defineResourceType({
  kind: 'opensearch-domain',
  noun: 'OpenSearch domain',
  // The tagging API lists domains as es:domain (arn:aws:es:<region>:<account>:domain/<name>).
  listedAs: 'es',
  expectedSeconds: { create: 1200, update: 900, delete: 600 },
  fields,
  outputs: ['name', 'arn', 'endpoint', 'url'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  check(args) {
    const subnets = args.subnetIds?.length ?? 0;
    const count = args.instanceCount ?? 1;
    // https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-multiaz.html
    if (count === 1 && subnets !== 1) {
      return ['subnetIds: a single node lives in exactly one subnet; give one, or raise instanceCount'];
    }
    if (count > 1 && (subnets < 2 || count % subnets !== 0)) {
      return [
        `instanceCount: ${count} nodes over ${subnets} zone(s): give two or three subnets (one per zone) and a node count that is a multiple of their number`,
      ];
    }
    return [];
  },

  async find(ctx) {
    const owned = await stackResources(ctx, ['es:domain']);
    if (owned.length === 0) return [];
    const os = await ctx.aws.opensearch();
    const byName = new Map(owned.map((r) => [r.arn.split(':domain/')[1]!, r.tags]));
    const names = [...byName.keys()];
    const found: DomainFound[] = [];
    // DescribeDomains takes at most five names a call.
    for (let i = 0; i < names.length; i += 5) {
      const { DomainStatusList } = await os.describeDomains({ DomainNames: names.slice(i, i + 5) });
      for (const d of DomainStatusList ?? []) {
        if (!d.Deleted) found.push(read(d, byName.get(d.DomainName!)!));
      }
    }
    return found;
  },

  async create(ctx, args) {
    const os = await ctx.aws.opensearch();
    const name = domainName(ctx);
    const arn = `arn:${partition(ctx.region)}:es:${ctx.region}:${await ctx.account()}:domain/${name}`;
    await serviceLinkedRole(ctx);
    const request = {
      DomainName: name,
      ...configuration(args, arn),
      EngineVersion: args.engineVersion,
      // Security settings AWS cannot turn off once on; Touchdown never makes a domain without them.
      // https://docs.aws.amazon.com/opensearch-service/latest/developerguide/encryption-at-rest.html
      EncryptionAtRestOptions: { Enabled: true },
      NodeToNodeEncryptionOptions: { Enabled: true },
      VPCOptions: { SubnetIds: args.subnetIds, SecurityGroupIds: args.securityGroupIds },
      TagList: tagList(ctx.tags(args.tags)),
    };
    await ctx.wait({
      what: `OpenSearch Service to see its service-linked role`,
      timeoutMs: 5 * 60_000,
      hint: 'a new service-linked role takes a minute or two to be usable; run the same command again',
      check: async () => {
        try {
          await os.createDomain(request);
          return { done: true, value: undefined };
        } catch (err) {
          // A role made a moment ago is not yet known everywhere in IAM.
          if (/service-linked role/i.test(String((err as Error).message)))
            return { done: false, state: 'role not yet usable' };
          throw err;
        }
      },
    });
    return untilReady(ctx, os, name, 'to be created', {
      timeoutMs: CREATE_TIMEOUT_MS,
      hint: 'OpenSearch Service takes 15 to 30 minutes to create a domain; run the same command again to keep waiting',
    });
  },

  async update(ctx, found, args, changed) {
    const os = await ctx.aws.opensearch();
    const name = found.id;
    const has = (k: keyof Args) => changed.includes(k);
    if (has('engineVersion')) {
      // Upgrades are their own operation: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/version-migration.html
      await os.upgradeDomain({ DomainName: name, TargetVersion: args.engineVersion });
      await untilReady(ctx, os, name, 'to finish its upgrade', {
        timeoutMs: CREATE_TIMEOUT_MS,
        hint: 'an upgrade takes 30 minutes or more; run the same command again to keep waiting',
      });
    }
    if (changed.some((k) => k !== 'engineVersion' && k !== 'tags')) {
      await os.updateDomainConfig({
        DomainName: name,
        ...configuration(args, found.outputs.arn),
        VPCOptions: { SubnetIds: args.subnetIds, SecurityGroupIds: args.securityGroupIds },
      });
    }
    if (has('tags')) {
      const { set, remove } = tagDelta(found.args.tags ?? {}, args.tags);
      if (Object.keys(set).length > 0) await os.addTags({ ARN: found.outputs.arn, TagList: tagList(set) });
      if (remove.length > 0) await os.removeTags({ ARN: found.outputs.arn, TagKeys: remove });
    }
    return untilReady(ctx, os, name, 'to apply its changes', {
      timeoutMs: CREATE_TIMEOUT_MS,
      hint: 'OpenSearch Service applies changes with a blue/green deployment that can take an hour; run the same command again to keep waiting',
    });
  },

  async holdsData(ctx, found) {
    const os = await ctx.aws.opensearch();
    const d = await describe(os, found.id);
    if (!d || d.Deleted) return undefined;
    const nodes = d.ClusterConfig?.InstanceCount ?? 1;
    return `an OpenSearch domain (search indexes), ${nodes} node${nodes === 1 ? '' : 's'} of ${d.EBSOptions?.VolumeSize ?? 0} GB`;
  },

  async delete(ctx, found) {
    const os = await ctx.aws.opensearch();
    await ignoreNotFound(os.deleteDomain({ DomainName: found.id }));
    await ctx.wait({
      what: `OpenSearch domain "${ctx.path}" to be deleted`,
      timeoutMs: DELETE_TIMEOUT_MS,
      hint: 'OpenSearch Service takes 10 to 20 minutes to delete a domain; run the same command again to keep waiting',
      check: async () => {
        // A domain being deleted still answers, with Deleted: true, until it is gone.
        const d = await describe(os, found.id);
        return d ? { done: false, state: 'deleting' } : { done: true, value: undefined };
      },
    });
  },
});

/** `<stack>-<path>`: 3 to 28 lower-case letters, digits and hyphens, starting with a letter. */
export function domainNameFor(stack: string, path: string): string {
  return physicalName(stack, path, { max: 28, lowerCase: true, letterFirst: true });
}

function domainName(ctx: OpContext): string {
  return domainNameFor(ctx.stack, ctx.path);
}

/**
 * A VPC domain needs the account's OpenSearch service-linked role, which only the console makes by itself; it is
 * the account's, shared by every domain, and never deleted here.
 * https://docs.aws.amazon.com/opensearch-service/latest/developerguide/slr-aos.html
 */
async function serviceLinkedRole(ctx: OpContext): Promise<void> {
  const iam = await ctx.aws.iam();
  const found = await ignoreNotFound(iam.getRole({ RoleName: 'AWSServiceRoleForAmazonOpenSearchService' }));
  if (found) return;
  ctx.progress("creating the account's service-linked role for OpenSearch Service");
  try {
    await iam.createServiceLinkedRole({ AWSServiceName: 'opensearchservice.amazonaws.com' });
  } catch (err) {
    // Another run made it in between.
    if (!/has been taken/.test(String((err as Error).message))) throw err;
  }
}

function partition(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/** What create and update both send: size, snapshots, HTTPS and the access policy. */
function configuration(args: Args, arn: string) {
  const zones = args.subnetIds.length;
  return {
    ClusterConfig: {
      InstanceType: args.instanceType as never,
      InstanceCount: args.instanceCount,
      // One node per zone at least: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-multiaz.html
      ZoneAwarenessEnabled: zones > 1,
      ...(zones > 1 ? { ZoneAwarenessConfig: { AvailabilityZoneCount: zones } } : {}),
    },
    EBSOptions: { EBSEnabled: true, VolumeType: 'gp3' as const, VolumeSize: args.volumeSize },
    SnapshotOptions: { AutomatedSnapshotStartHour: args.snapshotHour },
    DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: TLS_POLICY },
    AccessPolicies: JSON.stringify(accessPolicy(args.accessRoleArns, arn)),
  };
}

/**
 * The roles may call the HTTP API of the domain's indexes (the `/*`), nothing else.
 * https://docs.aws.amazon.com/opensearch-service/latest/developerguide/ac.html#ac-types-resource
 */
export function accessPolicy(roles: readonly string[], arn: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: [...roles] }, Action: 'es:ESHttp*', Resource: `${arn}/*` },
    ],
  };
}

async function describe(os: OpenSearch, name: string): Promise<DomainStatus | undefined> {
  return (await ignoreNotFound(os.describeDomain({ DomainName: name })))?.DomainStatus;
}

/** Waits until no change is under way and the VPC endpoint is assigned; reads it with its tags. */
async function untilReady(
  ctx: OpContext,
  os: OpenSearch,
  name: string,
  goal: string,
  spec: { timeoutMs: number; hint: string },
): Promise<DomainFound> {
  const d = await ctx.wait({
    what: `OpenSearch domain "${ctx.path}" ${goal}`,
    ...spec,
    check: async () => {
      const d = await describe(os, name);
      if (!d) throw new Error(`the domain ${name} disappeared while waiting for it`);
      if (d.Processing || d.UpgradeProcessing) return { done: false, state: 'processing' };
      if (!d.Endpoints?.vpc) return { done: false, state: 'no endpoint yet' };
      return { done: true, value: d };
    },
  });
  const { TagList } = await os.listTags({ ARN: d.ARN! });
  return read(d, tagMap(TagList));
}

function read(d: DomainStatus, t: TagMap): DomainFound {
  const name = d.DomainName!;
  const endpoint = d.Endpoints?.vpc ?? '';
  const policy = allowedRoles(d.AccessPolicies, d.ARN!);
  return {
    key: t[RESOURCE_TAG] ?? name,
    id: name,
    args: {
      engineVersion: d.EngineVersion,
      instanceType: d.ClusterConfig?.InstanceType,
      instanceCount: d.ClusterConfig?.InstanceCount,
      volumeSize: d.EBSOptions?.VolumeSize,
      subnetIds: d.VPCOptions?.SubnetIds ?? [],
      securityGroupIds: d.VPCOptions?.SecurityGroupIds ?? [],
      accessRoleArns: policy,
      snapshotHour: d.SnapshotOptions?.AutomatedSnapshotStartHour,
      tags: userTags(t),
    },
    outputs: { name, arn: d.ARN!, endpoint, url: endpoint ? `https://${endpoint}` : '' },
  };
}

/** The roles the access policy allows; a policy edited outside Touchdown reads as allowing none, so it is rewritten. */
function allowedRoles(text: string | undefined, arn: string): string[] {
  if (!text) return [];
  try {
    const doc = JSON.parse(text) as { Statement?: { Principal?: { AWS?: string | string[] } }[] };
    const p = doc.Statement?.[0]?.Principal?.AWS ?? [];
    const roles = Array.isArray(p) ? p : [p];
    const same = isDeepStrictEqual(normalizePolicy(doc), normalizePolicy(accessPolicy(roles, arn)));
    return same ? roles : [];
  } catch {
    return [];
  }
}
