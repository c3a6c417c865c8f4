// touchdown cost: the monthly estimate of a stage as it runs once deployed (at the counts `scale` set), per resource.

import type { Plan, World } from '../../core/plan.js';
import type { Stack } from '../../core/stack.js';
import { type CostDifference, costDifference } from '../../cost/difference.js';
import { type Estimate, estimateCost } from '../../cost/estimate.js';
import { declaredResources, plannedResources } from '../../cost/planned.js';
import type { UsageInput } from '../../cost/usage.js';
import { awsBlueprint, UNASKED_ZONES } from '../../django/blueprint/index.js';
import { runningCounts } from '../../django/counts.js';
import { ReleaseHistory } from '../../django/releases.js';
import { renderEstimate } from '../render/cost.js';
import { type GlobalOptions, openSession, type Session } from '../session.js';
import { streams } from '../streams.js';

/** Before the first release no image exists and the blueprint declares no tasks: price them as they will run. */
export const UNRELEASED = {
  image: 'touchdown-cost-estimate:unreleased',
  zip: 's3://touchdown-cost-estimate/unreleased.zip',
};

export async function costCommand(options: GlobalOptions): Promise<number> {
  const session = await openSession(options, 'cost');
  try {
    const stack = await stageAsDeployed(session);
    const estimate = estimateCost(declaredResources(stack), {
      region: session.aws.region,
      usage: usageOf(session),
      today: today(),
    });
    session.close();
    if (options.json)
      streams.stdout.write(`${JSON.stringify({ stack: stack.name, ...estimate }, null, 2)}\n`);
    else streams.stdout.write(`${renderEstimate(stack.name, estimate, session.colors)}\n`);
    return 0;
  } finally {
    session.close();
  }
}

/** The stack with the release that serves (or the first one to come) and the task counts in force. */
async function stageAsDeployed(session: Session): Promise<Stack> {
  const app = session.app;
  if (!app) return session.stack;
  const aws = session.aws;
  const [account, current, running] = await Promise.all([
    aws.account(),
    new ReleaseHistory(aws, app.stackName).current(),
    runningCounts(aws, app),
  ]);
  return awsBlueprint(running.loaded, {
    region: aws.region,
    account,
    zones: UNASKED_ZONES,
    image: current?.image ?? (app.manifest.web.compute === 'lambda' ? UNRELEASED.zip : UNRELEASED.image),
    ...(current?.functionVersion ? { version: current.functionVersion } : {}),
  });
}

/** The monthly difference a plan makes, from what exists (before) and what it declares (after). */
export function planCost(
  session: Session,
  plan: Plan,
  world: World,
  stack: Stack = session.stack,
): CostDifference {
  try {
    const { before, after } = plannedResources(plan, world, stack);
    const options = { region: plan.region, usage: usageOf(session), today: today() };
    const was: Estimate = estimateCost(before, options);
    return costDifference(was, estimateCost(after, options));
  } catch (err) {
    // An estimate is advice: its failure never stops the plan it annotates.
    return { before: 0, after: 0, monthly: 0, changes: [], warnings: [], failed: (err as Error).message };
  }
}

function usageOf(session: Session): UsageInput | undefined {
  return session.app?.manifest.usage;
}

/** TOUCHDOWN_TODAY (YYYY-MM-DD) judges the table's age as of another day: tests of the six-month warning set it. */
function today(): Date {
  const given = process.env.TOUCHDOWN_TODAY;
  return given && !Number.isNaN(Date.parse(given)) ? new Date(given) : new Date();
}
