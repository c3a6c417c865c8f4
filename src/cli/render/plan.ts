// A plan as a person reads it, Terraform-style: one block per resource that changes, then a summary line.
import type { Colors } from 'picocolors/types.js';
import type { Plan, ResourceChange } from '../../core/plan.js';
import { showValue } from './values.js';

const SYMBOL = { create: '+', update: '~', replace: '-/+', delete: '-', noop: ' ' } as const;

export interface PlanView {
  destroy?: boolean;
  /** Kinds that can hold data (buckets, databases, queues…): a delete of one says what happens to its data. */
  dataStores?: ReadonlySet<string>;
  force?: boolean;
}

export function renderPlan(plan: Plan, c: Colors, options: PlanView = {}): string {
  const changing = plan.resources.filter((r) => r.action !== 'noop');
  const head = `Stack "${plan.stack}" in ${plan.region}`;
  if (changing.length === 0) {
    return `${head}: no changes. What exists matches the configuration (${plan.resources.length} resources, ${plan.apiCalls} API calls to check).`;
  }
  const colour = {
    create: c.green,
    update: c.yellow,
    replace: c.magenta,
    delete: c.red,
    noop: c.dim,
  } as const;
  const lines = [
    `${head}: ${options.destroy ? 'Touchdown will delete' : 'Touchdown will make these changes'}:`,
    '',
  ];
  for (const r of changing) {
    const paint = colour[r.action];
    lines.push(
      `  ${paint(SYMBOL[r.action].padEnd(3))} ${c.bold(r.address)} ${c.dim(r.noun)}${r.id ? c.dim(` (${r.id})`) : ''}`,
    );
    const why = describeWhy(r);
    if (why) lines.push(`        ${c.dim(why)}`);
    // Said before the question, so nobody answers "yes" to a run that is then refused or loses data unawares.
    if (r.action === 'delete' && options.dataStores?.has(r.kind))
      lines.push(
        options.force
          ? `        ${c.red('data store: deleted with whatever it holds (--force)')}`
          : `        ${c.yellow('data store: deleted only if it holds nothing; with data, nothing is deleted (--force deletes it)')}`,
      );
    for (const a of r.changes) {
      const force = a.forcesReplacement ? c.magenta(' (forces replacement)') : '';
      if (r.action === 'create') lines.push(`        ${a.name}: ${showValue(a.after)}`);
      else
        lines.push(`        ${a.name}: ${showValue(a.before)} ${c.dim('→')} ${showValue(a.after)}${force}`);
    }
  }
  const s = plan.summary;
  lines.push(
    '',
    `Plan: ${c.green(`${s.create} to create`)}, ${c.yellow(`${s.update} to update`)}, ${c.magenta(`${s.replace} to replace`)}, ${c.red(`${s.delete} to delete`)}, ${s.noop} unchanged.`,
  );
  return lines.join('\n');
}

function describeWhy(r: ResourceChange): string | undefined {
  if (r.action === 'replace')
    return `replaced because ${r.replaceBecause?.join(', ')} cannot change in place`;
  if (r.action === 'delete' && r.reason) return r.reason;
  return undefined;
}

/** Each process's task count and where it comes from: touchdown.yml, touchdown scale, or autoscaling. */
export function renderCounts(counts: Record<string, { count?: number; detail: string }>, c: Colors): string {
  const entries = Object.entries(counts);
  if (entries.length === 0) return '';
  const width = Math.max(...entries.map(([p]) => p.length));
  const lines = entries.map(
    ([p, s]) => `  ${`${p}:`.padEnd(width + 1)} ${s.count ?? 'autoscaled'} ${c.dim(`(${s.detail})`)}`,
  );
  return ['Task counts:', ...lines].join('\n');
}
