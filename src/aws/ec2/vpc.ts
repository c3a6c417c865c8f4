// VPC: the private network every other network resource lives in.
import type { Vpc as AwsVpc, EC2 } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, cidr, field, tags } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found } from '../../core/resource.js';
import { createOnce, foundOurs } from '../create-once.js';
import { allPages } from '../pages.js';
import { stackFilter, tagMap, userTags } from '../tags.js';
import { deleteWhenFree, ec2Tags, ownedFilters, updateEc2Tags } from './common.js';

const fields = {
  /** Shown as the Name tag; subnets and other children are named under it. */
  name: field(z.string().min(1).max(200)),
  /** The VPC's IPv4 range, /16 to /28. Changing it means a new VPC. */
  cidrBlock: field(cidr({ minPrefix: 16, maxPrefix: 28 }), { replace: true }),
  /** @default true: instances resolve AWS service names (needed by RDS, ECR, SSM endpoints). */
  enableDnsSupport: field(z.boolean().default(true)),
  /** @default true: instances get DNS names. */
  enableDnsHostnames: field(z.boolean().default(true)),
  tags: field(tags()),
};

export interface VpcOutputs {
  id: string;
  arn: string;
  cidrBlock: string;
}

type Args = ArgsOf<typeof fields>;

export const Vpc = defineResourceType({
  kind: 'vpc',
  noun: 'VPC',
  listedAs: 'ec2:vpc',
  fields,
  outputs: ['id', 'arn', 'cidrBlock'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    const vpcs = await allPages(
      (NextToken) => ec2.describeVpcs({ Filters: [stackFilter(ctx.stack)], NextToken }),
      (p) => p.Vpcs,
    );
    return Promise.all(vpcs.map((v) => read(ec2, v, ctx)));
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    // CreateVpc takes no client token: a lost answer is looked for by its tags before sending again.
    const created = await createOnce(
      async () =>
        (
          await ec2.createVpc({
            CidrBlock: args.cidrBlock,
            TagSpecifications: ec2Tags(ctx, 'vpc', args.tags),
          })
        ).Vpc!,
      async () => foundOurs((await ec2.describeVpcs({ Filters: ownedFilters(ctx) })).Vpcs),
    );
    const id = created.VpcId!;
    const vpc = await ctx.wait({
      what: `VPC "${ctx.path}" to become available`,
      timeoutMs: 5 * 60_000,
      check: async () => {
        const [v] = (await ec2.describeVpcs({ VpcIds: [id] })).Vpcs ?? [];
        return v?.State === 'available'
          ? { done: true, value: v }
          : { done: false, state: v?.State ?? 'pending' };
      },
    });
    await setDns(ec2, id, args, { enableDnsSupport: true, enableDnsHostnames: false });
    return read(ec2, vpc, ctx);
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    await setDns(ec2, found.id, args, found.args as Args);
    if (changed.includes('tags')) {
      await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    }
    const [v] = (await ec2.describeVpcs({ VpcIds: [found.id] })).Vpcs ?? [];
    return read(ec2, v!, ctx);
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    await deleteWhenFree(ctx, `VPC "${ctx.path}"`, () => ec2.deleteVpc({ VpcId: found.id }));
  },
});

/** DNS attributes take one call each, and support must be on before hostnames can be. */
async function setDns(
  ec2: EC2,
  id: string,
  want: Args,
  have: Pick<Args, 'enableDnsSupport' | 'enableDnsHostnames'>,
) {
  if (want.enableDnsSupport !== have.enableDnsSupport) {
    await ec2.modifyVpcAttribute({ VpcId: id, EnableDnsSupport: { Value: want.enableDnsSupport } });
  }
  if (want.enableDnsHostnames !== have.enableDnsHostnames) {
    await ec2.modifyVpcAttribute({ VpcId: id, EnableDnsHostnames: { Value: want.enableDnsHostnames } });
  }
}

/** The ARN's account is the VPC's owner, as described: no STS call for the plan to wait for. */
async function read(ec2: EC2, vpc: AwsVpc, ctx: FindContext): Promise<Found<Args, VpcOutputs>> {
  const id = vpc.VpcId!;
  const [support, hostnames, account] = await Promise.all([
    ec2.describeVpcAttribute({ VpcId: id, Attribute: 'enableDnsSupport' }),
    ec2.describeVpcAttribute({ VpcId: id, Attribute: 'enableDnsHostnames' }),
    vpc.OwnerId ?? ctx.account(),
  ]);
  const t = tagMap(vpc.Tags);
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: {
      cidrBlock: vpc.CidrBlock,
      enableDnsSupport: support.EnableDnsSupport?.Value ?? false,
      enableDnsHostnames: hostnames.EnableDnsHostnames?.Value ?? false,
      tags: userTags(t),
    },
    outputs: { id, arn: `arn:aws:ec2:${ctx.region}:${account}:vpc/${id}`, cidrBlock: vpc.CidrBlock! },
  };
}
