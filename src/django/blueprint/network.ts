// The network of seed 000: a subnet per tier (lb, app, db) in each availability zone, security groups
// chained lb → app → db so the database is reachable from the app alone, and routes out.

import type { SecurityGroupOutputs } from '../../aws/ec2/security-group.js';
import type { ZoneNeeds } from '../../aws/ec2/zones.js';
import type { AwsStack, SubnetHandle, VpcHandle } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import { parseCidr } from '../../core/args.js';
import type { Handle } from '../../core/resource.js';
import { NAT_INSTANCE_TYPE, natInstance } from './nat-instance.js';

export interface Network {
  vpc: VpcHandle;
  subnets: { lb: SubnetHandle[]; app: SubnetHandle[]; db: SubnetHandle[] };
  groups: {
    lb: Handle<SecurityGroupOutputs>;
    app: Handle<SecurityGroupOutputs>;
    db: Handle<SecurityGroupOutputs>;
    cache: Handle<SecurityGroupOutputs>;
  };
  /** Without a NAT the app subnets are public and tasks get public addresses (outbound only: their group admits the load balancer alone). */
  appIsPublic: boolean;
}

/** What the zones of a stack's subnets must offer: as many as network.azs, with the instance types it launches. */
export function zoneNeeds(m: Manifest): ZoneNeeds {
  const instanceTypes = [
    ...(m.web.compute === 'ec2' ? [m.web.instanceType] : []),
    ...(m.network.nat === 'instance' ? [NAT_INSTANCE_TYPE] : []),
  ];
  return { count: m.network.azs, instanceTypes };
}

/** `zones`: the region's zones as stackZones (aws/ec2/zones.ts) found them. */
export function network(aws: AwsStack, m: Manifest, zoneNames: readonly string[]): Network {
  const base = parseCidr(m.network.cidr)!.base;
  const octets = [24, 16].map((s) => (base / 2 ** s) & 255).join('.');
  // /24s for the load balancers and databases, /22s for tasks (each Fargate task takes an address).
  const cidr = {
    lb: (i: number) => `${octets}.${i}.0/24`,
    app: (i: number) => `${octets}.${32 + 4 * i}.0/22`,
    db: (i: number) => `${octets}.${64 + i}.0/24`,
  };

  const vpc = aws.addVpc({ name: 'main', cidrBlock: m.network.cidr });
  if (zoneNames.length < m.network.azs) {
    throw new Error(`the blueprint needs ${m.network.azs} zones, was given ${zoneNames.length}`);
  }
  const zones = zoneNames.slice(0, m.network.azs);
  const appIsPublic = m.network.nat === 'none';
  const subnets = {
    lb: zones.map((az, i) =>
      vpc.addSubnet({
        name: `lb-${az.at(-1)}`,
        cidrBlock: cidr.lb(i),
        availabilityZone: az,
        mapPublicIpOnLaunch: true,
      }),
    ),
    app: zones.map((az, i) =>
      vpc.addSubnet({ name: `app-${az.at(-1)}`, cidrBlock: cidr.app(i), availabilityZone: az }),
    ),
    db: zones.map((az, i) =>
      vpc.addSubnet({ name: `db-${az.at(-1)}`, cidrBlock: cidr.db(i), availabilityZone: az }),
    ),
  };

  const gateway = vpc.addInternetGateway({ name: 'internet' });
  const publicSubnets = appIsPublic ? [...subnets.lb, ...subnets.app] : subnets.lb;
  vpc.addRouteTable({
    name: 'public',
    routes: [{ destinationCidrBlock: '0.0.0.0/0', gatewayId: gateway.id }],
    subnetIds: publicSubnets.map((s) => s.id),
  });
  const privateTables = [];
  if (m.network.nat === 'gateway') {
    // One NAT gateway per zone, so losing a zone does not cut the others off.
    for (const [i, lb] of subnets.lb.entries()) {
      const nat = lb.addNatGateway({ name: 'nat' });
      privateTables.push(
        vpc.addRouteTable({
          name: `private-${zones[i]!.at(-1)}`,
          routes: [{ destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id }],
          subnetIds: [subnets.app[i]!.id, subnets.db[i]!.id],
        }),
      );
    }
  } else if (m.network.nat === 'instance') {
    // One instance in the first zone: cheap, and the zones share its fate.
    const nat = natInstance(aws, vpc, subnets.lb[0]!, m.network.cidr);
    privateTables.push(
      vpc.addRouteTable({
        name: 'private',
        routes: [{ destinationCidrBlock: '0.0.0.0/0', networkInterfaceId: nat }],
        subnetIds: [...subnets.app, ...subnets.db].map((s) => s.id),
      }),
    );
  } else {
    privateTables.push(vpc.addRouteTable({ name: 'private', subnetIds: subnets.db.map((s) => s.id) }));
  }
  // S3 without the NAT's per-gigabyte charge, and without leaving AWS's network.
  vpc.addGatewayEndpoint({ name: 's3', service: 's3', routeTableIds: privateTables.map((t) => t.id) });

  const lb = vpc.addSecurityGroup({
    name: 'lb',
    description: 'Load balancer: HTTP and HTTPS from anywhere',
    ingress: [
      { protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', description: 'HTTPS' },
      {
        protocol: 'tcp',
        fromPort: 80,
        toPort: 80,
        cidrIpv4: '0.0.0.0/0',
        description: 'HTTP, redirected to HTTPS',
      },
    ],
  });
  const app = vpc.addSecurityGroup({
    name: 'app',
    description: 'App tasks: the web port from the load balancer only',
    ingress: [
      {
        protocol: 'tcp',
        fromPort: 8000,
        toPort: 8000,
        sourceSecurityGroupId: lb.id,
        description: 'gunicorn',
      },
    ],
  });
  const db = vpc.addSecurityGroup({
    name: 'db',
    description: 'Database: PostgreSQL from the app only',
    ingress: [
      {
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        sourceSecurityGroupId: app.id,
        description: 'PostgreSQL',
      },
    ],
    egress: [],
  });
  const cachePort = m.cache?.engine === 'memcached' ? 11211 : 6379;
  const cache = vpc.addSecurityGroup({
    name: 'cache',
    description: 'Cache: from the app only',
    ingress: [
      {
        protocol: 'tcp',
        fromPort: cachePort,
        toPort: cachePort,
        sourceSecurityGroupId: app.id,
        description: 'cache',
      },
    ],
    egress: [],
  });
  return { vpc, subnets, groups: { lb, app, db, cache }, appIsPublic };
}
