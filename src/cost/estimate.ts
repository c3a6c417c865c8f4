// The monthly estimate: a pure function of the resources (kinds and arguments), the region, the usage assumptions
// and the price table. It reads no AWS API; each line says its figure, its unit, its source and what it assumes.
import { PRICERS } from './pricers.js';
import { type Figure, GLOBAL, PRICE_TABLE, type PriceTable } from './prices.js';
import { type Usage, type UsageInput, usageWith } from './usage.js';

/** A resource as the estimate sees it: its kind, its arguments, and which resource each reference names. */
export interface PricedResource {
  address: string;
  kind: string;
  args: Record<string, unknown>;
  /** Argument name → address of the resource it references (a service's task definition). */
  links?: Record<string, string>;
}

export interface CostPart {
  label: string;
  quantity: number;
  unit: string;
  /** Price of one unit. */
  usd: number;
  monthly: number;
  source: string;
  /** How the figure was made, when it is not the region's published one. */
  estimate?: string;
  /** The usage this part assumes, and where the assumption comes from. */
  assumption?: string;
}

export interface CostItem {
  address: string;
  kind: string;
  /** What it is, as a bill names it: "NAT gateway", "PostgreSQL db.t4g.micro". */
  what: string;
  /** The arguments its price depends on, to show what changed: "db.t4g.micro, 20 GB gp3". */
  summary: string;
  monthly: number;
  parts: CostPart[];
  /** Set when the table lacks its price (an instance type it does not list). */
  unpriced?: string;
}

export interface Estimate {
  region: string;
  /** The region whose prices were used (us-east-1 for a region the table does not have). */
  pricedAs: string;
  tableDate: string;
  currency: string;
  items: CostItem[];
  /** Resources AWS does not charge for by themselves (VPC, subnets, roles, task definitions…). */
  free: number;
  total: number;
  usage: Usage;
  /** Assumptions the manifest stated (the rest are defaults). */
  usageStated: (keyof Usage)[];
  warnings: string[];
}

export interface EstimateOptions {
  region: string;
  usage?: UsageInput;
  table?: PriceTable;
  /** The day to judge the table's age against (tests pass one; the CLI passes now). */
  today?: Date;
}

const SIX_MONTHS_MS = 183 * 24 * 3600 * 1000;

export function estimateCost(resources: readonly PricedResource[], options: EstimateOptions): Estimate {
  const table = options.table ?? PRICE_TABLE;
  const { usage, stated } = usageWith(options.usage);
  const warnings: string[] = [];
  const known = options.region in table.regions;
  const pricedAs = known ? options.region : table.base;
  if (!known)
    warnings.push(
      `the price table has no figures for ${options.region}: ${table.base}'s prices are used, and the region's may be higher`,
    );
  const today = options.today ?? new Date();
  if (today.getTime() - Date.parse(table.date) > SIX_MONTHS_MS)
    warnings.push(
      `the price table is from ${table.date}, more than six months ago: AWS may have changed its prices (see docs/costs.md to update it)`,
    );
  const ctx = new Pricing(table, pricedAs, usage, stated, resources);
  const items: CostItem[] = [];
  let free = 0;
  for (const r of resources) {
    const item = ctx.price(r);
    if (item?.unpriced) {
      items.push(item);
      warnings.push(`${r.address}: ${item.unpriced} is not in the price table, so it counts as $0 here`);
    } else if (item && item.parts.length > 0) items.push(item);
    else free++;
  }
  const total = round2(items.reduce((n, i) => n + i.monthly, 0));
  return {
    region: options.region,
    pricedAs,
    tableDate: table.date,
    currency: table.currency,
    items,
    free,
    total,
    usage,
    usageStated: [...stated],
    warnings,
  };
}

/** Everything a kind's pricer needs: figures of the region, the hours in a month, shares of usage, linked resources. */
export class Pricing {
  readonly hours: number;
  private readonly byAddress: Map<string, PricedResource>;

  constructor(
    readonly table: PriceTable,
    readonly region: string,
    readonly usage: Usage,
    private readonly stated: Set<keyof Usage>,
    private readonly resources: readonly PricedResource[],
  ) {
    this.hours = table.hoursPerMonth;
    this.byAddress = new Map(resources.map((r) => [r.address, r]));
  }

  price(r: PricedResource): CostItem | undefined {
    const priced = PRICERS[r.kind]?.(r, this);
    if (!priced) return undefined;
    const monthly = round2(priced.parts.reduce((n, p) => n + p.monthly, 0));
    return { address: r.address, kind: r.kind, monthly, ...priced };
  }

  /** The region's figure: its own, us-east-1's where prices are the same everywhere, else us-east-1's × the region's ratio. */
  figure(key: string): Figure | undefined {
    const base = this.table.baseFigures[key];
    const region = this.table.regions[this.region]!;
    const own = region.figures[key];
    if (own) return own;
    if (!base) return undefined;
    if (region.sameAsBase || GLOBAL.includes(key)) return base;
    return {
      ...base,
      usd: Math.round(base.usd * region.factor * 1e6) / 1e6,
      estimate: `${this.table.base}'s price × ${region.factor}, ${this.region}'s price ratio for EC2 t3 instances`,
    };
  }

  /** One line: quantity × the figure's price. Undefined when the table has no such figure. */
  part(label: string, key: string, quantity: number, assumption?: string): CostPart | undefined {
    const f = this.figure(key);
    if (!f) return undefined;
    const monthly = quantity * f.usd;
    return {
      label,
      quantity,
      unit: f.unit,
      usd: f.usd,
      monthly,
      source: f.source,
      ...(f.estimate ? { estimate: f.estimate } : {}),
      ...(assumption ? { assumption } : {}),
    };
  }

  /** A month of hours for `count` of something priced per hour. */
  hourly(label: string, key: string, count = 1): CostPart | undefined {
    return this.part(label, key, count * this.hours);
  }

  /** Resources of a kind sharing a usage figure (two buckets share the stack's storage; dead-letter queues take none). */
  shareOf(kind: string): number {
    const sharing = this.resources.filter(
      (r) => r.kind === kind && !this.linkedBy(kind, 'deadLetter', r.address),
    );
    return Math.max(1, sharing.length);
  }

  /** Whether a resource of `kind` references `address` through `field`. */
  linkedBy(kind: string, field: string, address: string): boolean {
    return this.resources.some((r) => r.kind === kind && r.links?.[field] === address);
  }

  /** "10 GB a month (usage.transferOutGB)" or "(default; set usage.transferOutGB)". */
  assume(name: keyof Usage, text: string, share = 1): string {
    const of = share > 1 ? `, 1/${share} of the stack's` : '';
    return `${text}${of} (${this.stated.has(name) ? `usage.${name} in touchdown.yml` : `default; set usage.${name}`})`;
  }

  linked(r: PricedResource, field: string): PricedResource | undefined {
    const address = r.links?.[field];
    return address ? this.byAddress.get(address) : undefined;
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** What a kind's pricer returns; `unpriced` names what the table lacks (an instance type it does not list). */
export interface Priced {
  what: string;
  summary: string;
  parts: CostPart[];
  unpriced?: string;
}
export type Pricer = (r: PricedResource, p: Pricing) => Priced | undefined;
