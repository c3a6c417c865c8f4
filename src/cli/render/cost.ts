// Estimates as a person reads them: a line per priced resource with its parts, the total, the table's date, warnings.
import type { Colors } from 'picocolors/types.js';
import { type CostDifference, signedDollars } from '../../cost/difference.js';
import type { Estimate } from '../../cost/estimate.js';

const usd = (n: number) => `$${n.toFixed(2)}`;
/** Small prices keep their digits: $0.0000166667 a GB-second. */
const price = (n: number) => `$${n < 0.01 && n > 0 ? Number(n.toPrecision(4)) : n}`;
const qty = (n: number) =>
  n > 0 && n < 0.01
    ? String(Number(n.toPrecision(2)))
    : n.toLocaleString('en-US', { maximumFractionDigits: 2 });

export function renderEstimate(stack: string, e: Estimate, c: Colors): string {
  const where = e.pricedAs === e.region ? e.region : `${e.region} (priced as ${e.pricedAs})`;
  const lines = [
    `Monthly estimate for stack "${stack}" in ${where}: on-demand prices in ${e.currency} from the table of ${e.tableDate}`,
    '',
  ];
  const width = Math.max(...e.items.map((i) => i.address.length), 8);
  const estimates = new Set<string>();
  for (const item of e.items) {
    lines.push(
      `  ${c.bold(item.address.padEnd(width))}  ${item.what.padEnd(38)} ${usd(item.monthly).padStart(10)}`,
    );
    if (item.unpriced)
      lines.push(`      ${c.yellow(`${item.unpriced}: not in the price table, counted as $0`)}`);
    for (const p of item.parts) {
      const mark = p.estimate ? '≈' : '';
      if (p.estimate) estimates.add(p.estimate);
      const figure = `${qty(p.quantity)} × ${mark}${price(p.usd)}/${p.unit} = ${usd(p.monthly)}`;
      lines.push(`      ${p.label}: ${figure}${p.assumption ? c.dim(`  (${p.assumption})`) : ''}`);
    }
  }
  lines.push('', `  ${'Total'.padEnd(width)}  ${''.padEnd(38)} ${c.bold(usd(e.total).padStart(10))} a month`);
  if (e.free > 0)
    lines.push(
      '',
      c.dim(
        `${e.free} other resources cost nothing by themselves (VPC, subnets, security groups, roles, records…).`,
      ),
    );
  lines.push(
    c.dim(
      'Usage-priced lines assume the usage beside them: state yours under usage: in touchdown.yml. Free tiers and data transfer out of EC2 are not counted; see docs/costs.md.',
    ),
  );
  for (const why of estimates) lines.push(c.dim(`≈ estimate: ${why}`));
  for (const w of e.warnings) lines.push(c.yellow(`Warning: ${w}`));
  return lines.join('\n');
}

/** Under a plan: "Monthly cost: $45.10 → $78.20 (+$33.10/month)" and what makes the difference. */
export function renderDifference(d: CostDifference, c: Colors): string {
  const lines: string[] = [];
  if (d.failed) return c.yellow(`Monthly cost: not estimated (${d.failed})`);
  if (d.changes.length === 0 && d.monthly === 0) {
    lines.push(`Monthly cost: unchanged (${usd(d.after)} a month estimated; touchdown cost for the detail)`);
  } else {
    const paint = d.monthly > 0 ? c.yellow : d.monthly < 0 ? c.green : (s: string) => s;
    lines.push(
      `Monthly cost: ${usd(d.before)} → ${usd(d.after)} (${paint(signedDollars(d.monthly))}; touchdown cost for the detail)`,
    );
    for (const change of d.changes) lines.push(`  ${signedDollars(change.monthly)}: ${change.what}`);
  }
  for (const w of d.warnings) lines.push(c.yellow(`  Warning: ${w}`));
  return lines.join('\n');
}
