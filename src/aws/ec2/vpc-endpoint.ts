// Gateway endpoint: reaches S3 or DynamoDB from a VPC without a NAT gateway (and its data charges).
import { randomUUID } from 'node:crypto';
import type { VpcEndpoint as AwsVpcEndpoint, EC2 } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, field, input, normalizePolicy, policyDocument, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { ignoreNotFound, isNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { stackFilter, tagMap, userTags } from '../tags.js';
import { ec2Tags, updateEc2Tags } from './common.js';

/** The policy AWS gives an endpoint created without one: anyone in the VPC, any action. */
const FULL_ACCESS = {
  Version: '2008-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
};

const fields = {
  /** Shown as the Name tag. */
  name: field(z.string().min(1).max(200)),
  /** The VPC it serves. Changing it means a new endpoint. */
  vpcId: field(input(z.string()), { replace: true }),
  /** The AWS service it reaches. Changing it means a new endpoint. */
  service: field(z.enum(['s3', 'dynamodb']), { replace: true }),
  /** Route tables that get a route to the service. @default [] */
  routeTableIds: field(z.array(input(z.string())).default([]), { unordered: true }),
  /** Who may use the endpoint for what. @default full access, as AWS sets */
  policy: field(policyDocument().default(FULL_ACCESS), { normalize: normalizePolicy }),
  tags: field(tags()),
};

export interface GatewayEndpointOutputs {
  id: string;
}

type Args = ArgsOf<typeof fields>;

// Deleted endpoints stay visible for a while.
const GONE = ['deleting', 'deleted'];

export const GatewayEndpoint = defineResourceType({
  kind: 'gateway-endpoint',
  noun: 'gateway endpoint',
  fields,
  outputs: ['id'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    const endpoints = await allPages(
      (NextToken) =>
        ec2.describeVpcEndpoints({
          Filters: [stackFilter(ctx.stack), { Name: 'vpc-endpoint-type', Values: ['Gateway'] }],
          NextToken,
        }),
      (p) => p.VpcEndpoints,
    );
    return endpoints.filter((e) => !GONE.includes(e.State?.toLowerCase() ?? '')).map(read);
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    const { VpcEndpoint: created } = await ec2.createVpcEndpoint({
      VpcEndpointType: 'Gateway',
      VpcId: args.vpcId,
      ServiceName: `com.amazonaws.${ctx.region}.${args.service}`,
      RouteTableIds: args.routeTableIds,
      PolicyDocument: JSON.stringify(args.policy),
      ClientToken: randomUUID(),
      TagSpecifications: ec2Tags(ctx, 'vpc-endpoint', args.tags),
    });
    const id = created!.VpcEndpointId!;
    const endpoint = await ctx.wait({
      what: `gateway endpoint "${ctx.path}" to become available`,
      timeoutMs: 10 * 60_000,
      check: async () => {
        const e = await describe(ec2, id);
        const state = e?.State?.toLowerCase() ?? 'pending';
        if (state === 'failed' || state === 'rejected') {
          throw new Error(`it is ${state}: ${e?.LastError?.Message ?? 'no reason given'}`);
        }
        return state === 'available' ? { done: true, value: e! } : { done: false, state };
      },
    });
    return read(endpoint);
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    if (changed.includes('routeTableIds') || changed.includes('policy')) {
      const have = found.args.routeTableIds ?? [];
      const add = args.routeTableIds.filter((id) => !have.includes(id));
      const remove = have.filter((id) => !args.routeTableIds.includes(id));
      await ec2.modifyVpcEndpoint({
        VpcEndpointId: found.id,
        AddRouteTableIds: add.length > 0 ? add : undefined,
        RemoveRouteTableIds: remove.length > 0 ? remove : undefined,
        PolicyDocument: changed.includes('policy') ? JSON.stringify(args.policy) : undefined,
      });
    }
    if (changed.includes('tags')) await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    return read((await describe(ec2, found.id))!);
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    // This call reports failures per endpoint instead of throwing.
    const { Unsuccessful } = await ec2.deleteVpcEndpoints({ VpcEndpointIds: [found.id] });
    const failure = Unsuccessful?.[0]?.Error;
    if (failure && !isNotFound({ Code: failure.Code })) {
      throw Object.assign(new Error(`${failure.Code}: ${failure.Message}`), { Code: failure.Code });
    }
    // Its routes leave the route tables as it goes; the tables cannot be deleted before.
    await ctx.wait({
      what: `gateway endpoint "${ctx.path}" to be deleted`,
      timeoutMs: 10 * 60_000,
      check: async () => {
        const e = await describe(ec2, found.id);
        const state = e?.State?.toLowerCase() ?? 'deleted';
        return state === 'deleted' ? { done: true, value: undefined } : { done: false, state };
      },
    });
  },
});

/** Undefined when not visible yet after a create, or gone after a delete. */
async function describe(ec2: EC2, id: string): Promise<AwsVpcEndpoint | undefined> {
  return (await ignoreNotFound(ec2.describeVpcEndpoints({ VpcEndpointIds: [id] })))?.VpcEndpoints?.[0];
}

function read(endpoint: AwsVpcEndpoint): Found<Args, GatewayEndpointOutputs> {
  const id = endpoint.VpcEndpointId!;
  const t = tagMap(endpoint.Tags);
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: {
      vpcId: endpoint.VpcId,
      // com.amazonaws.<region>.s3 → s3
      service: endpoint.ServiceName?.split('.').at(-1) as Args['service'],
      routeTableIds: [...(endpoint.RouteTableIds ?? [])].sort(),
      // AWS returns JSON text: read it as a document.
      policy:
        endpoint.PolicyDocument === undefined
          ? undefined
          : (normalizePolicy(endpoint.PolicyDocument) as Args['policy']),
      tags: userTags(t),
    },
    outputs: { id },
  };
}
