// The AWS Regions that exist, so a typo ("us-east-7", "eu-west") is refused before any call instead of
// failing later as an unreachable endpoint. https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
export const AWS_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'me-west-1',
  'mx-central-1',
  'sa-east-1',
  'sa-west-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'cn-north-1',
  'cn-northwest-1',
  'eusc-de-east-1',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-iso-east-1',
  'us-iso-west-1',
  'us-isob-east-1',
  'us-isob-west-1',
  'eu-isoe-west-1',
  'us-isof-east-1',
  'us-isof-south-1',
] as const;

/** Why this is not a region, with the nearest real one; undefined when it is one. */
export function regionProblem(region: string): string | undefined {
  if ((AWS_REGIONS as readonly string[]).includes(region)) return undefined;
  const near = nearest(region);
  return `"${region}" is not an AWS region${near ? `; did you mean ${near}?` : ''} (regions look like us-east-1, eu-west-2)`;
}

function nearest(region: string): string | undefined {
  const prefix = region.replace(/-?\d*$/, '');
  return AWS_REGIONS.find((r) => r.startsWith(prefix) && prefix.length >= 2);
}
