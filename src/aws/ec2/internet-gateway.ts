// Internet gateway: a VPC's way out to the internet (and in, for public addresses).
import type { InternetGateway as AwsInternetGateway, EC2 } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { createOnce, foundOurs } from '../create-once.js';
import { errorCode } from '../errors.js';
import { allPages } from '../pages.js';
import { stackFilter, tagMap, userTags } from '../tags.js';
import { deleteWhenFree, ec2Tags, ownedFilters, updateEc2Tags } from './common.js';

const fields = {
  /** Shown as the Name tag. */
  name: field(z.string().min(1).max(200)),
  /** The VPC it is attached to; moving it to another VPC detaches it first. */
  vpcId: field(input(z.string())),
  tags: field(tags()),
};

export interface InternetGatewayOutputs {
  id: string;
}

type Args = ArgsOf<typeof fields>;

export const InternetGateway = defineResourceType({
  kind: 'internet-gateway',
  noun: 'internet gateway',
  listedAs: 'ec2:internet-gateway',
  fields,
  outputs: ['id'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    const gateways = await allPages(
      (NextToken) => ec2.describeInternetGateways({ Filters: [stackFilter(ctx.stack)], NextToken }),
      (p) => p.InternetGateways,
    );
    return gateways.map(read);
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    // No client token: a lost answer is looked for by its tags before sending again.
    const created = await createOnce(
      async () =>
        (await ec2.createInternetGateway({ TagSpecifications: ec2Tags(ctx, 'internet-gateway', args.tags) }))
          .InternetGateway!,
      async () =>
        foundOurs((await ec2.describeInternetGateways({ Filters: ownedFilters(ctx) })).InternetGateways),
    );
    const id = created.InternetGatewayId!;
    await attach(ec2, id, args.vpcId);
    return read(await describe(ec2, id));
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    if (changed.includes('vpcId')) {
      if (found.args.vpcId) await detach(ctx, ec2, found.id, found.args.vpcId);
      await attach(ec2, found.id, args.vpcId);
    }
    if (changed.includes('tags')) await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    return read(await describe(ec2, found.id));
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    if (found.args.vpcId) await detach(ctx, ec2, found.id, found.args.vpcId);
    await deleteWhenFree(ctx, `internet gateway "${ctx.path}"`, () =>
      ec2.deleteInternetGateway({ InternetGatewayId: found.id }),
    );
  },
});

/** Attaches it; a retry after a lost answer finds it attached to this very VPC (Resource.AlreadyAssociated). */
async function attach(ec2: EC2, id: string, vpcId: string) {
  await createOnce(
    () => ec2.attachInternetGateway({ InternetGatewayId: id, VpcId: vpcId }),
    async () => {
      const igw = await describe(ec2, id);
      return igw.Attachments?.some((a) => a.VpcId === vpcId) ? { value: {}, ours: true } : undefined;
    },
  );
}

/** AWS refuses to detach while the VPC still maps public addresses (a NAT gateway being deleted). */
async function detach(ctx: OpContext, ec2: EC2, id: string, vpcId: string) {
  await deleteWhenFree(ctx, `internet gateway "${ctx.path}" (detaching from ${vpcId})`, async () => {
    try {
      await ec2.detachInternetGateway({ InternetGatewayId: id, VpcId: vpcId });
    } catch (err) {
      // Already detached (out of band, or by an earlier interrupted run) is what we wanted.
      if (errorCode(err) !== 'Gateway.NotAttached') throw err;
    }
  });
}

async function describe(ec2: EC2, id: string): Promise<AwsInternetGateway> {
  const [gateway] = (await ec2.describeInternetGateways({ InternetGatewayIds: [id] })).InternetGateways ?? [];
  return gateway!;
}

function read(gateway: AwsInternetGateway): Found<Args, InternetGatewayOutputs> {
  const id = gateway.InternetGatewayId!;
  const t = tagMap(gateway.Tags);
  const attached = gateway.Attachments?.find((a) => a.State !== 'detaching' && a.State !== 'detached');
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: { vpcId: attached?.VpcId, tags: userTags(t) },
    outputs: { id },
  };
}
