// EC2 instance: one machine of its own, outside any auto scaling group (a NAT instance), with IMDSv2
// required and an encrypted root volume.
import { randomUUID } from 'node:crypto';
import type { Instance as AwsInstance, EC2, RunInstancesCommandInput, Volume } from '@aws-sdk/client-ec2';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { RESOURCE_TAG, STACK_TAG, stackFilter, tagMap, tagSpecifications, userTags } from '../tags.js';
import {
  imageId,
  metadataOptions,
  metadataRequest,
  nameTag,
  readMetadataOptions,
  rootDeviceMapping,
  rootVolume,
  updateEc2Tags,
} from './common.js';

/** AWS reports the AMI a `resolve:ssm:` image resolved to: the image as declared is kept in this tag. */
const IMAGE_TAG = 'touchdown:image';
/** Terminated instances stay listed for about an hour; those on their way there are gone for planning. */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

const fields = {
  /** Shown as the Name tag. */
  name: field(z.string().min(1).max(200)),
  /**
   * The AMI, or `resolve:ssm:<parameter>` for the image a parameter names when the instance starts (a newer
   * image later does not replace a running instance). Changing it means a new instance.
   */
  imageId: field(input(imageId()), { replace: true }),
  /** e.g. 't4g.nano'. Changing it means a new instance. */
  instanceType: field(
    z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an instance type looks like t4g.nano'),
    { replace: true },
  ),
  /** The subnet it starts in; it gets a public address when the subnet gives one. Changing it means a new instance. */
  subnetId: field(input(z.string()), { replace: true }),
  /** Security groups of its network interface. */
  securityGroupIds: field(z.array(input(z.string())).min(1).max(5), { unordered: true }),
  /** @default true: it drops traffic not addressed to itself. A NAT instance or router sets false. */
  sourceDestCheck: field(z.boolean().default(true)),
  /** The script it runs at first boot, as plain text (Touchdown encodes it). Changing it means a new instance. @default none */
  userData: field(input(z.string().min(1)).optional(), { replace: true }),
  /** Instance metadata service: IMDSv2 is always required. @default hop limit 1: only the instance itself reaches it */
  metadataOptions: field(metadataOptions(1)),
  /** The root EBS volume. Changing it means a new instance. @default gp3, encrypted, the image's size */
  rootVolume: field(rootVolume(), { replace: true }),
  /** Tags on the instance, its volume and its network interface. */
  tags: field(tags()),
};

export interface InstanceOutputs {
  id: string;
  /** Its primary network interface: what a route to it names. */
  networkInterfaceId: string;
  privateIp: string;
}

type Args = ArgsOf<typeof fields>;
type InstanceFound = Found<Args, InstanceOutputs>;

export const Instance = defineResourceType({
  kind: 'instance',
  noun: 'EC2 instance',
  listedAs: 'ec2:instance',
  fields,
  outputs: ['id', 'networkInterfaceId', 'privateIp'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  async find(ctx, wanted) {
    const ec2 = await ctx.aws.ec2();
    const instances = await allPages(
      (NextToken) =>
        ec2.describeInstances({
          Filters: [stackFilter(ctx.stack), { Name: 'instance-state-name', Values: LIVE_STATES }],
          NextToken,
        }),
      (p) => p.Reservations?.flatMap((r) => r.Instances ?? []),
    );
    // An auto scaling group's instances carry the stack's tags too: they are the group's, not ours.
    const ours = instances.filter((i) => {
      const t = tagMap(i.Tags);
      return t[STACK_TAG] === ctx.stack && t[RESOURCE_TAG]?.startsWith('instance.') === true;
    });
    const declared = new Map(wanted.map((w) => [w.address, w.args.rootVolume?.sizeGiB]));
    return readAll(ec2, ours, (key) => declared.get(key));
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    const tagged = ctx.tags({ ...args.tags, Name: nameTag(ctx.path) });
    const request: RunInstancesCommandInput = {
      ImageId: args.imageId,
      InstanceType: args.instanceType as RunInstancesCommandInput['InstanceType'],
      MinCount: 1,
      MaxCount: 1,
      SubnetId: args.subnetId,
      SecurityGroupIds: args.securityGroupIds,
      UserData: args.userData === undefined ? undefined : Buffer.from(args.userData).toString('base64'),
      MetadataOptions: metadataRequest(args.metadataOptions),
      BlockDeviceMappings: [await rootDeviceMapping(ctx, ec2, args.imageId, args.rootVolume)],
      TagSpecifications: [
        ...tagSpecifications('instance', { ...tagged, [IMAGE_TAG]: args.imageId }),
        ...tagSpecifications('volume', tagged),
      ],
      // RunInstances is not idempotent without one: a retried call would start a second instance.
      ClientToken: randomUUID(),
    };
    const { Instances: [started] = [] } = await ec2.runInstances(request);
    const id = started!.InstanceId!;
    const running = await ctx.wait({
      what: `EC2 instance "${ctx.path}" (${id}) to be running`,
      timeoutMs: 10 * 60_000,
      hint: 'look at the instance in the EC2 console: its state reason says why it stopped (capacity, image, volume)',
      check: async () => {
        const i = await describe(ec2, id);
        const state = i?.State?.Name ?? 'not visible yet';
        if (state === 'terminated' || state === 'shutting-down') {
          throw new Error(`it ended at start: ${i?.StateReason?.Message ?? 'no reason given'}`);
        }
        return state === 'running' ? { done: true, value: i! } : { done: false, state };
      },
    });
    if (!args.sourceDestCheck) await setSourceDestCheck(ec2, id, false);
    return fresh(ec2, running.InstanceId!, args);
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    const InstanceId = found.id;
    if (changed.includes('securityGroupIds')) {
      await ec2.modifyInstanceAttribute({ InstanceId, Groups: args.securityGroupIds });
    }
    if (changed.includes('sourceDestCheck')) await setSourceDestCheck(ec2, InstanceId, args.sourceDestCheck);
    if (changed.includes('metadataOptions')) {
      await ec2.modifyInstanceMetadataOptions({ InstanceId, ...metadataRequest(args.metadataOptions) });
    }
    if (changed.includes('tags')) await updateEc2Tags(ec2, InstanceId, found.args.tags ?? {}, args.tags);
    return fresh(ec2, InstanceId, args);
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    await ignoreNotFound(ec2.terminateInstances({ InstanceIds: [found.id] }));
    // Its network interface holds the subnet and security groups until it is terminated.
    await ctx.wait({
      what: `EC2 instance "${ctx.path}" (${found.id}) to be terminated`,
      timeoutMs: 15 * 60_000,
      hint: 'termination protection or a stuck shutdown holds it: look at the instance in the EC2 console',
      check: async () => {
        const state = (await describe(ec2, found.id))?.State?.Name;
        return state === undefined || state === 'terminated'
          ? { done: true, value: undefined }
          : { done: false, state };
      },
    });
  },
});

function setSourceDestCheck(ec2: EC2, InstanceId: string, Value: boolean) {
  return ec2.modifyInstanceAttribute({ InstanceId, SourceDestCheck: { Value } });
}

async function describe(ec2: EC2, id: string): Promise<AwsInstance | undefined> {
  const answer = await ignoreNotFound(ec2.describeInstances({ InstanceIds: [id] }));
  return answer?.Reservations?.[0]?.Instances?.[0];
}

async function fresh(ec2: EC2, id: string, args: Args): Promise<InstanceFound> {
  const instance = await describe(ec2, id);
  if (!instance) throw new Error(`the instance ${id} disappeared`);
  return (await readAll(ec2, [instance], () => args.rootVolume.sizeGiB))[0]!;
}

/**
 * Root volumes in one call, and each instance's user data (only DescribeInstanceAttribute reads it). A volume's
 * size counts only where one was declared (`declaredSize` by address): otherwise it is the image's.
 */
async function readAll(
  ec2: EC2,
  instances: AwsInstance[],
  declaredSize: (address: string) => number | undefined,
): Promise<InstanceFound[]> {
  if (instances.length === 0) return [];
  const rootIds = instances.flatMap((i) => {
    const id = rootMapping(i)?.Ebs?.VolumeId;
    return id ? [id] : [];
  });
  const volumes =
    rootIds.length === 0
      ? []
      : ((await ignoreNotFound(ec2.describeVolumes({ VolumeIds: rootIds })))?.Volumes ?? []);
  const limit = pLimit(8);
  return Promise.all(
    instances.map((i) =>
      limit(async () => {
        const attribute = await ignoreNotFound(
          ec2.describeInstanceAttribute({ InstanceId: i.InstanceId!, Attribute: 'userData' }),
        );
        const encoded = attribute?.UserData?.Value;
        const userData = encoded ? Buffer.from(encoded, 'base64').toString() : undefined;
        const volume = volumes.find((v) => v.VolumeId === rootMapping(i)?.Ebs?.VolumeId);
        const sized = declaredSize(tagMap(i.Tags)[RESOURCE_TAG] ?? '') !== undefined;
        return read(i, volume && { ...volume, Size: sized ? volume.Size : undefined }, userData);
      }),
    ),
  );
}

function rootMapping(i: AwsInstance) {
  return i.BlockDeviceMappings?.find((m) => m.DeviceName === i.RootDeviceName) ?? i.BlockDeviceMappings?.[0];
}

function read(i: AwsInstance, volume: Volume | undefined, userData: string | undefined): InstanceFound {
  const id = i.InstanceId!;
  const t = tagMap(i.Tags);
  const eni = i.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === 0) ?? i.NetworkInterfaces?.[0];
  const args: Partial<Args> = {
    imageId: t[IMAGE_TAG] ?? i.ImageId,
    instanceType: i.InstanceType,
    subnetId: i.SubnetId,
    securityGroupIds: (i.SecurityGroups ?? []).map((g) => g.GroupId!),
    sourceDestCheck: i.SourceDestCheck ?? true,
    userData,
    metadataOptions: readMetadataOptions(i.MetadataOptions),
    tags: userTags(t),
  };
  // Compared only when the volume could be read.
  if (volume) {
    args.rootVolume = {
      sizeGiB: volume.Size,
      type: volume.VolumeType as Args['rootVolume']['type'],
      encrypted: volume.Encrypted ?? false,
    };
  }
  return {
    key: t[RESOURCE_TAG] ?? id,
    id,
    args,
    outputs: { id, networkInterfaceId: eni?.NetworkInterfaceId ?? '', privateIp: i.PrivateIpAddress ?? '' },
  };
}
