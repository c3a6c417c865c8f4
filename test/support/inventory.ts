// What a stack owns in the local AWS, counted by boto3 (not by Touchdown), one entry per resource kind.
import type { Boto } from './boto.js';

const stackFilter = (stack: string) => [{ Name: 'tag:touchdown:stack', Values: [stack] }];

/** Identifiers of everything the stack owns, by kind; names for the kinds AWS names. */
export async function inventory(
  boto: Boto,
  stack: string,
  names: { prefix: string },
): Promise<Record<string, string[]>> {
  const Filters = stackFilter(stack);
  const ec2 = (
    op: string,
    key: string,
    id: string,
    extra: (x: Record<string, unknown>) => boolean = () => true,
  ) =>
    boto
      .call('ec2', op, { Filters })
      .then((r) => (r[key] as Record<string, unknown>[]).filter(extra).map((x) => String(x[id])));
  const tagged = (x: Record<string, unknown>) =>
    ((x.Tags as { Key: string; Value: string }[] | undefined) ?? []).some(
      (t) => t.Key === 'touchdown:stack' && t.Value === stack,
    );
  const [vpcs, subnets, gateways, addresses, nats, tables, groups, endpoints] = await Promise.all([
    ec2('DescribeVpcs', 'Vpcs', 'VpcId'),
    ec2('DescribeSubnets', 'Subnets', 'SubnetId'),
    ec2('DescribeInternetGateways', 'InternetGateways', 'InternetGatewayId'),
    ec2('DescribeAddresses', 'Addresses', 'AllocationId'),
    // moto ignores tag filters on NAT gateways: filter by tag here too.
    ec2('DescribeNatGateways', 'NatGateways', 'NatGatewayId', (x) => tagged(x) && x.State !== 'deleted'),
    ec2('DescribeRouteTables', 'RouteTables', 'RouteTableId'),
    ec2('DescribeSecurityGroups', 'SecurityGroups', 'GroupId'),
    ec2('DescribeVpcEndpoints', 'VpcEndpoints', 'VpcEndpointId', (x) => x.State !== 'deleted'),
  ]);
  const buckets = (await boto.call('s3', 'ListBuckets')).Buckets.map((b: { Name: string }) => b.Name);
  const roles = (await boto.call('iam', 'ListRoles')).Roles.map((r: { RoleName: string }) => r.RoleName);
  const profiles = (await boto.call('iam', 'ListInstanceProfiles')).InstanceProfiles.map(
    (p: { InstanceProfileName: string }) => p.InstanceProfileName,
  );
  const keys: string[] = [];
  for (const k of (await boto.call('kms', 'ListKeys')).Keys as { KeyId: string }[]) {
    const meta = (await boto.call('kms', 'DescribeKey', { KeyId: k.KeyId })).KeyMetadata;
    if (meta.KeyState !== 'PendingDeletion') keys.push(k.KeyId);
  }
  const aliases = (await boto.call('kms', 'ListAliases')).Aliases.map(
    (a: { AliasName: string }) => a.AliasName,
  );
  const params = (await boto.call('ssm', 'DescribeParameters', { MaxResults: 50 })).Parameters.map(
    (p: { Name: string }) => p.Name,
  );
  const secrets = (await boto.call('secretsmanager', 'ListSecrets')).SecretList.map(
    (s: { Name: string }) => s.Name,
  );
  const named = (list: string[]) => list.filter((n) => n.includes(names.prefix));
  return {
    vpc: vpcs,
    subnet: subnets,
    'internet-gateway': gateways,
    'elastic-ip': addresses,
    'nat-gateway': nats,
    'route-table': tables,
    'security-group': groups,
    'gateway-endpoint': endpoints,
    bucket: named(buckets),
    role: named(roles),
    'instance-profile': named(profiles),
    'kms-key': keys,
    'kms-alias': named(aliases),
    'ssm-parameter': named(params),
    secret: named(secrets),
  };
}

/**
 * EC2 resources that carry no stack tag and are not the account's defaults: what a create that lost its
 * tags, or a create the tool forgot about, would leave behind.
 */
export async function untaggedNetwork(boto: Boto): Promise<string[]> {
  const all = async (
    op: string,
    key: string,
    id: string,
    isDefault: (x: Record<string, unknown>) => boolean,
  ) => {
    const items = (await boto.call('ec2', op))[key] as Record<string, unknown>[];
    return items
      .filter((x) => !isDefault(x))
      .filter(
        (x) => !((x.Tags as { Key: string }[] | undefined) ?? []).some((t) => t.Key === 'touchdown:stack'),
      )
      .map((x) => `${op.replace('Describe', '')} ${String(x[id])}`);
  };
  const defaultVpcs = new Set(
    ((await boto.call('ec2', 'DescribeVpcs')).Vpcs as { VpcId: string; IsDefault: boolean }[])
      .filter((v) => v.IsDefault)
      .map((v) => v.VpcId),
  );
  const inDefaultVpc = (x: Record<string, unknown>) => defaultVpcs.has(String(x.VpcId));
  const lists = await Promise.all([
    all('DescribeVpcs', 'Vpcs', 'VpcId', (x) => x.IsDefault === true),
    all('DescribeSubnets', 'Subnets', 'SubnetId', inDefaultVpc),
    // Every VPC gets a main route table and a default security group from AWS itself.
    all(
      'DescribeRouteTables',
      'RouteTables',
      'RouteTableId',
      (x) =>
        ((x.Associations as { Main?: boolean }[] | undefined) ?? []).some((a) => a.Main) || inDefaultVpc(x),
    ),
    all('DescribeSecurityGroups', 'SecurityGroups', 'GroupId', (x) => x.GroupName === 'default'),
    all('DescribeInternetGateways', 'InternetGateways', 'InternetGatewayId', (x) =>
      ((x.Attachments as { VpcId: string }[] | undefined) ?? []).some((a) => defaultVpcs.has(a.VpcId)),
    ),
    all('DescribeAddresses', 'Addresses', 'AllocationId', () => false),
    all('DescribeNatGateways', 'NatGateways', 'NatGatewayId', (x) => x.State === 'deleted'),
    all('DescribeVpcEndpoints', 'VpcEndpoints', 'VpcEndpointId', (x) => x.State === 'deleted'),
  ]);
  return lists.flat();
}

/** How many of each kind, for one-line comparisons. */
export function counts(inv: Record<string, string[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(inv).map(([k, v]) => [k, v.length]));
}
