// Launch template: what every instance of an auto scaling group starts from (image, size, role, user data),
// with IMDSv2 required and an encrypted root volume whatever else is declared.
import { randomUUID } from 'node:crypto';
import type {
  LaunchTemplate as AwsLaunchTemplate,
  EC2,
  LaunchTemplateVersion,
  RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { STACK_TAG, stackFilter, type TagMap, tagList, tagMap, userTags } from '../tags.js';
import {
  ec2Tags,
  imageId,
  metadataOptions,
  metadataRequest,
  nameTag,
  readMetadataOptions,
  rootDeviceMapping,
  rootVolume,
  updateEc2Tags,
} from './common.js';

/** AWS takes at most 16 KB of user data once base64 encoded. */
const MAX_USER_DATA_BASE64 = 16 * 1024;

const fields = {
  /** The template's name in AWS is derived from the stack and path, as `<stack>-<path>`. */
  name: field(z.string().min(1).max(200)),
  /**
   * The AMI instances start from, e.g. `ami-0abcdef1234567890`, or `resolve:ssm:<parameter>` for the image
   * a parameter names at each launch (AWS's public parameters name the newest images).
   */
  imageId: field(input(imageId())),
  /** @default 't4g.small' (2 Graviton vCPUs, 2 GiB). */
  instanceType: field(
    z
      .string()
      .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an instance type looks like t4g.small')
      .default('t4g.small'),
  ),
  /** The instance profile (its ARN) whose role the instances get. @default none */
  instanceProfileArn: field(input(z.string().startsWith('arn:')).optional()),
  /** @default []: security groups of the instances' network interface. */
  securityGroupIds: field(z.array(input(z.string())).default([]), { unordered: true }),
  /** The script the instance runs at first boot, as plain text (Touchdown encodes it). @default none */
  userData: field(input(z.string().min(1)).optional()),
  /**
   * Instance metadata service: IMDSv2 is always required; only the hop limit can be set.
   * @default hop limit 2: one hop more than the instance, so containers on it reach the metadata service.
   */
  metadataOptions: field(metadataOptions(2)),
  /** The root EBS volume. @default gp3, encrypted, the image's size */
  rootVolume: field(rootVolume()),
  /** Tags on the template, and on the instances and volumes it launches. */
  tags: field(tags()),
};

export interface LaunchTemplateOutputs {
  id: string;
  /** The newest version's number; pass it to an auto scaling group to roll instances onto each change. */
  latestVersion: number;
  name: string;
}

type Args = ArgsOf<typeof fields>;
type LaunchTemplateFound = Found<Args, LaunchTemplateOutputs>;

export const LaunchTemplate = defineResourceType({
  kind: 'launch-template',
  noun: 'launch template',
  fields,
  outputs: ['id', 'latestVersion', 'name'],
  defaultOutput: 'id',
  // Every update makes a new version: groups following `latestVersion` see the change in the same plan.
  updatedOutputs: ['latestVersion'],
  identity: { by: 'address' },

  check(args) {
    if (typeof args.userData === 'string' && base64Length(args.userData) > MAX_USER_DATA_BASE64) {
      return ['userData: longer than the 16 KB AWS takes once encoded; fetch a script from S3 instead'];
    }
    return [];
  },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    const templates = await allPages(
      (NextToken) =>
        ec2.describeLaunchTemplates({ Filters: [stackFilter(ctx.stack)], MaxResults: 200, NextToken }),
      (p) => p.LaunchTemplates,
    );
    const ours = templates.filter((t) => tagMap(t.Tags)[STACK_TAG] === ctx.stack);
    if (ours.length === 0) return [];
    // Without a template id, one paged call answers for every template's newest version.
    const wanted = new Set(ours.map((t) => t.LaunchTemplateId));
    const versions = await allPages(
      (NextToken) =>
        ec2.describeLaunchTemplateVersions({ Versions: ['$Latest'], MaxResults: 200, NextToken }),
      (p) => p.LaunchTemplateVersions?.filter((v) => wanted.has(v.LaunchTemplateId)),
    );
    const byId = new Map(versions.map((v) => [v.LaunchTemplateId, v]));
    return ours.flatMap((t) => {
      const v = byId.get(t.LaunchTemplateId);
      return v ? [read(t, v)] : [];
    });
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    const { LaunchTemplate: created } = await ec2.createLaunchTemplate({
      LaunchTemplateName: physicalName(ctx.stack, ctx.path, { max: 128, allowed: /[A-Za-z0-9()./_-]/ }),
      LaunchTemplateData: await templateData(ctx, ec2, args),
      TagSpecifications: ec2Tags(ctx, 'launch-template', args.tags),
      ClientToken: randomUUID(),
    });
    return fresh(ctx, ec2, created!.LaunchTemplateId!);
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    // Versions are immutable: every change is a new version, made the default so `$Default` follows too.
    const { LaunchTemplateVersion: version } = await ec2.createLaunchTemplateVersion({
      LaunchTemplateId: found.id,
      LaunchTemplateData: await templateData(ctx, ec2, args),
      ClientToken: randomUUID(),
    });
    await ec2.modifyLaunchTemplate({
      LaunchTemplateId: found.id,
      DefaultVersion: String(version!.VersionNumber!),
    });
    if (changed.includes('tags')) await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    return fresh(ctx, ec2, found.id);
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    await ignoreNotFound(ec2.deleteLaunchTemplate({ LaunchTemplateId: found.id }));
  },
});

/** The whole of a version: AWS copies nothing from the previous one. */
async function templateData(ctx: OpContext, ec2: EC2, args: Args): Promise<RequestLaunchTemplateData> {
  return {
    ImageId: args.imageId,
    InstanceType: args.instanceType as RequestLaunchTemplateData['InstanceType'],
    IamInstanceProfile: args.instanceProfileArn ? { Arn: args.instanceProfileArn } : undefined,
    SecurityGroupIds: args.securityGroupIds.length > 0 ? args.securityGroupIds : undefined,
    UserData: args.userData === undefined ? undefined : Buffer.from(args.userData).toString('base64'),
    MetadataOptions: metadataRequest(args.metadataOptions),
    BlockDeviceMappings: [await rootDeviceMapping(ctx, ec2, args.imageId, args.rootVolume)],
    // The instances and volumes carry the stack's tags; the auto scaling group adds its own over them.
    TagSpecifications: ['instance', 'volume'].map((ResourceType) => ({
      ResourceType: ResourceType as 'instance',
      Tags: tagList(launchedTags(ctx, args.tags)),
    })),
  };
}

/** What instances launched from the template carry: the stack, its Name, the user's tags (not the template's address). */
function launchedTags(ctx: OpContext, user: TagMap): TagMap {
  return { ...user, Name: nameTag(ctx.path), [STACK_TAG]: ctx.stack };
}

function base64Length(text: string): number {
  return Math.ceil(Buffer.byteLength(text) / 3) * 4;
}

/** The template and its newest version, right after a write (EC2 reads are eventually consistent). */
async function fresh(ctx: OpContext, ec2: EC2, id: string): Promise<LaunchTemplateFound> {
  return ctx.wait({
    what: `launch template "${ctx.path}" to be readable`,
    timeoutMs: 2 * 60_000,
    check: async () => {
      const [template] =
        (await ignoreNotFound(ec2.describeLaunchTemplates({ LaunchTemplateIds: [id] })))?.LaunchTemplates ??
        [];
      const [version] =
        (
          await ignoreNotFound(
            ec2.describeLaunchTemplateVersions({ LaunchTemplateId: id, Versions: ['$Latest'] }),
          )
        )?.LaunchTemplateVersions ?? [];
      return template && version && version.VersionNumber === template.LatestVersionNumber
        ? { done: true, value: read(template, version) }
        : { done: false, state: 'not visible yet' };
    },
  });
}

function read(template: AwsLaunchTemplate, version: LaunchTemplateVersion): LaunchTemplateFound {
  const id = template.LaunchTemplateId!;
  const data = version.LaunchTemplateData ?? {};
  const t = tagMap(template.Tags);
  const root = data.BlockDeviceMappings?.find((m) => m.Ebs)?.Ebs;
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: {
      imageId: data.ImageId,
      instanceType: data.InstanceType,
      instanceProfileArn: data.IamInstanceProfile?.Arn,
      securityGroupIds: data.SecurityGroupIds ?? [],
      userData: data.UserData ? Buffer.from(data.UserData, 'base64').toString() : undefined,
      metadataOptions: readMetadataOptions(data.MetadataOptions),
      rootVolume: {
        sizeGiB: root?.VolumeSize,
        type: root?.VolumeType as Args['rootVolume']['type'],
        encrypted: root?.Encrypted ?? false,
      },
      tags: userTags(t),
    },
    outputs: {
      id,
      latestVersion: version.VersionNumber ?? template.LatestVersionNumber!,
      name: template.LaunchTemplateName!,
    },
  };
}
