// Listener rule: sends requests matching a path or host to a target group, ahead of the listener's default.
import type { Action, Rule as AwsRule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { allPages, byNextMarker } from '../pages.js';
import { type TagMap, tagList, userTags } from '../tags.js';
import {
  describeTags,
  type ElbV2,
  forwardTarget,
  knownStrings,
  listenersOf,
  ownedAs,
  stackArns,
  updateTags,
} from './common.js';

const KIND = 'listener-rule';

// AWS counts every value of every condition of a rule against one limit of five.
const MAX_CONDITION_VALUES = 5;

const values = z.array(z.string().min(1).max(128)).min(1);

const conditions = z
  .strictObject({
    /** Request paths, with `*` and `?` wildcards: `/static/*`, `/admin/*`. Any one matches. */
    pathPatterns: values.optional(),
    /** Host names, with `*` and `?` wildcards: `api.example.com`, `*.example.com`. Any one matches. */
    hostHeaders: values.optional(),
  })
  .refine((c) => c.pathPatterns !== undefined || c.hostHeaders !== undefined, {
    message: 'give pathPatterns, hostHeaders or both',
  })
  .refine((c) => (c.pathPatterns?.length ?? 0) + (c.hostHeaders?.length ?? 0) <= MAX_CONDITION_VALUES, {
    message: `a rule matches at most ${MAX_CONDITION_VALUES} paths and hosts together; split it into several rules`,
  });

type Conditions = z.output<typeof conditions>;

/** Value order does not matter to AWS: any value matches. */
function sortedConditions(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const c = value as Conditions;
  return { pathPatterns: c.pathPatterns?.toSorted(), hostHeaders: c.hostHeaders?.toSorted() };
}

const fields = {
  /** The label in the stack (rules have no name in AWS). */
  name: field(z.string().min(1).max(200)),
  /** The listener it belongs to (a Listener's arn). Changing it means a new rule. */
  listenerArn: field(input(z.string().min(1)), { replace: true }),
  /** 1 to 50000, unique on its listener; the lowest matching priority wins. */
  priority: field(z.number().int().min(1).max(50_000)),
  /** What a request must match: every given condition, any one value within each. */
  conditions: field(conditions, { normalize: sortedConditions }),
  /** Where matching requests go (a TargetGroup's arn). */
  targetGroupArn: field(input(z.string().min(1))),
  /**
   * A second target group forwarded to with weight 0: ECS blue/green deployments register the new tasks
   * there and move the weight over when they are healthy. @default null (a plain forward)
   */
  standbyTargetGroupArn: field(input(z.string().min(1)).nullable().default(null)),
  tags: field(tags()),
};

export interface ListenerRuleOutputs {
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type RuleFound = Found<Args, ListenerRuleOutputs>;

export const ListenerRule = defineResourceType({
  kind: KIND,
  noun: 'listener rule',
  listedAs: 'elasticloadbalancing',
  fields,
  outputs: ['arn'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  async find(ctx, wanted) {
    const [elbv2, stackBalancers] = await Promise.all([ctx.aws.elbv2(), stackArns(ctx, 'loadbalancer')]);
    // Rules have no tag filter: list those of the stack's load balancers' listeners, and of listeners named by ARN.
    const listeners = (await listenersOf(elbv2, stackBalancers)).map((l) => l.ListenerArn!);
    const named = knownStrings(wanted.map((w) => w.args.listenerArn));
    const limit = pLimit(5);
    const perListener = await Promise.all(
      [...new Set([...listeners, ...named])].map((ListenerArn) =>
        limit(() =>
          ignoreNotFound(
            allPages(
              (Marker) => elbv2.describeRules({ ListenerArn, Marker }),
              (p) => p.Rules,
              byNextMarker,
            ),
          ),
        ),
      ),
    );
    const rules = perListener.flatMap((r) => r ?? []).filter((r) => !r.IsDefault);
    if (rules.length === 0) return [];
    const tags = await describeTags(
      elbv2,
      rules.map((r) => r.RuleArn!),
    );
    return rules
      .filter((r) => ownedAs(tags.get(r.RuleArn!), ctx.stack, KIND))
      .map((r) => read(r, tags.get(r.RuleArn!)!));
  },

  async create(ctx, args) {
    const elbv2 = await ctx.aws.elbv2();
    const { Rules } = await elbv2.createRule({
      ListenerArn: args.listenerArn,
      Priority: args.priority,
      Conditions: toConditions(args.conditions),
      Actions: [forward(args)],
      Tags: tagList(ctx.tags(args.tags)),
    });
    return readOne(elbv2, Rules![0]!.RuleArn!);
  },

  async update(ctx, found, args, changed) {
    const elbv2 = await ctx.aws.elbv2();
    const arn = found.id;
    if (changed.includes('priority')) {
      await elbv2.setRulePriorities({ RulePriorities: [{ RuleArn: arn, Priority: args.priority }] });
    }
    const forwardChanged = changed.includes('targetGroupArn') || changed.includes('standbyTargetGroupArn');
    if (changed.includes('conditions') || forwardChanged) {
      await elbv2.modifyRule({
        RuleArn: arn,
        Conditions: toConditions(args.conditions),
        Actions: [forward(args)],
      });
    }
    if (changed.includes('tags')) await updateTags(elbv2, arn, found.args.tags ?? {}, args.tags);
    return readOne(elbv2, arn);
  },

  async delete(ctx, found) {
    const elbv2 = await ctx.aws.elbv2();
    await ignoreNotFound(elbv2.deleteRule({ RuleArn: found.id }));
  },
});

function forward(args: Args): Action {
  if (!args.standbyTargetGroupArn) return { Type: 'forward', TargetGroupArn: args.targetGroupArn };
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: args.targetGroupArn, Weight: 100 },
        { TargetGroupArn: args.standbyTargetGroupArn, Weight: 0 },
      ],
    },
  };
}

/** The serving and the standby target group of a weighted forward; a plain forward has no standby. */
function readForward(actions: Action[]): Partial<Pick<Args, 'targetGroupArn' | 'standbyTargetGroupArn'>> {
  if (actions.length !== 1) return {};
  const groups = actions[0]!.ForwardConfig?.TargetGroups ?? [];
  if (groups.length !== 2) return { targetGroupArn: forwardTarget(actions[0]), standbyTargetGroupArn: null };
  const [serving, standby] = groups.toSorted((a, b) => (b.Weight ?? 1) - (a.Weight ?? 1));
  return { targetGroupArn: serving!.TargetGroupArn, standbyTargetGroupArn: standby!.TargetGroupArn };
}

function toConditions(c: Conditions): RuleCondition[] {
  const out: RuleCondition[] = [];
  if (c.pathPatterns) out.push({ Field: 'path-pattern', PathPatternConfig: { Values: c.pathPatterns } });
  if (c.hostHeaders) out.push({ Field: 'host-header', HostHeaderConfig: { Values: c.hostHeaders } });
  return out;
}

/** The declared form of AWS's conditions; undefined when it has kinds Touchdown does not declare (it then reads as a change). */
function fromConditions(list: RuleCondition[] | undefined): Conditions | undefined {
  const out: Conditions = {};
  for (const c of list ?? []) {
    if (c.Field === 'path-pattern') out.pathPatterns = c.PathPatternConfig?.Values ?? c.Values;
    else if (c.Field === 'host-header') out.hostHeaders = c.HostHeaderConfig?.Values ?? c.Values;
    else return undefined;
  }
  return out;
}

async function readOne(elbv2: ElbV2, arn: string): Promise<RuleFound> {
  const [described, tags] = await Promise.all([
    elbv2.describeRules({ RuleArns: [arn] }),
    describeTags(elbv2, [arn]),
  ]);
  const r = described.Rules?.[0];
  if (!r) throw new Error(`listener rule ${arn} disappeared while being written`);
  return read(r, tags.get(arn) ?? {});
}

function read(r: AwsRule, tags: TagMap): RuleFound {
  const arn = r.RuleArn!;
  const actions = r.Actions ?? [];
  return {
    key: tags['touchdown:resource'] ?? arn,
    id: arn,
    args: {
      // A rule's ARN is its listener's with `listener-rule` for `listener` and one more part.
      listenerArn: arn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, ''),
      priority: Number(r.Priority),
      conditions: fromConditions(r.Conditions),
      ...readForward(actions),
      tags: userTags(tags),
    },
    outputs: { arn },
  };
}
