// Elastic IP: a public IPv4 address the account keeps, for a NAT gateway or a load balancer.
import type { Address, EC2 } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, field, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { stackFilter, tagMap, userTags } from '../tags.js';
import { deleteWhenFree, ec2Tags, updateEc2Tags } from './common.js';

const fields = {
  /** Shown as the Name tag. */
  name: field(z.string().min(1).max(200)),
  tags: field(tags()),
};

export interface ElasticIpOutputs {
  /** The allocation id (eipalloc-…), which NAT gateways take. */
  id: string;
  publicIp: string;
}

type Args = ArgsOf<typeof fields>;

export const ElasticIp = defineResourceType({
  kind: 'elastic-ip',
  noun: 'elastic IP',
  fields,
  outputs: ['id', 'publicIp'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    // DescribeAddresses is not paginated: one call returns every address.
    const { Addresses } = await ec2.describeAddresses({ Filters: [stackFilter(ctx.stack)] });
    return (Addresses ?? []).map(read);
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    const { AllocationId } = await ec2.allocateAddress({
      Domain: 'vpc',
      TagSpecifications: ec2Tags(ctx, 'elastic-ip', args.tags),
    });
    return read(await describe(ec2, AllocationId!));
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    if (changed.includes('tags')) await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    return read(await describe(ec2, found.id));
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    // A deleted NAT gateway lets go of its address only after a while.
    await deleteWhenFree(ctx, `elastic IP "${ctx.path}"`, () =>
      ec2.releaseAddress({ AllocationId: found.id }),
    );
  },
});

async function describe(ec2: EC2, allocationId: string): Promise<Address> {
  const { Addresses } = await ec2.describeAddresses({ AllocationIds: [allocationId] });
  return Addresses![0]!;
}

function read(address: Address): Found<Args, ElasticIpOutputs> {
  const id = address.AllocationId!;
  const t = tagMap(address.Tags);
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: { tags: userTags(t) },
    outputs: { id, publicIp: address.PublicIp! },
  };
}
