// Application load balancer: the public (or internal) HTTP(S) front door, spread over two or more zones.
import type {
  LoadBalancer as AwsLoadBalancer,
  LoadBalancerAttribute,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { createOnce } from '../create-once.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { type TagMap, tagList, userTags } from '../tags.js';
import {
  describeByArn,
  describeTags,
  type ElbV2,
  ownedArn,
  ownedAs,
  stackArns,
  updateTags,
} from './common.js';

const KIND = 'load-balancer';

const accessLogs = z.strictObject({
  /** The S3 bucket (a Bucket's name); its policy must let Elastic Load Balancing write to it. */
  bucket: input(z.string().min(3).max(63)),
  /** Key prefix inside the bucket. @default none: logs go under AWSLogs/ */
  prefix: z.string().min(1).max(200).optional(),
});

const fields = {
  /** The label in the stack; the name in AWS is `<stack>-<path>`, cut to AWS's 32 characters. */
  name: field(z.string().min(1).max(200)),
  /** @default 'internet-facing'. 'internal' answers only inside the VPC. Changing it means a new load balancer. */
  scheme: field(z.enum(['internet-facing', 'internal']).default('internet-facing'), { replace: true }),
  /** Subnets (public ones, for an internet-facing load balancer) in at least two availability zones. */
  subnetIds: field(
    z
      .array(input(z.string()))
      .min(2, 'an application load balancer needs subnets in at least two availability zones'),
    { unordered: true },
  ),
  /** Security groups around its network interfaces (e.g. one allowing 80 and 443 from anywhere). */
  securityGroupIds: field(z.array(input(z.string())).min(1).max(5), { unordered: true }),
  /** Seconds a connection may stay idle, 1 to 4000. @default 60 */
  idleTimeoutSeconds: field(z.number().int().min(1).max(4000).default(60)),
  /** Drops requests with header names that are not valid HTTP (request smuggling defence). @default true */
  dropInvalidHeaderFields: field(z.boolean().default(true)),
  /** While true, AWS refuses to delete it (destroy fails until it is set to false and applied). @default false */
  deletionProtection: field(z.boolean().default(false)),
  /** Writes one log line per request to S3. @default null: no access logs */
  accessLogs: field(accessLogs.nullable().default(null)),
  tags: field(tags()),
};

export interface LoadBalancerOutputs {
  arn: string;
  /** `app/<name>/<id>`: what CloudWatch metrics and request-count scaling policies name it by. */
  arnSuffix: string;
  /** Its name in AWS. */
  name: string;
  /** Where DNS records point (a Route53 alias or a CNAME). */
  dnsName: string;
  /** The hosted zone of dnsName, for a Route53 alias record. */
  canonicalHostedZoneId: string;
}

type Args = ArgsOf<typeof fields>;
type LoadBalancerFound = Found<Args, LoadBalancerOutputs>;
type Attributes = Record<string, string>;

const ATTRIBUTE_FIELDS = [
  'idleTimeoutSeconds',
  'dropInvalidHeaderFields',
  'deletionProtection',
  'accessLogs',
] as const;

// Load balancers usually become active in two to five minutes.
const ACTIVE_TIMEOUT_MS = 10 * 60_000;

export const LoadBalancer = defineResourceType({
  kind: KIND,
  noun: 'load balancer',
  listedAs: 'elasticloadbalancing',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 180 },
  fields,
  outputs: ['arn', 'arnSuffix', 'name', 'dnsName', 'canonicalHostedZoneId'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  check(args) {
    const subnets = (args.subnetIds ?? []).filter((s) => typeof s === 'string');
    return subnets.length === new Set(subnets).size ? [] : ['subnetIds: a subnet is listed twice'];
  },

  async find(ctx) {
    const [elbv2, arns] = await Promise.all([ctx.aws.elbv2(), stackArns(ctx, 'loadbalancer')]);
    if (arns.length === 0) return [];
    const [balancers, tags] = await Promise.all([
      describeByArn(
        arns,
        async (LoadBalancerArns) => (await elbv2.describeLoadBalancers({ LoadBalancerArns })).LoadBalancers,
      ),
      describeTags(elbv2, arns),
    ]);
    const ours = balancers.filter(
      (b) => b.Type === 'application' && ownedAs(tags.get(b.LoadBalancerArn!), ctx.stack, KIND),
    );
    // Attributes have no batched read: one call per load balancer.
    const limit = pLimit(5);
    const found = await Promise.all(
      ours.map((b) =>
        limit(async () => {
          const attrs = await readAttributes(elbv2, b.LoadBalancerArn!);
          return attrs && read(b, tags.get(b.LoadBalancerArn!)!, attrs);
        }),
      ),
    );
    return found.filter((f): f is LoadBalancerFound => f !== undefined);
  },

  async create(ctx, args) {
    const elbv2 = await ctx.aws.elbv2();
    const Name = loadBalancerName(ctx.stack, ctx.path);
    // Names are unique in the region: after a lost answer, the one of that name is ours when its tags say so.
    const arn = await createOnce(
      async () =>
        (
          await elbv2.createLoadBalancer({
            Name,
            Type: 'application',
            Scheme: args.scheme,
            IpAddressType: 'ipv4',
            Subnets: args.subnetIds,
            SecurityGroups: args.securityGroupIds,
            Tags: tagList(ctx.tags(args.tags)),
          })
        ).LoadBalancers![0]!.LoadBalancerArn!,
      async () => {
        const named = await ignoreNotFound(elbv2.describeLoadBalancers({ Names: [Name] }));
        return ownedArn(ctx, elbv2, named?.LoadBalancers?.[0]?.LoadBalancerArn);
      },
    );
    await waitActive(ctx, elbv2, arn);
    // CreateLoadBalancer takes no attributes; AWS's defaults differ from ours (invalid headers pass).
    await elbv2.modifyLoadBalancerAttributes({ LoadBalancerArn: arn, Attributes: attributes(args) });
    return readOne(elbv2, arn);
  },

  async update(ctx, found, args, changed) {
    const elbv2 = await ctx.aws.elbv2();
    const arn = found.id;
    if (changed.includes('securityGroupIds')) {
      await elbv2.setSecurityGroups({ LoadBalancerArn: arn, SecurityGroups: args.securityGroupIds });
    }
    if (changed.includes('subnetIds')) {
      await elbv2.setSubnets({ LoadBalancerArn: arn, Subnets: args.subnetIds });
      // New zones get load balancer nodes; it reads as provisioning until they are up.
      await waitActive(ctx, elbv2, arn);
    }
    const attributeChanges = ATTRIBUTE_FIELDS.filter((f) => changed.includes(f));
    if (attributeChanges.length > 0) {
      await elbv2.modifyLoadBalancerAttributes({
        LoadBalancerArn: arn,
        Attributes: attributes(args, attributeChanges),
      });
    }
    if (changed.includes('tags')) await updateTags(elbv2, arn, found.args.tags ?? {}, args.tags);
    return readOne(elbv2, arn);
  },

  async delete(ctx, found) {
    const elbv2 = await ctx.aws.elbv2();
    try {
      await ignoreNotFound(elbv2.deleteLoadBalancer({ LoadBalancerArn: found.id }));
    } catch (err) {
      if (errorCode(err) !== 'OperationNotPermitted') throw err;
      throw new Error('deletion protection is on: set deletionProtection: false, apply, then run this again');
    }
    // Its network interfaces outlive it by minutes and keep its security groups and subnets busy;
    // their deletes retry through deleteWhenFree (ec2/common.ts). Here we wait until AWS no longer lists it.
    await ctx.wait({
      what: `load balancer "${ctx.path}" to be deleted`,
      timeoutMs: ACTIVE_TIMEOUT_MS,
      check: async () => {
        const b = await describe(elbv2, found.id);
        return b === undefined ? { done: true, value: undefined } : { done: false, state: stateOf(b) };
      },
    });
  },
});

/** `<stack>-<path>` within AWS's rules: 32 letters, digits and hyphens, and no `internal-` prefix. */
function loadBalancerName(stack: string, path: string): string {
  const name = physicalName(stack, path, { max: 32 });
  return name.startsWith('internal-') ? physicalName(`lb-${stack}`, path, { max: 32 }) : name;
}

async function waitActive(ctx: OpContext, elbv2: ElbV2, arn: string): Promise<void> {
  await ctx.wait({
    what: `load balancer "${ctx.path}" to become active`,
    timeoutMs: ACTIVE_TIMEOUT_MS,
    hint: 'AWS usually needs 2 to 5 minutes; run the same command again to keep waiting, or look at the load balancer in the EC2 console',
    check: async () => {
      const b = await describe(elbv2, arn);
      if (b?.State?.Code === 'failed') {
        throw new Error(`it failed to provision: ${b.State.Reason ?? 'AWS gave no reason'}`);
      }
      return b?.State?.Code === 'active'
        ? { done: true, value: undefined }
        : { done: false, state: b ? stateOf(b) : 'not yet visible' };
    },
  });
}

function stateOf(b: AwsLoadBalancer): string {
  return b.State?.Code ?? 'unknown';
}

async function describe(elbv2: ElbV2, arn: string): Promise<AwsLoadBalancer | undefined> {
  const r = await ignoreNotFound(elbv2.describeLoadBalancers({ LoadBalancerArns: [arn] }));
  return r?.LoadBalancers?.[0];
}

/** Undefined when the load balancer is gone. */
async function readAttributes(elbv2: ElbV2, arn: string): Promise<Attributes | undefined> {
  const r = await ignoreNotFound(elbv2.describeLoadBalancerAttributes({ LoadBalancerArn: arn }));
  if (!r) return undefined;
  return Object.fromEntries((r.Attributes ?? []).map((a) => [a.Key!, a.Value ?? '']));
}

/** The attributes that carry these arguments, as ModifyLoadBalancerAttributes takes them. */
function attributes(
  args: Args,
  only: readonly (typeof ATTRIBUTE_FIELDS)[number][] = ATTRIBUTE_FIELDS,
): LoadBalancerAttribute[] {
  const all: Record<(typeof ATTRIBUTE_FIELDS)[number], Attributes> = {
    idleTimeoutSeconds: { 'idle_timeout.timeout_seconds': String(args.idleTimeoutSeconds) },
    dropInvalidHeaderFields: {
      'routing.http.drop_invalid_header_fields.enabled': String(args.dropInvalidHeaderFields),
    },
    deletionProtection: { 'deletion_protection.enabled': String(args.deletionProtection) },
    accessLogs: args.accessLogs
      ? {
          'access_logs.s3.enabled': 'true',
          'access_logs.s3.bucket': args.accessLogs.bucket,
          'access_logs.s3.prefix': args.accessLogs.prefix ?? '',
        }
      : { 'access_logs.s3.enabled': 'false' },
  };
  return only.flatMap((f) => Object.entries(all[f]).map(([Key, Value]) => ({ Key, Value })));
}

async function readOne(elbv2: ElbV2, arn: string): Promise<LoadBalancerFound> {
  const [b, tags, attrs] = await Promise.all([
    describe(elbv2, arn),
    describeTags(elbv2, [arn]),
    readAttributes(elbv2, arn),
  ]);
  if (!b || !attrs) throw new Error(`load balancer ${arn} disappeared while being written`);
  return read(b, tags.get(arn) ?? {}, attrs);
}

function read(b: AwsLoadBalancer, tags: TagMap, attrs: Attributes): LoadBalancerFound {
  const arn = b.LoadBalancerArn!;
  const logs = attrs['access_logs.s3.enabled'] === 'true';
  const prefix = attrs['access_logs.s3.prefix'];
  return {
    key: tags['touchdown:resource'] ?? arn,
    id: arn,
    args: {
      scheme: b.Scheme as Args['scheme'],
      subnetIds: (b.AvailabilityZones ?? []).map((z) => z.SubnetId!),
      securityGroupIds: b.SecurityGroups ?? [],
      // AWS reports every attribute; 60 is its default where one is missing.
      idleTimeoutSeconds: Number(attrs['idle_timeout.timeout_seconds'] ?? 60),
      dropInvalidHeaderFields: attrs['routing.http.drop_invalid_header_fields.enabled'] === 'true',
      deletionProtection: attrs['deletion_protection.enabled'] === 'true',
      accessLogs: logs
        ? { bucket: attrs['access_logs.s3.bucket'] ?? '', ...(prefix ? { prefix } : {}) }
        : null,
      tags: userTags(tags),
    },
    outputs: {
      arn,
      arnSuffix: arn.split(':loadbalancer/')[1] ?? '',
      name: b.LoadBalancerName!,
      dnsName: b.DNSName!,
      canonicalHostedZoneId: b.CanonicalHostedZoneId!,
    },
  };
}
