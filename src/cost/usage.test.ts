// usage: in touchdown.yml: checked like every other section (file, line, field, fix), overridden by stages,
// and carried to the estimate, which says which assumptions the manifest stated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from '../config/load-manifest.js';
import { estimateCost } from './estimate.js';
import { PRICE_TABLE } from './prices.js';
import { DEFAULT_USAGE, usageWith } from './usage.js';

const head = 'app: shop\ndjango: { settings: shop.settings, wsgi: shop.wsgi }\n';

describe('usage assumptions', () => {
  it('a bad value or an unknown name is refused at its line, with the names it takes', () => {
    assert.throws(
      () => parseManifest(`${head}usage:\n  requests: -5\n  visits: 1\n`, 'touchdown.yml'),
      (err: Error & { problems?: string[] }) => {
        assert.deepEqual(err.problems, [
          'touchdown.yml:4:3: usage.requests: use 0 or more',
          'touchdown.yml:5:3: usage.visits: unknown setting; the settings here are requests, lambdaMs, transferOutGB, natGB, storageGB, s3Requests, logsGB, queueRequests, emails, imagesGB',
        ]);
        return true;
      },
    );
  });

  it('a stage overrides them, and the estimate prices with them and names them as stated', () => {
    const yaml = `${head}usage: { requests: 5000000 }\nstages:\n  staging:\n    usage: { requests: 20000 }\n`;
    const staging = parseManifest(yaml, 'touchdown.yml', 'staging').manifest.usage;
    assert.deepEqual(staging, { requests: 20_000 });
    const e = estimateCost([{ address: 'http-api.api', kind: 'http-api', args: {} }], {
      region: 'us-east-1',
      usage: staging,
      today: new Date(PRICE_TABLE.date),
    });
    assert.equal(e.items[0]!.parts[0]!.quantity, 20_000 / 1e6);
    assert.match(e.items[0]!.parts[0]!.assumption!, /20,000 a month \(usage\.requests in touchdown\.yml\)/);
    assert.deepEqual(e.usageStated, ['requests']);
    assert.equal(e.usage.natGB, DEFAULT_USAGE.natGB, 'the rest keep their defaults');
  });

  it('without usage: every default applies and none counts as stated', () => {
    const { usage, stated } = usageWith(undefined);
    assert.deepEqual(usage, DEFAULT_USAGE);
    assert.equal(stated.size, 0);
  });
});
