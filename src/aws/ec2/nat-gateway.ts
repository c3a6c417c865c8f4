// NAT gateway: lets private subnets reach the internet without being reachable from it.
import { randomUUID } from 'node:crypto';
import type { NatGateway as AwsNatGateway, EC2 } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { STACK_TAG, stackFilter, tagMap, userTags } from '../tags.js';
import { ec2Tags, updateEc2Tags } from './common.js';

const fields = {
  /** Shown as the Name tag. */
  name: field(z.string().min(1).max(200)),
  /** The public subnet it sits in. Changing it means a new NAT gateway. */
  subnetId: field(input(z.string()), { replace: true }),
  /** The elastic IP it sends traffic from (an ElasticIp's id); needed when public. Changing it means a new NAT gateway. */
  allocationId: field(input(z.string()).optional(), { replace: true }),
  /** @default 'public': reaches the internet; 'private' only reaches other networks. */
  connectivity: field(z.enum(['public', 'private']).default('public'), { replace: true }),
  tags: field(tags()),
};

export interface NatGatewayOutputs {
  id: string;
}

type Args = ArgsOf<typeof fields>;

// Deleted gateways stay visible for about an hour; failed ones are deleted by AWS itself.
const LIVE_STATES = ['pending', 'available'];

export const NatGateway = defineResourceType({
  kind: 'nat-gateway',
  noun: 'NAT gateway',
  listedAs: 'ec2:natgateway',
  // Typical AWS times, as in test/support/aws-model/times.ts (sources there).
  expectedSeconds: { create: 120, delete: 60 },
  fields,
  outputs: ['id'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  check(args) {
    if (args.connectivity === 'private' && args.allocationId !== undefined)
      return ['allocationId: a private NAT gateway takes no elastic IP; remove allocationId'];
    if (args.connectivity !== 'private' && args.allocationId === undefined)
      return ["allocationId: a public NAT gateway needs an elastic IP; pass an ElasticIp's id"];
    return [];
  },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    const gateways = await allPages(
      (NextToken) =>
        ec2.describeNatGateways({
          Filter: [stackFilter(ctx.stack), { Name: 'state', Values: LIVE_STATES }],
          NextToken,
        }),
      (p) => p.NatGateways,
    );
    // The filter above is honoured by AWS; the check here keeps other stacks' gateways out regardless.
    return gateways.filter((g) => tagMap(g.Tags)[STACK_TAG] === ctx.stack).map(read);
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    const request = {
      SubnetId: args.subnetId,
      AllocationId: args.allocationId,
      ConnectivityType: args.connectivity,
      // One token for every attempt below, so that AWS makes one gateway however often we ask.
      ClientToken: randomUUID(),
      TagSpecifications: ec2Tags(ctx, 'natgateway', args.tags),
    };
    // A subnet or elastic IP made a moment ago may not be visible to the NAT service yet.
    const id = await ctx.wait({
      what: `the subnet and elastic IP of NAT gateway "${ctx.path}" to be visible`,
      timeoutMs: 2 * 60_000,
      check: async () => {
        try {
          const { NatGateway: created } = await ec2.createNatGateway(request);
          return { done: true, value: created!.NatGatewayId! };
        } catch (err) {
          if (/^Invalid(Subnet|ElasticIp|Allocation)ID\.NotFound$/.test(errorCode(err)))
            return { done: false, state: errorCode(err) };
          throw err;
        }
      },
    });
    const gateway = await ctx.wait({
      what: `NAT gateway "${ctx.path}" to become available`,
      timeoutMs: 15 * 60_000,
      check: async () => {
        const g = await describe(ec2, id);
        if (g?.State === 'failed') {
          throw new Error(`it failed: ${g.FailureMessage ?? g.FailureCode ?? 'no reason given'}`);
        }
        return g?.State === 'available'
          ? { done: true, value: g }
          : { done: false, state: g?.State ?? 'pending' };
      },
    });
    return read(gateway);
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    if (changed.includes('tags')) await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    return read((await describe(ec2, found.id))!);
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    await ignoreNotFound(ec2.deleteNatGateway({ NatGatewayId: found.id }));
    // Its elastic IP and subnet stay busy until the gateway is fully gone.
    await ctx.wait({
      what: `NAT gateway "${ctx.path}" to be deleted`,
      timeoutMs: 15 * 60_000,
      check: async () => {
        const g = await describe(ec2, found.id);
        return g === undefined || g.State === 'deleted'
          ? { done: true, value: undefined }
          : { done: false, state: g.State ?? 'deleting' };
      },
    });
  },
});

async function describe(ec2: EC2, id: string): Promise<AwsNatGateway | undefined> {
  return (await ignoreNotFound(ec2.describeNatGateways({ NatGatewayIds: [id] })))?.NatGateways?.[0];
}

function read(gateway: AwsNatGateway): Found<Args, NatGatewayOutputs> {
  const id = gateway.NatGatewayId!;
  const t = tagMap(gateway.Tags);
  const addresses = gateway.NatGatewayAddresses ?? [];
  const primary = addresses.find((a) => a.IsPrimary) ?? addresses[0];
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: {
      subnetId: gateway.SubnetId,
      allocationId: primary?.AllocationId,
      connectivity: gateway.ConnectivityType === 'private' ? 'private' : 'public',
      tags: userTags(t),
    },
    outputs: { id },
  };
}
