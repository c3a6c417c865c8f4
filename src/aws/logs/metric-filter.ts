// CloudWatch Logs metric filter: counts matching log lines as a metric (errors per minute, for an alarm).
import type { MetricFilter as AwsFilter, CloudWatchLogs } from '@aws-sdk/client-cloudwatch-logs';
import { z } from 'zod';
import { type ArgsOf, field, input } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';

const fields = {
  /** The filter's label; its name in AWS is `<stack>-<label>`. */
  name: field(z.string().min(1).max(200)),
  /** The log group it reads (a LogGroup's name). Changing it means a new filter. */
  logGroupName: field(input(z.string().min(1)), { replace: true }),
  /** CloudWatch's filter pattern, e.g. `"ERROR"`. */
  pattern: field(z.string().max(1024)),
  /** @default 'Touchdown' */
  namespace: field(z.string().min(1).max(255).default('Touchdown')),
};

export interface MetricFilterOutputs {
  name: string;
}

type Args = ArgsOf<typeof fields>;

// Metric filters take no tags: they are found by a name derived from the stack, and the tag index never lists them.
export const MetricFilter = defineResourceType({
  kind: 'log-metric-filter',
  noun: 'CloudWatch metric filter',
  fields,
  outputs: ['name'],
  defaultOutput: 'name',
  identity: { by: 'name', name: (args) => args.name },

  async find(ctx) {
    const logs = await ctx.aws.logs();
    const prefix = `${ctx.stack}-`;
    const filters = await allPages(
      (nextToken) => logs.describeMetricFilters({ filterNamePrefix: prefix, nextToken }),
      (p) => p.metricFilters,
      (p) => p.nextToken,
    );
    return filters.map((f) => read(f, prefix));
  },

  async create(ctx, args) {
    const logs = await ctx.aws.logs();
    const name = physicalName(ctx.stack, args.name, { max: 512 });
    await put(logs, name, args);
    return read((await describe(logs, name))!, `${ctx.stack}-`);
  },

  async update(ctx, found, args) {
    const logs = await ctx.aws.logs();
    await put(logs, found.id, args); // PutMetricFilter replaces a filter of the same name in place
    return read((await describe(logs, found.id))!, `${ctx.stack}-`);
  },

  async delete(ctx, found) {
    const logs = await ctx.aws.logs();
    await ignoreNotFound(
      logs.deleteMetricFilter({ logGroupName: found.args.logGroupName!, filterName: found.id }),
    );
  },
});

function put(logs: CloudWatchLogs, filterName: string, args: Args) {
  return logs.putMetricFilter({
    logGroupName: args.logGroupName,
    filterName,
    filterPattern: args.pattern,
    metricTransformations: [
      { metricName: args.name, metricNamespace: args.namespace, metricValue: '1', defaultValue: 0 },
    ],
  });
}

async function describe(logs: CloudWatchLogs, name: string): Promise<AwsFilter | undefined> {
  const { metricFilters } = await logs.describeMetricFilters({ filterNamePrefix: name });
  return metricFilters?.find((f) => f.filterName === name);
}

function read(f: AwsFilter, prefix: string): Found<Args, MetricFilterOutputs> {
  const label = f.filterName!.slice(prefix.length);
  return {
    key: label,
    id: f.filterName!,
    args: {
      name: label,
      logGroupName: f.logGroupName,
      pattern: f.filterPattern ?? '',
      namespace: f.metricTransformations?.[0]?.metricNamespace,
    },
    outputs: { name: f.filterName! },
  };
}
