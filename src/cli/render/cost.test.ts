// The monthly difference under a plan and the estimate's footnotes, as text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pc from 'picocolors';
import { costDifference } from '../../cost/difference.js';
import { estimateCost, type PricedResource } from '../../cost/estimate.js';
import { PRICE_TABLE } from '../../cost/prices.js';
import { renderDifference, renderEstimate } from './cost.js';

const c = pc.createColors(false);
const today = new Date(PRICE_TABLE.date);
const estimate = (r: PricedResource[], region = 'us-east-1') => estimateCost(r, { region, today });
const nat = (i: number): PricedResource => ({
  address: `nat-gateway.nat-${i}`,
  kind: 'nat-gateway',
  args: {},
});

describe('cost rendering', () => {
  it('groups what is added and removed, biggest first, with the totals', () => {
    const before = estimate([nat(1), nat(2), { address: 'kms-key.k', kind: 'kms-key', args: {} }]);
    const after = estimate([{ address: 'kms-key.k', kind: 'kms-key', args: {} }]);
    const text = renderDifference(costDifference(before, after), c);
    const saved = before.total - after.total;
    assert.match(
      text,
      new RegExp(`^Monthly cost: \\$${before.total.toFixed(2)} → \\$1\\.00 \\(−\\$${saved.toFixed(2)}/month`),
    );
    assert.match(text, new RegExp(`\\n  −\\$${saved.toFixed(2)}/month: NAT gateway ×2 removed$`));
  });

  it('says when the bill does not change', () => {
    const same = estimate([nat(1)]);
    assert.match(
      renderDifference(costDifference(same, same), c),
      /^Monthly cost: unchanged \(\$\d+\.\d\d a month/,
    );
  });

  it('marks estimated figures with ≈ and explains them once; names the region it priced as', () => {
    const db: PricedResource = {
      address: 'db-instance.db',
      kind: 'db-instance',
      args: { instanceClass: 'db.m7g.large' },
    };
    const text = renderEstimate('shop-production', estimate([db, db], 'eu-central-1'), c);
    assert.match(text, /730 × ≈\$\d/);
    assert.equal(text.split("≈ estimate: us-east-1's price × 1.154").length - 1, 1, text);
    const far = renderEstimate('shop-production', estimate([db], 'me-central-1'), c);
    assert.match(far, /in me-central-1 \(priced as us-east-1\)/);
    assert.match(far, /Warning: the price table has no figures for me-central-1/);
  });
});
