// Route table: where traffic leaving the subnets associated with it goes.
import { randomUUID } from 'node:crypto';
import type { RouteTable as AwsRouteTable, EC2 } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, cidr, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { createOnce } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { stackFilter, tagMap, userTags } from '../tags.js';
import { deleteWhenFree, ec2Tags, updateEc2Tags } from './common.js';

/** Where a route sends traffic, as CreateRoute names it. */
const TARGETS = {
  gatewayId: 'GatewayId',
  natGatewayId: 'NatGatewayId',
  vpcEndpointId: 'VpcEndpointId',
  transitGatewayId: 'TransitGatewayId',
  vpcPeeringConnectionId: 'VpcPeeringConnectionId',
  networkInterfaceId: 'NetworkInterfaceId',
} as const;
type Target = keyof typeof TARGETS;

const route = z
  .strictObject({
    /** The IPv4 range this route covers, e.g. 0.0.0.0/0 for everything else. */
    destinationCidrBlock: cidr(),
    /** An internet gateway (or virtual private gateway). */
    gatewayId: input(z.string()).optional(),
    natGatewayId: input(z.string()).optional(),
    /** A Gateway Load Balancer endpoint. */
    vpcEndpointId: input(z.string()).optional(),
    transitGatewayId: input(z.string()).optional(),
    vpcPeeringConnectionId: input(z.string()).optional(),
    /** A network interface, e.g. of a NAT instance. */
    networkInterfaceId: input(z.string()).optional(),
  })
  .refine((r) => targetsOf(r).length === 1, {
    message: `give a route exactly one target: ${Object.keys(TARGETS).join(', ')}`,
  });

const fields = {
  /** Shown as the Name tag. */
  name: field(z.string().min(1).max(200)),
  /** The VPC it belongs to. Changing it means a new route table. */
  vpcId: field(input(z.string()), { replace: true }),
  /** @default [] (the VPC's own range always routes locally, without being listed). */
  routes: field(z.array(route).default([]), { unordered: true }),
  /** Subnets that use this table. @default [] */
  subnetIds: field(z.array(input(z.string())).default([]), { unordered: true }),
  tags: field(tags()),
};

export interface RouteTableOutputs {
  id: string;
}

type Args = ArgsOf<typeof fields>;
type Route = Args['routes'][number];

export const RouteTable = defineResourceType({
  kind: 'route-table',
  noun: 'route table',
  listedAs: 'ec2:route-table',
  fields,
  outputs: ['id'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    const tables = await allPages(
      (NextToken) => ec2.describeRouteTables({ Filters: [stackFilter(ctx.stack)], NextToken }),
      (p) => p.RouteTables,
    );
    return tables.map(read);
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    const { RouteTable: created } = await ec2.createRouteTable({
      VpcId: args.vpcId,
      ClientToken: randomUUID(),
      TagSpecifications: ec2Tags(ctx, 'route-table', args.tags),
    });
    const id = created!.RouteTableId!;
    const table = await ctx.wait({
      what: `route table "${ctx.path}" to be visible`,
      timeoutMs: 2 * 60_000,
      check: async () => {
        const t = await describe(ec2, id);
        return t ? { done: true, value: t } : { done: false, state: 'not visible yet' };
      },
    });
    await converge(ec2, table, args);
    return read((await describe(ec2, id))!);
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    if (changed.includes('routes') || changed.includes('subnetIds')) {
      // Association ids are needed and not kept in the plan: read them now.
      await converge(ec2, (await describe(ec2, found.id))!, args);
    }
    if (changed.includes('tags')) await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    return read((await describe(ec2, found.id))!);
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    const table = await describe(ec2, found.id);
    if (!table) return;
    // A table still used by a subnet cannot be deleted; the subnet falls back to the VPC's main table.
    await Promise.all(
      associations(table).map((a) =>
        ignoreNotFound(ec2.disassociateRouteTable({ AssociationId: a.associationId })),
      ),
    );
    await deleteWhenFree(ctx, `route table "${ctx.path}"`, () =>
      ec2.deleteRouteTable({ RouteTableId: found.id }),
    );
  },
});

/** Adds, replaces and deletes routes and subnet associations until the table has what is declared. */
async function converge(ec2: EC2, table: AwsRouteTable, want: Args) {
  const RouteTableId = table.RouteTableId!;
  const have = new Map(ownRoutes(table).map((r) => [r.destinationCidrBlock, r]));
  const wanted = new Map(want.routes.map((r) => [r.destinationCidrBlock, r]));
  const calls: Promise<unknown>[] = [];
  for (const [destination, r] of wanted) {
    const current = have.get(destination);
    // A retry after a lost answer meets RouteAlreadyExists: done when the route there is this one.
    const routed = async () => {
      const now = ownRoutes((await describe(ec2, RouteTableId))!).find(
        (x) => x.destinationCidrBlock === destination,
      );
      return now && { value: {}, ours: sameTarget(now, r) };
    };
    if (!current) calls.push(createOnce(() => ec2.createRoute({ RouteTableId, ...routeRequest(r) }), routed));
    else if (!sameTarget(current, r)) calls.push(ec2.replaceRoute({ RouteTableId, ...routeRequest(r) }));
  }
  for (const destination of have.keys()) {
    if (!wanted.has(destination))
      calls.push(ignoreNotFound(ec2.deleteRoute({ RouteTableId, DestinationCidrBlock: destination })));
  }
  const associated = associations(table);
  for (const subnetId of new Set(want.subnetIds)) {
    if (!associated.some((a) => a.subnetId === subnetId))
      calls.push(
        // A retry after a lost answer meets Resource.AlreadyAssociated: done when it is with this table.
        createOnce(
          () => ec2.associateRouteTable({ RouteTableId, SubnetId: subnetId }),
          async () =>
            associations((await describe(ec2, RouteTableId))!).some((a) => a.subnetId === subnetId)
              ? { value: {}, ours: true }
              : undefined,
        ),
      );
  }
  for (const a of associated) {
    if (!want.subnetIds.includes(a.subnetId))
      calls.push(ignoreNotFound(ec2.disassociateRouteTable({ AssociationId: a.associationId })));
  }
  await Promise.all(calls);
}

function targetsOf(r: Partial<Record<Target, unknown>>): Target[] {
  return (Object.keys(TARGETS) as Target[]).filter((k) => r[k] !== undefined);
}

function sameTarget(a: Route, b: Route): boolean {
  return (Object.keys(TARGETS) as Target[]).every((k) => a[k] === b[k]);
}

function routeRequest(r: Route) {
  const request: Record<string, string> = { DestinationCidrBlock: r.destinationCidrBlock };
  for (const k of targetsOf(r)) request[TARGETS[k]] = r[k]!;
  return request;
}

/** Routes someone made with CreateRoute: not the VPC's local route, propagated ones, or gateway endpoints' (prefix lists). */
function ownRoutes(table: AwsRouteTable): Route[] {
  return (table.Routes ?? [])
    .filter((r) => r.Origin === 'CreateRoute' && r.DestinationCidrBlock && r.GatewayId !== 'local')
    .map((r) => {
      const out: Route = { destinationCidrBlock: r.DestinationCidrBlock! };
      // A Gateway Load Balancer endpoint reads back as a gateway.
      if (r.GatewayId?.startsWith('vpce-')) out.vpcEndpointId = r.GatewayId;
      else if (r.GatewayId) out.gatewayId = r.GatewayId;
      if (r.NatGatewayId) out.natGatewayId = r.NatGatewayId;
      if (r.TransitGatewayId) out.transitGatewayId = r.TransitGatewayId;
      if (r.VpcPeeringConnectionId) out.vpcPeeringConnectionId = r.VpcPeeringConnectionId;
      if (r.NetworkInterfaceId) out.networkInterfaceId = r.NetworkInterfaceId;
      return out;
    })
    .sort((a, b) => a.destinationCidrBlock.localeCompare(b.destinationCidrBlock));
}

const LEAVING = ['disassociating', 'disassociated'];

function associations(table: AwsRouteTable): { subnetId: string; associationId: string }[] {
  return (table.Associations ?? [])
    .filter((a) => !a.Main && a.SubnetId && !LEAVING.includes(a.AssociationState?.State ?? ''))
    .map((a) => ({ subnetId: a.SubnetId!, associationId: a.RouteTableAssociationId! }));
}

/** Undefined while a new table is not yet visible (EC2 reads are eventually consistent). */
async function describe(ec2: EC2, id: string): Promise<AwsRouteTable | undefined> {
  return (await ignoreNotFound(ec2.describeRouteTables({ RouteTableIds: [id] })))?.RouteTables?.[0];
}

function read(table: AwsRouteTable): Found<Args, RouteTableOutputs> {
  const id = table.RouteTableId!;
  const t = tagMap(table.Tags);
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: {
      vpcId: table.VpcId,
      routes: ownRoutes(table),
      subnetIds: associations(table)
        .map((a) => a.subnetId)
        .sort(),
      tags: userTags(t),
    },
    outputs: { id },
  };
}
