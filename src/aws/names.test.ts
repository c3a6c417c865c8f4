import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { physicalName } from './names.js';

describe('physicalName', () => {
  it('joins stack and path with hyphens, keeping only what the service allows', () => {
    assert.equal(physicalName('xkcd', 'web/api', { max: 32 }), 'xkcd-web-api');
    assert.equal(physicalName('xkcd', 'db_main', { max: 63, lowerCase: true }), 'xkcd-db-main');
  });

  it('cuts long names to the limit with a hash, so two long names never collide', () => {
    const a = physicalName('a-rather-long-stack-name', 'load-balancer/public-one', { max: 32 });
    const b = physicalName('a-rather-long-stack-name', 'load-balancer/public-two', { max: 32 });
    assert.ok(a.length <= 32, a);
    assert.ok(b.length <= 32, b);
    assert.notEqual(a, b);
    assert.match(a, /^a-rather-long-stack-name-([a-z-]*-)?[0-9a-f]{6}$/);
  });

  it('starts with a letter when the service requires one', () => {
    assert.equal(physicalName('9lives', 'db', { max: 63, letterFirst: true }), 'td-9lives-db');
  });
});
