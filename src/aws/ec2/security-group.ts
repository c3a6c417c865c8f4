// Security group: a stateful firewall around network interfaces, with rules in and out.
import type { SecurityGroup as AwsSecurityGroup, EC2, IpPermission } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { type ArgsOf, cidr, field, input, tags } from '../../core/args.js';
import { stableJson } from '../../core/diff.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { createOnce, foundOurs } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { allPages } from '../pages.js';
import { stackFilter, tagMap, userTags } from '../tags.js';
import { deleteWhenFree, ec2Tags, nameTag, ownedFilters, updateEc2Tags } from './common.js';

const SOURCES = ['cidrIpv4', 'cidrIpv6', 'prefixListId', 'sourceSecurityGroupId'] as const;

const rule = z
  .strictObject({
    /** 'tcp', 'udp', 'icmp', or '-1' for every protocol (ports are then ignored). */
    protocol: z.enum(['tcp', 'udp', 'icmp', '-1']),
    /** First port (tcp, udp) or ICMP type; -1 for all. */
    fromPort: z.number().int().min(-1).max(65535).optional(),
    /** Last port (tcp, udp) or ICMP code; -1 for all. */
    toPort: z.number().int().min(-1).max(65535).optional(),
    cidrIpv4: cidr().optional(),
    cidrIpv6: z.string().optional(),
    /** A managed prefix list, e.g. of a gateway endpoint's service. */
    prefixListId: input(z.string()).optional(),
    /** Another security group: traffic from (ingress) or to (egress) its members. */
    sourceSecurityGroupId: input(z.string()).optional(),
    description: z.string().max(255).optional(),
  })
  .superRefine((r, ctx) => {
    if (SOURCES.filter((s) => r[s] !== undefined).length !== 1) {
      ctx.addIssue({ code: 'custom', message: `give a rule exactly one of ${SOURCES.join(', ')}` });
    }
    if (r.protocol === 'tcp' || r.protocol === 'udp') {
      const { fromPort: from, toPort: to } = r;
      if (from === undefined || to === undefined || from < 0 || to < 0 || from > to) {
        ctx.addIssue({
          code: 'custom',
          message: `a ${r.protocol} rule needs fromPort and toPort from 0 to 65535, fromPort first`,
        });
      }
    }
  });

type RuleInput = z.output<typeof rule>;

/** What AWS stores: ports -1 where they do not apply, no empty descriptions, no absent keys. */
function canonical(r: RuleInput): RuleInput {
  const all = r.protocol === '-1';
  const full = { ...r, fromPort: all ? -1 : (r.fromPort ?? -1), toPort: all ? -1 : (r.toPort ?? -1) };
  return Object.fromEntries(Object.entries(full).filter(([, v]) => v !== undefined && v !== '')) as RuleInput;
}

const canonicalRules = (value: unknown) =>
  Array.isArray(value) ? value.map((r) => canonical(r as RuleInput)) : value;

/** A rule's identity in AWS: everything but its description. */
const ruleKey = (r: RuleInput) => stableJson({ ...canonical(r), description: undefined });

const ALLOW_ALL_OUT: RuleInput = { protocol: '-1', cidrIpv4: '0.0.0.0/0' };

const fields = {
  /** The group's name in AWS is derived from the path, as `<stack>-<path>`. */
  name: field(z.string().min(1).max(200)),
  /** The VPC it belongs to. Changing it means a new group. */
  vpcId: field(input(z.string()), { replace: true }),
  /** @default 'Managed by Touchdown'. AWS cannot change it: changing it means a new group. */
  description: field(z.string().min(1).max(255).default('Managed by Touchdown'), { replace: true }),
  /** Traffic allowed in. @default [] (nothing) */
  ingress: field(z.array(rule).default([]), { unordered: true, normalize: canonicalRules }),
  /** Traffic allowed out. @default all traffic to anywhere, as AWS sets on a new group */
  egress: field(z.array(rule).default([ALLOW_ALL_OUT]), { unordered: true, normalize: canonicalRules }),
  tags: field(tags()),
};

export interface SecurityGroupOutputs {
  id: string;
  arn: string;
  name: string;
}

type Args = ArgsOf<typeof fields>;
type Rule = Args['ingress'][number];
type Direction = 'ingress' | 'egress';

export const SecurityGroup = defineResourceType({
  kind: 'security-group',
  noun: 'security group',
  listedAs: 'ec2:security-group',
  fields,
  outputs: ['id', 'arn', 'name'],
  defaultOutput: 'id',
  identity: { by: 'address' },

  check(args) {
    const problems: string[] = [];
    for (const direction of ['ingress', 'egress'] as const) {
      const seen = new Map<string, number>();
      (args[direction] ?? []).forEach((r, i) => {
        const key = ruleKey(r as RuleInput);
        const first = seen.get(key);
        if (first !== undefined)
          problems.push(`${direction}.${i}: repeats rule ${first}; remove one of them`);
        else seen.set(key, i);
      });
    }
    return problems;
  },

  async find(ctx) {
    const ec2 = await ctx.aws.ec2();
    const groups = await allPages(
      (NextToken) => ec2.describeSecurityGroups({ Filters: [stackFilter(ctx.stack)], NextToken }),
      (p) => p.SecurityGroups,
    );
    // An ARN's account is the group's owner, as described: STS only where AWS left both out.
    const account = groups.every((g) => g.SecurityGroupArn || g.OwnerId) ? '' : await ctx.account();
    // DescribeSecurityGroups carries every rule with its description: one call reads groups and rules.
    return groups.map((g) => read(g, ctx.region, account));
  },

  async create(ctx, args) {
    const ec2 = await ctx.aws.ec2();
    // Its name is unique in the VPC: a retry after a lost answer meets InvalidGroup.Duplicate, ours by its tags.
    const id = await createOnce(
      async () =>
        (
          await ec2.createSecurityGroup({
            GroupName: groupName(ctx.stack, ctx.path),
            Description: args.description,
            VpcId: args.vpcId,
            TagSpecifications: ec2Tags(ctx, 'security-group', args.tags),
          })
        ).GroupId!,
      async () => {
        const { SecurityGroups } = await ec2.describeSecurityGroups({ Filters: ownedFilters(ctx) });
        return foundOurs(SecurityGroups?.map((g) => g.GroupId!));
      },
    );
    await ctx.wait({
      what: `security group "${ctx.path}" to be visible`,
      timeoutMs: 2 * 60_000,
      check: async () =>
        (await describe(ec2, id))
          ? { done: true, value: undefined }
          : { done: false, state: 'not visible yet' },
    });
    await converge(ec2, id, args);
    return fresh(ctx, ec2, id);
  },

  async update(ctx, found, args, changed) {
    const ec2 = await ctx.aws.ec2();
    if (changed.includes('ingress') || changed.includes('egress')) await converge(ec2, found.id, args);
    if (changed.includes('tags')) await updateEc2Tags(ec2, found.id, found.args.tags ?? {}, args.tags);
    return fresh(ctx, ec2, found.id);
  },

  async delete(ctx, found) {
    const ec2 = await ctx.aws.ec2();
    await unlink(ctx, ec2, found.id);
    // Network interfaces (instances, tasks, load balancers being deleted) keep a group busy for a while.
    await deleteWhenFree(ctx, `security group "${ctx.path}"`, () =>
      ec2.deleteSecurityGroup({ GroupId: found.id }),
    );
  },
});

/** AWS names are unique per VPC and may not start with `sg-`. */
function groupName(stack: string, path: string): string {
  const name = `${stack}-${nameTag(path)}`.slice(0, 255);
  return name.startsWith('sg-') ? `touchdown-${name}`.slice(0, 255) : name;
}

/**
 * Removes the references that would block deleting this group or the groups it cites:
 * its own rules citing other groups, and the stack's other groups' rules citing it
 * (two groups citing each other, or a referenced group being replaced).
 */
async function unlink(ctx: OpContext, ec2: EC2, id: string) {
  const groups = await allPages(
    (NextToken) => ec2.describeSecurityGroups({ Filters: [stackFilter(ctx.stack)], NextToken }),
    (p) => p.SecurityGroups,
  );
  const calls: Promise<unknown>[] = [];
  for (const g of groups) {
    const cites = g.GroupId === id ? (other: string) => other !== id : (other: string) => other === id;
    for (const direction of ['ingress', 'egress'] as const) {
      const permissions = (direction === 'ingress' ? g.IpPermissions : g.IpPermissionsEgress) ?? [];
      const citing = permissions
        .map((p) => ({
          IpProtocol: p.IpProtocol,
          FromPort: p.FromPort,
          ToPort: p.ToPort,
          UserIdGroupPairs: (p.UserIdGroupPairs ?? [])
            .filter((pair) => pair.GroupId && cites(pair.GroupId))
            .map((pair) => ({ GroupId: pair.GroupId })),
        }))
        .filter((p) => p.UserIdGroupPairs.length > 0);
      if (citing.length > 0) calls.push(revoke(ec2, g.GroupId!, direction, { IpPermissions: citing }));
    }
  }
  await Promise.all(calls);
}

/** Authorizes what is missing, updates descriptions, then revokes what is no longer declared. */
async function converge(ec2: EC2, id: string, want: Args) {
  const group = await describe(ec2, id);
  const calls: Promise<unknown>[] = [];
  for (const direction of ['ingress', 'egress'] as const) {
    const current = new Map(rulesOf(group, direction).map((r) => [ruleKey(r), r]));
    const wanted = new Map(want[direction].map((r) => [ruleKey(r), canonical(r) as Rule]));
    const missing = [...wanted].filter(([k]) => !current.has(k)).map(([, r]) => r);
    const redescribed = [...wanted]
      .filter(([k, r]) => current.has(k) && current.get(k)!.description !== r.description)
      .map(([, r]) => r);
    // AWS matches rules to revoke by protocol, ports and source, not by description.
    const extra = [...current]
      .filter(([k]) => !wanted.has(k))
      .map(([, r]) => permission({ ...r, description: undefined }));
    calls.push(
      (async () => {
        // Allow the new before revoking the old, so that a changed rule never leaves a gap.
        if (missing.length > 0) {
          // One rule already there fails the whole call (InvalidPermission.Duplicate): after a lost answer, all are.
          const added = async () => {
            const now = new Set(rulesOf(await describe(ec2, id), direction).map(ruleKey));
            return missing.every((r) => now.has(ruleKey(r))) ? { value: undefined, ours: true } : undefined;
          };
          await createOnce(() => authorize(ec2, id, direction, missing.map(permission)), added);
        }
        if (redescribed.length > 0) await updateDescriptions(ec2, id, direction, redescribed.map(permission));
        if (extra.length > 0) await revoke(ec2, id, direction, { IpPermissions: extra });
      })(),
    );
  }
  await Promise.all(calls);
}

function authorize(ec2: EC2, id: string, direction: Direction, IpPermissions: IpPermission[]) {
  return direction === 'ingress'
    ? ec2.authorizeSecurityGroupIngress({ GroupId: id, IpPermissions })
    : ec2.authorizeSecurityGroupEgress({ GroupId: id, IpPermissions });
}

function updateDescriptions(ec2: EC2, id: string, direction: Direction, IpPermissions: IpPermission[]) {
  return direction === 'ingress'
    ? ec2.updateSecurityGroupRuleDescriptionsIngress({ GroupId: id, IpPermissions })
    : ec2.updateSecurityGroupRuleDescriptionsEgress({ GroupId: id, IpPermissions });
}

/** Already gone (revoked by another group's delete, or out of band) is what we wanted. */
function revoke(
  ec2: EC2,
  id: string,
  direction: Direction,
  what: { IpPermissions?: IpPermission[]; SecurityGroupRuleIds?: string[] },
) {
  return ignoreNotFound(
    direction === 'ingress'
      ? ec2.revokeSecurityGroupIngress({ GroupId: id, ...what })
      : ec2.revokeSecurityGroupEgress({ GroupId: id, ...what }),
  );
}

function permission(r: Rule): IpPermission {
  const Description = r.description;
  return {
    IpProtocol: r.protocol,
    FromPort: r.fromPort ?? -1,
    ToPort: r.toPort ?? -1,
    IpRanges: r.cidrIpv4 ? [{ CidrIp: r.cidrIpv4, Description }] : undefined,
    Ipv6Ranges: r.cidrIpv6 ? [{ CidrIpv6: r.cidrIpv6, Description }] : undefined,
    PrefixListIds: r.prefixListId ? [{ PrefixListId: r.prefixListId, Description }] : undefined,
    UserIdGroupPairs: r.sourceSecurityGroupId
      ? [{ GroupId: r.sourceSecurityGroupId, Description }]
      : undefined,
  };
}

/** A group's rules in one direction, one rule per source (AWS groups several sources per permission). */
function rulesOf(group: AwsSecurityGroup | undefined, direction: Direction): Rule[] {
  const permissions = (direction === 'ingress' ? group?.IpPermissions : group?.IpPermissionsEgress) ?? [];
  return permissions.flatMap((p) => {
    const base = { protocol: p.IpProtocol as Rule['protocol'], fromPort: p.FromPort, toPort: p.ToPort };
    const rule = (source: Partial<Rule>, description: string | undefined) =>
      canonical({ ...base, ...source, description: description || undefined }) as Rule;
    return [
      ...(p.IpRanges ?? []).map((r) => rule({ cidrIpv4: r.CidrIp }, r.Description)),
      ...(p.Ipv6Ranges ?? []).map((r) => rule({ cidrIpv6: r.CidrIpv6 }, r.Description)),
      ...(p.PrefixListIds ?? []).map((r) => rule({ prefixListId: r.PrefixListId }, r.Description)),
      ...(p.UserIdGroupPairs ?? []).map((r) => rule({ sourceSecurityGroupId: r.GroupId }, r.Description)),
    ];
  });
}

/** Undefined while a new group is not yet visible (EC2 reads are eventually consistent). */
async function describe(ec2: EC2, id: string): Promise<AwsSecurityGroup | undefined> {
  return (await ignoreNotFound(ec2.describeSecurityGroups({ GroupIds: [id] })))?.SecurityGroups?.[0];
}

async function fresh(ctx: OpContext, ec2: EC2, id: string) {
  const group = (await describe(ec2, id))!;
  return read(group, ctx.region, group.SecurityGroupArn || group.OwnerId ? '' : await ctx.account());
}

function read(group: AwsSecurityGroup, region: string, account: string): Found<Args, SecurityGroupOutputs> {
  const id = group.GroupId!;
  const t = tagMap(group.Tags);
  const sorted = (direction: Direction) =>
    rulesOf(group, direction).sort((a, b) => stableJson(a).localeCompare(stableJson(b)));
  return {
    key: t['touchdown:resource'] ?? id,
    id,
    args: {
      vpcId: group.VpcId,
      description: group.Description,
      ingress: sorted('ingress'),
      egress: sorted('egress'),
      tags: userTags(t),
    },
    outputs: {
      id,
      arn: group.SecurityGroupArn ?? `arn:aws:ec2:${region}:${group.OwnerId ?? account}:security-group/${id}`,
      name: group.GroupName!,
    },
  };
}
