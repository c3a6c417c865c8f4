import assert from 'node:assert/strict';
import { it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { LogGroup } from './log-group.js';
import { MetricFilter } from './metric-filter.js';

const t = useLocalAws({ declaredTypesOnly: true });

function stack(pattern = '"ERROR"') {
  const aws = new AwsStack('filters');
  const group = aws.add(LogGroup, { name: 'web' });
  aws.add(MetricFilter, { name: 'errors', logGroupName: group.name, pattern });
  return aws;
}

it('creates the filter, then plans nothing', async () => {
  await t.apply(stack());
  const { metricFilters } = await t.boto.call('logs', 'DescribeMetricFilters', {
    filterNamePrefix: 'filters-',
  });
  assert.equal(metricFilters[0].filterPattern, '"ERROR"');
  assertNoChanges(await t.plan(stack()));
});

it('changes the pattern in place', async () => {
  await t.apply(stack());
  assert.equal(actions(await t.plan(stack('"WARN"')))['log-metric-filter.errors'], 'update');
});

it('applies a new pattern to the same filter', async () => {
  await t.apply(stack());
  await t.apply(stack('"WARN"'));
  const { metricFilters } = await t.boto.call('logs', 'DescribeMetricFilters', {
    filterNamePrefix: 'filters-',
  });
  assert.deepEqual(
    metricFilters.map((f: { filterName: string; filterPattern: string }) => [f.filterName, f.filterPattern]),
    [['filters-errors', '"WARN"']],
  );
});

it('plans a filter deleted behind its back as a create', async () => {
  await t.apply(stack());
  await t.boto.call('logs', 'DeleteMetricFilter', {
    logGroupName: '/filters/web',
    filterName: 'filters-errors',
  });
  assert.equal(actions(await t.plan(stack()))['log-metric-filter.errors'], 'create');
});

it('deletes the filter once the stack no longer declares it', async () => {
  await t.apply(stack());
  const without = new AwsStack('filters');
  without.add(LogGroup, { name: 'web' });
  assert.equal(actions(await t.apply(without))['log-metric-filter.errors'], 'delete');
  const { metricFilters } = await t.boto.call('logs', 'DescribeMetricFilters', {
    filterNamePrefix: 'filters-',
  });
  assert.deepEqual(metricFilters, []);
});
