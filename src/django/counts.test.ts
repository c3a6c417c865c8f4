import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from '../config/load-manifest.js';
import { ConfigError } from '../core/errors.js';
import { checkScalable, countSources, type ScaledCount, withCounts } from './counts.js';

const BASE = `app: shop
django:
  settings: shop.settings
  wsgi: shop.wsgi:application
workers:
  default: { command: celery -A shop worker, count: 1 }
`;
const scaled = (count: number, manifestCount: number): ScaledCount => ({
  count,
  manifestCount,
  time: '2026-12-06T21:00:00.000Z',
  who: 'arn:aws:iam::123456789012:user/ana (ana)',
});

describe('task counts: touchdown.yml, touchdown scale, autoscaling', () => {
  it("keeps scale's count while touchdown.yml still says what it said when scale ran", () => {
    const app = parseManifest(`${BASE}web: { count: 2 }\n`, 'touchdown.yml');
    const sources = countSources(app, { web: scaled(5, 2) });
    assert.equal(sources.web?.count, 5);
    assert.equal(sources.web?.from, 'touchdown scale');
    assert.match(
      sources.web!.detail,
      /set by touchdown scale at 2026-12-06T21:00:00.000Z by .*ana.*; touchdown.yml says 2/,
    );
    assert.deepEqual(sources['worker-default'], { count: 1, from: 'touchdown.yml', detail: 'touchdown.yml' });
    const counted = withCounts(app, sources).manifest;
    assert.equal(counted.web.count, 5);
    assert.equal(counted.workers.default?.count, 1);
    assert.equal(app.manifest.web.count, 2, 'the loaded manifest itself is left as written');
  });

  it('gives touchdown.yml the last word once its count changed after scale', () => {
    const app = parseManifest(`${BASE}web: { count: 4 }\n`, 'touchdown.yml');
    const sources = countSources(app, { web: scaled(5, 2) });
    assert.equal(sources.web?.count, 4);
    assert.equal(sources.web?.detail, 'touchdown.yml (changed since touchdown scale set 5)');
  });

  it('leaves an autoscaled web to autoscaling, and refuses a count outside its range', () => {
    const app = parseManifest(
      `${BASE}web: { count: 2, autoscaling: { min: 2, max: 6, cpu: 60 } }\n`,
      'touchdown.yml',
    );
    const sources = countSources(app, { web: scaled(5, 2) });
    assert.deepEqual(sources.web, { from: 'autoscaling', detail: 'autoscaling (web.autoscaling: 2 to 6)' });
    assert.equal(withCounts(app, sources).manifest.web.count, 2);
    assert.deepEqual(checkScalable(app, { web: 4, default: 3 }), { web: 4, 'worker-default': 3 });
    for (const count of [0, 7])
      assert.throws(
        () => checkScalable(app, { web: count }),
        (e: unknown) => e instanceof ConfigError && /keeps it from 2 to 6 \(web\.autoscaling/.test(e.message),
      );
    assert.throws(
      () => checkScalable(app, { beat: 1 }),
      /no process "beat": this app runs web, worker-default/,
    );
  });
});
