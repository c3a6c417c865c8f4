import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRun, parseCron } from './schedule.js';

const next = (expression: string, after: string) =>
  nextRun(parseCron(expression), new Date(after))?.toISOString();

describe('the local scheduler reads AWS cron as EventBridge Scheduler does', () => {
  it('runs every 15 minutes from minute 0 with 0/15', () => {
    assert.equal(next('0/15 * * * ? *', '2026-03-01T10:07:30Z'), '2026-03-01T10:15:00.000Z');
    assert.equal(next('cron(0/15 * * * ? *)', '2026-03-01T10:45:00Z'), '2026-03-01T11:00:00.000Z');
  });

  it('runs at 03:00 every day, the next day once it has passed', () => {
    assert.equal(next('0 3 * * ? *', '2026-03-01T02:59:00Z'), '2026-03-01T03:00:00.000Z');
    assert.equal(next('0 3 * * ? *', '2026-03-01T03:00:00Z'), '2026-03-02T03:00:00.000Z');
  });

  it('counts days of the week from Sunday = 1, and reads their names', () => {
    // 2026-03-01 is a Sunday.
    assert.equal(next('0 9 ? * 2 *', '2026-03-01T12:00:00Z'), '2026-03-02T09:00:00.000Z');
    assert.equal(next('0 9 ? * MON-FRI *', '2026-03-06T12:00:00Z'), '2026-03-09T09:00:00.000Z');
    assert.equal(next('30 8 ? * WED *', '2026-03-01T00:00:00Z'), '2026-03-04T08:30:00.000Z');
  });

  it('reads month names, lists and years', () => {
    assert.equal(next('0 0 1 JAN,JUL ? *', '2026-03-01T00:00:00Z'), '2026-07-01T00:00:00.000Z');
    assert.equal(next('0 0 1 1 ? 2028', '2026-03-01T00:00:00Z'), '2028-01-01T00:00:00.000Z');
    assert.equal(next('0 0 29 2 ? *', '2026-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  });

  it('says what it cannot run instead of running at the wrong time', () => {
    assert.throws(() => parseCron('0 3 L * ? *'), /L, W and # are not run by the local scheduler/);
    assert.throws(() => parseCron('0 3 ? * 2#1 *'), /L, W and # are not run/);
    assert.throws(() => parseCron('0 3 * *'), /six fields/);
    assert.throws(() => parseCron('61 3 * * ? *'), /not a value from 0 to 59/);
  });
});
