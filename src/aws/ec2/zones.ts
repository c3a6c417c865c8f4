// Which availability zones a stack's subnets go in: asked of EC2, never guessed from the region's name
// (ap-northeast-1 has no zone b; ca-central-1 has a, b and d; zone letters differ between accounts).
import { ConfigError } from '../../core/errors.js';
import type { AwsClients } from '../clients.js';
import { allPages } from '../pages.js';

export interface ZoneNeeds {
  /** How many zones the subnets spread over. */
  count: number;
  /** EC2 instance types the stack launches: each chosen zone must offer every one of them. */
  instanceTypes: readonly string[];
}

/**
 * The first `count` zones, in name order, that are available, need no opt-in (Local and Wavelength Zones do)
 * and offer every instance type asked for. Fails, before anything changes, when the region has fewer.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html
 */
export async function stackZones(aws: AwsClients, needs: ZoneNeeds): Promise<string[]> {
  const ec2 = await aws.ec2();
  const { AvailabilityZones = [] } = await ec2.describeAvailabilityZones({
    Filters: [{ Name: 'zone-type', Values: ['availability-zone'] }],
  });
  let zones = AvailabilityZones.filter(
    (z) => z.State === 'available' && z.OptInStatus === 'opt-in-not-required',
  ).map((z) => z.ZoneName!);
  const types = [...new Set(needs.instanceTypes)];
  if (types.length > 0) {
    const offered = await allPages(
      (NextToken) =>
        ec2.describeInstanceTypeOfferings({
          LocationType: 'availability-zone',
          Filters: [{ Name: 'instance-type', Values: types }],
          NextToken,
        }),
      (p) => p.InstanceTypeOfferings,
    );
    zones = zones.filter((zone) =>
      types.every((type) => offered.some((o) => o.Location === zone && o.InstanceType === type)),
    );
  }
  zones.sort();
  if (zones.length < needs.count) {
    const offering = types.length > 0 ? ` offering ${types.join(' and ')}` : '';
    throw new ConfigError(
      `${aws.region} has ${zones.length} available zone${zones.length === 1 ? '' : 's'}${offering} ` +
        `(${zones.join(', ') || 'none'}), and network.azs asks for ${needs.count}: ` +
        (types.length > 0
          ? 'choose an instance type the region offers in more zones, or lower network.azs'
          : 'lower network.azs or choose another region'),
    );
  }
  return zones.slice(0, needs.count);
}
