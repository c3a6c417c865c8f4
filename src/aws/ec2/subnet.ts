// Subnet: one slice of a VPC's range, in one availability zone.
import type { Subnet as AwsSubnet, EC2 } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, cidr, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { createOnce, foundOurs } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { stackFilter, tagMap, userTags } from '../tags.js';
import { deleteWhenFree, ec2Tags, ownedFilters, updateEc2Tags } from './common.js';

const fields = {
  /** Shown as the Name tag, under its VPC's name when declared under it. */
  name: field(z.string().min(1).max(200)),
  /** The VPC it belongs to. Changing it means a new subnet. */
  vpcId: field(input(z.string()), { replace: true }),
  /** Its IPv4 range, /16 to /28, inside the VPC's. Changing it means a new subnet. */
  cidrBlock: field(cidr({ minPrefix: 16, maxPrefix: 28 }), { replace: true }),
  /** e.g. `us-east-1a`. @default AWS picks one (and it is then not compared). */
  availabilityZone: field(z.string().min(1).optional(), { replace: true }),
  /** @default false: instances launched here get a public IPv4 address only when this is true. */
  mapPublicIpOnLaunch: field(z.boolean().default(false)),
  tags: field(tags()),
};

export interface SubnetOutputs {
  id: string;
  arn: string;
  availabilityZone: string;
  cidrBlock: string;
  vpcId: string;
}

type Args = ArgsOf<typeof fields>;

export const Subnet = defineResourceType({
  kind: 'subnet',
  noun: 'subnet',
  listedAs: 'ec2:subnet',
  fields,
  outputs: ['id', 'arn', 'availabilityZone', 'cidrBlock', 'vpcId'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    const subnets = await allPages(
      (NextToken) => ec2.describeSubnets({ Filters: [stackFilter(ctx.stack)], NextToken }),
      (p) => p.Subnets,
    );
    return subnets.map(read);
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    // No client token: a retry would meet its own CIDR ("conflicts with another subnet"); looked for by tags.
    const created = await createOnce(
      async () =>
        (
          await ec2.createSubnet({
            VpcId: args.vpcId,
            CidrBlock: args.cidrBlock,
            AvailabilityZone: args.availabilityZone,
            TagSpecifications: ec2Tags(ctx, 'subnet', args.tags),
          })
        ).Subnet!,
      async () => foundOurs((await ec2.describeSubnets({ Filters: ownedFilters(ctx) })).Subnets),
    );
    const id = created.SubnetId!;
    await ctx.wait({
      what: `subnet "${ctx.path}" to become available`,
      timeoutMs: 5 * 60_000,
      check: async () => {
        const s = await describe(ec2, id);
        return s?.State === 'available'
          ? { done: true, value: s }
          : { done: false, state: s?.State ?? 'pending' };
      },
    });
    // New subnets never map public addresses, so only `true` needs a call.
    if (args.mapPublicIpOnLaunch) await setMapPublicIp(ec2, id, true);
    return read((await describe(ec2, id))!);
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    if (changed.includes('mapPublicIpOnLaunch'))
      await setMapPublicIp(ec2, found.id, args.mapPublicIpOnLaunch);
    if (changed.includes('tags')) await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    return read((await describe(ec2, found.id))!);
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    // A deleted NAT gateway's network interface keeps the subnet busy for a few minutes.
    await deleteWhenFree(ctx, `subnet "${ctx.path}"`, () => ec2.deleteSubnet({ SubnetId: found.id }));
  },
});

/** Undefined while a new subnet is not yet visible (EC2 reads are eventually consistent). */
async function describe(ec2: EC2, id: string): Promise<AwsSubnet | undefined> {
  return (await ignoreNotFound(ec2.describeSubnets({ SubnetIds: [id] })))?.Subnets?.[0];
}

function setMapPublicIp(ec2: EC2, id: string, value: boolean) {
  return ec2.modifySubnetAttribute({ SubnetId: id, MapPublicIpOnLaunch: { Value: value } });
}

function read(subnet: AwsSubnet): Found<Args, SubnetOutputs> {
  const id = subnet.SubnetId!;
  const t = tagMap(subnet.Tags);
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: {
      vpcId: subnet.VpcId,
      cidrBlock: subnet.CidrBlock,
      availabilityZone: subnet.AvailabilityZone,
      mapPublicIpOnLaunch: subnet.MapPublicIpOnLaunch ?? false,
      tags: userTags(t),
    },
    outputs: {
      id,
      arn: subnet.SubnetArn!,
      availabilityZone: subnet.AvailabilityZone!,
      cidrBlock: subnet.CidrBlock!,
      vpcId: subnet.VpcId!,
    },
  };
}
