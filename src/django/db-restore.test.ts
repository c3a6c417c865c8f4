// The restored database's name: RDS's 63-character limit, and a restore of a restore does not grow it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restoredName } from './db-restore.js';

describe('restored database names', () => {
  const at = new Date('2026-12-07T01:02:03Z');

  it('adds the time to the second, and replaces an earlier restore time instead of adding another', () => {
    assert.equal(restoredName('xkcd-production-db', at), 'xkcd-production-db-restored-20261207010203');
    assert.equal(
      restoredName('xkcd-production-db-restored-20261201000000', at),
      'xkcd-production-db-restored-20261207010203',
    );
  });

  it('stays within 63 characters and never leaves a double hyphen', () => {
    const long = restoredName(`${'a'.repeat(38)}-bcdefghijklmnopqrstuvwxyz`, at);
    assert.ok(long.length <= 63, long);
    assert.doesNotMatch(long, /--/);
    assert.match(long, /^a{38}-restored-20261207010203$/);
  });
});
