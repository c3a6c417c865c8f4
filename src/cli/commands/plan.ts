import { hasChanges } from '../../core/plan.js';
import { renderDifference } from '../render/cost.js';
import { renderCounts, renderPlan } from '../render/plan.js';
import { type GlobalOptions, openSession } from '../session.js';
import { streams } from '../streams.js';

/** Exit codes as Terraform's --detailed-exitcode: 0 no changes, 2 changes, 1 error. */
export async function planCommand(options: GlobalOptions & { detailedExitcode?: boolean }): Promise<number> {
  const session = await openSession(options, 'plan');
  try {
    const { plan, world } = await session.engine.plan();
    session.close();
    const { planCost } = await import('./cost.js');
    const cost = hasChanges(plan) ? planCost(session, plan, world) : undefined;
    if (options.json) streams.stdout.write(`${JSON.stringify(cost ? { ...plan, cost } : plan, null, 2)}\n`);
    else {
      streams.stdout.write(`${renderPlan(plan, session.colors)}\n`);
      if (cost) streams.stdout.write(`${renderDifference(cost, session.colors)}\n`);
      const counts = session.counts && renderCounts(session.counts, session.colors);
      if (counts) streams.stdout.write(`\n${counts}\n`);
    }
    return options.detailedExitcode && hasChanges(plan) ? 2 : 0;
  } finally {
    session.close();
  }
}
