// What a change does to the monthly bill: the estimate before and after, by resource, grouped as a person reads it.
import type { CostItem, Estimate } from './estimate.js';

export interface CostChange {
  /** Dollars a month, + or −. */
  monthly: number;
  /** "NAT gateway ×2", "PostgreSQL db-instance.db: db.t4g.micro, 20 GB gp3 → db.t4g.small, 20 GB gp3". */
  what: string;
}

export interface CostDifference {
  before: number;
  after: number;
  monthly: number;
  changes: CostChange[];
  warnings: string[];
  /** Why no estimate could be made: the plan is shown and applied all the same. */
  failed?: string;
}

export function costDifference(before: Estimate, after: Estimate): CostDifference {
  const was = new Map(before.items.map((i) => [i.address, i]));
  const will = new Map(after.items.map((i) => [i.address, i]));
  const added = new Map<string, CostItem[]>();
  const removed = new Map<string, CostItem[]>();
  const changes: CostChange[] = [];
  for (const [address, item] of will) {
    const old = was.get(address);
    if (!old) push(added, item);
    else if (round2(item.monthly - old.monthly) !== 0 || item.summary !== old.summary)
      changes.push({
        monthly: round2(item.monthly - old.monthly),
        what: `${item.what} (${address}): ${old.summary} → ${item.summary}`,
      });
  }
  for (const [address, item] of was) if (!will.has(address)) push(removed, item);
  for (const [sign, groups] of [
    [1, added],
    [-1, removed],
  ] as const) {
    for (const [what, items] of groups) {
      const monthly = round2(sign * items.reduce((n, i) => n + i.monthly, 0));
      changes.push({ monthly, what: `${what} ×${items.length}${sign < 0 ? ' removed' : ''}` });
    }
  }
  changes.sort((a, b) => Math.abs(b.monthly) - Math.abs(a.monthly));
  return {
    before: before.total,
    after: after.total,
    monthly: round2(after.total - before.total),
    changes: changes.filter((c) => c.monthly !== 0 || c.what.includes('→')),
    warnings: [...new Set([...before.warnings, ...after.warnings])],
  };
}

function push(groups: Map<string, CostItem[]>, item: CostItem) {
  const list = groups.get(item.what) ?? [];
  list.push(item);
  groups.set(item.what, list);
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** "+$32.85/month", "−$7.30/month", "$0.00/month". */
export function signedDollars(usd: number): string {
  const sign = usd > 0 ? '+' : usd < 0 ? '−' : '';
  return `${sign}$${Math.abs(usd).toFixed(2)}/month`;
}
