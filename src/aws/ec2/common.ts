// What every EC2 resource file shares: names, tag updates, deletes that wait for dependents to go, and what
// instances start from (image, metadata options, root volume).
import type { EC2 } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import type { FindContext, OpContext } from '../../core/resource.js';
import { errorCode, ignoreNotFound, isNotFound } from '../errors.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, tagDelta, tagList, tagSpecifications } from '../tags.js';

/** The Name tag shown in the console: the path the user gave, `radpress/lb` as `radpress-lb`. */
export function nameTag(path: string): string {
  return path.replaceAll('/', '-');
}

/** TagSpecifications for an EC2 create call: ownership tags, the Name tag and the user's own, in one request. */
export function ec2Tags(ctx: OpContext, resourceType: string, user: TagMap) {
  return tagSpecifications(resourceType, ctx.tags({ ...user, Name: nameTag(ctx.path) }));
}

/** Filters selecting what this stack made for the resource being created: a lost create's answer, found. */
export function ownedFilters(ctx: OpContext) {
  const mine = ctx.tags();
  return [
    { Name: `tag:${STACK_TAG}`, Values: [mine[STACK_TAG]!] },
    { Name: `tag:${RESOURCE_TAG}`, Values: [mine[RESOURCE_TAG]!] },
  ];
}

/** Brings an EC2 resource's own tags to the desired set, leaving ownership tags alone. */
export async function updateEc2Tags(ec2: EC2, id: string, current: TagMap, desired: TagMap): Promise<void> {
  const { set, remove } = tagDelta(current, desired);
  if (Object.keys(set).length > 0) await ec2.createTags({ Resources: [id], Tags: tagList(set) });
  if (remove.length > 0) await ec2.deleteTags({ Resources: [id], Tags: remove.map((Key) => ({ Key })) });
}

/**
 * Deletes, retrying while AWS says something still depends on it (network interfaces of a
 * deleted NAT gateway or load balancer linger for minutes). Not found counts as deleted.
 */
export async function deleteWhenFree(
  ctx: OpContext,
  what: string,
  call: () => Promise<unknown>,
  timeoutMs = 15 * 60_000,
) {
  await ctx.wait({
    what: `${what} to be free of dependents`,
    timeoutMs,
    hint: 'something outside this stack may still use it (a network interface, an instance): remove that, then run the same command again',
    check: async () => {
      try {
        await call();
      } catch (err) {
        if (isNotFound(err)) return { done: true, value: undefined };
        if (/DependencyViolation|InUse|InvalidState/.test(errorCode(err)))
          return { done: false, state: errorCode(err) };
        throw err;
      }
      return { done: true, value: undefined };
    },
  });
}

/** Names an AMI through an SSM parameter, which EC2 reads at each launch (AWS's public ones name the newest image). */
const SSM_IMAGE = 'resolve:ssm:';

/** An AMI id, or `resolve:ssm:<parameter>` for the image a parameter names when the instance starts. */
export const imageId = () =>
  z
    .string()
    .regex(
      /^(ami-[0-9a-f]{8,17}|resolve:ssm:\S+)$/,
      'an AMI id looks like ami-0abcdef1234567890, or name a parameter holding one as resolve:ssm:/path',
    );

/** Instance metadata: IMDSv2 always; only the hop limit can be chosen. */
export const metadataOptions = (defaultHopLimit: number) =>
  z
    .strictObject({
      /** Always 'required' (IMDSv2): instance credentials cannot be read through a forged request. */
      httpTokens: z
        .literal('required', {
          error:
            'Touchdown always requires IMDSv2 tokens ("required"): IMDSv1 lets SSRF bugs read credentials',
        })
        .default('required'),
      /** How many network hops a metadata answer may travel: 1 keeps it on the instance itself. */
      httpPutResponseHopLimit: z.number().int().min(1).max(64).default(defaultHopLimit),
    })
    .prefault({});

/** The root EBS volume: encrypted unless said otherwise. */
export const rootVolume = () =>
  z
    .strictObject({
      /** Size in GiB. @default the image's own size */
      sizeGiB: z.number().int().min(1).max(16384).optional(),
      /** @default 'gp3' */
      type: z.enum(['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard']).default('gp3'),
      /** @default true: encrypted at rest with the account's default EBS key. */
      encrypted: z.boolean().default(true),
    })
    .prefault({});

type RootVolume = z.output<ReturnType<typeof rootVolume>>;

/** The metadata options as AWS reports them; IMDSv1 allowed (AWS's default where none is set) reads as a change. */
export function readMetadataOptions(
  m: { HttpTokens?: string; HttpPutResponseHopLimit?: number } | undefined,
) {
  return {
    httpTokens: (m?.HttpTokens ?? 'optional') as 'required',
    httpPutResponseHopLimit: m?.HttpPutResponseHopLimit ?? 1,
  };
}

/** The metadata options as EC2 takes them. */
export function metadataRequest(options: { httpPutResponseHopLimit: number }) {
  return {
    HttpEndpoint: 'enabled' as const,
    HttpTokens: 'required' as const,
    HttpPutResponseHopLimit: options.httpPutResponseHopLimit,
  };
}

/** The root volume's block device mapping, under the device name its image gives it. */
export async function rootDeviceMapping(ctx: FindContext, ec2: EC2, image: string, volume: RootVolume) {
  return {
    DeviceName: await rootDeviceName(ctx, ec2, image),
    Ebs: {
      VolumeSize: volume.sizeGiB,
      VolumeType: volume.type,
      Encrypted: volume.encrypted,
      DeleteOnTermination: true,
    },
  };
}

/** The root volume is named by the image (`/dev/xvda` on Amazon Linux, `/dev/sda1` on Ubuntu). */
async function rootDeviceName(ctx: FindContext, ec2: EC2, image: string): Promise<string> {
  const id = await currentImage(ctx, image);
  const found = (await ignoreNotFound(ec2.describeImages({ ImageIds: [id] })))?.Images?.[0];
  if (!found?.RootDeviceName) {
    throw new Error(`image ${id} is not available in this region: check imageId (AMI ids differ by region)`);
  }
  return found.RootDeviceName;
}

/** The AMI an image id stands for now: itself, or the value of the parameter it names. */
async function currentImage(ctx: FindContext, image: string): Promise<string> {
  if (!image.startsWith(SSM_IMAGE)) return image;
  const name = image.slice(SSM_IMAGE.length);
  const ssm = await ctx.aws.ssm();
  const value = (await ignoreNotFound(ssm.getParameter({ Name: name }), 'ParameterNotFound'))?.Parameter
    ?.Value;
  if (!value) {
    throw new Error(
      `the parameter ${name} (imageId) does not exist in this region: check its path, e.g. in the EC2 console's AMI catalog`,
    );
  }
  return value;
}
