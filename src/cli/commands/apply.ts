import type { RunOptions } from '../../core/engine.js';
import { confirm } from '../confirm.js';
import { renderDifference } from '../render/cost.js';
import { renderPlan } from '../render/plan.js';
import { renderReport } from '../render/report.js';
import { showValue } from '../render/values.js';
import { type GlobalOptions, openSession } from '../session.js';
import { streams } from '../streams.js';

type CostContext = Parameters<NonNullable<RunOptions['confirm']>>[1];

export async function applyCommand(
  options: GlobalOptions & { force?: boolean },
  destroy = false,
): Promise<number> {
  const verb = destroy ? 'destroy' : 'apply';
  const session = await openSession(options, verb);
  const { engine, colors: c } = session;
  try {
    const run = {
      force: options.force,
      confirm: async (plan: Parameters<typeof renderPlan>[0], context: CostContext) => {
        if (options.json) return confirm('', { yes: options.yes });
        const { resourceTypes } = await import('../../aws/registry.js');
        const dataStores = new Set(resourceTypes.filter((t) => t.holdsData).map((t) => t.kind));
        streams.stdout.write(`${renderPlan(plan, c, { destroy, dataStores, force: options.force })}\n`);
        const { planCost } = await import('./cost.js');
        const cost = planCost(session, plan, context.world, context.stack);
        streams.stdout.write(`${renderDifference(cost, c)}\n`);
        return confirm(destroy ? 'Delete everything listed above?' : 'Make these changes?', options);
      },
    };
    const result = destroy ? await engine.destroy(run) : await engine.apply(run);
    session.close();
    if (options.json) {
      streams.stdout.write(
        `${JSON.stringify({ plan: result.plan, report: result.report ?? null }, null, 2)}\n`,
      );
    } else if (!result.report) {
      streams.stdout.write(result.confirmed ? `${renderPlan(result.plan, c)}\n` : 'Nothing changed.\n');
    } else {
      streams.stdout.write(`${renderReport(result.report, c, destroy ? 'Destroy' : 'Apply')}\n`);
    }
    const report = result.report;
    if (destroy && session.app && report && report.failed.length === 0 && !report.interrupted) {
      // The stack is gone; its release history goes with it. Secrets set by hand stay until unset.
      const { ReleaseHistory } = await import('../../django/releases.js');
      const { ScaledCounts } = await import('../../django/counts.js');
      await new ReleaseHistory(session.aws, session.app.stackName).forget();
      await new ScaledCounts(session.aws, session.app.stackName).forget();
    }
    if (report?.interrupted) return 130;
    if (report && report.failed.length > 0) return 1;
    if (!destroy && !options.json && result.confirmed && session.stack.outputs.size > 0) {
      const outputs = await engine.outputs();
      streams.stdout.write(
        `\nOutputs:\n${Object.entries(outputs)
          .map(([k, v]) => `  ${k} = ${showValue(v, 400)}`)
          .join('\n')}\n`,
      );
    }
    return 0;
  } finally {
    session.close();
  }
}
