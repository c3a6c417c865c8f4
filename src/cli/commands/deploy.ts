import { deploy } from '../../django/deploy.js';
import { confirm } from '../confirm.js';
import { renderDifference } from '../render/cost.js';
import { renderPlan } from '../render/plan.js';
import { showValue } from '../render/values.js';
import { type GlobalOptions, openApp, parseDuration } from '../session.js';
import { streams } from '../streams.js';

/** Exit 0 when deployed or nothing to do, 1 when a step failed (the previous release still serves), 130 on Ctrl-C. */
export async function deployCommand(options: GlobalOptions & { image?: string }): Promise<number> {
  const session = await openApp(options, 'deploy');
  const { colors: c, app } = session;
  const out = (s: string) => streams.stdout.write(`${s}\n`);
  try {
    await session.lock.acquire({
      timeoutMs: parseDuration(options.lockTimeout ?? '0s'),
      signal: session.signal,
      onWait: (holder) =>
        session.events({
          type: 'lock.waiting',
          holder: `${holder.command} (pid ${holder.pid} on ${holder.host})`,
        }),
    });
    let result: Awaited<ReturnType<typeof deploy>>;
    try {
      result = await deploy({
        loaded: app,
        aws: session.aws,
        events: session.events,
        signal: session.signal,
        image: options.image,
        concurrency: options.concurrency,
        lease: session.lock,
        confirm: async (plan, { world, stack }) => {
          if (!options.json) {
            const { planCost } = await import('./cost.js');
            out(renderPlan(plan, c));
            out(renderDifference(planCost(session, plan, world, stack), c));
          }
          return confirm('Change the infrastructure, then release?', options);
        },
      });
    } catch (err) {
      // Ctrl-C while a step waited: the message says what was stopped.
      if (!session.signal.aborted) throw err;
      result = { status: 'cancelled', message: (err as Error).message };
    } finally {
      await session.lock.release();
    }
    session.close();
    const interrupted = session.signal.aborted && result.status !== 'deployed';
    if (options.json) {
      out(JSON.stringify(result, null, 2));
    } else if (interrupted) {
      const at = result.failedStep ? ` at ${result.failedStep}` : '';
      out(c.yellow(`Deploy stopped${at}: ${result.message ?? 'interrupted'}`));
      out(
        c.dim(
          result.failedStep === 'traffic'
            ? 'Some services may run the new release already. Run touchdown deploy again to finish.'
            : 'The previous release still serves. Run touchdown deploy again to release.',
        ),
      );
    } else if (result.status === 'deployed') {
      out(c.green(`Release ${result.release!.number} of ${app.stackName} is live: ${result.release!.image}`));
      const outputs = await session.engine.outputs();
      for (const [k, v] of Object.entries(outputs)) out(`  ${k} = ${showValue(v, 400)}`);
    } else if (result.status === 'unchanged') {
      out(
        `Nothing to deploy: the image and the infrastructure are unchanged (release ${result.release?.number} serves).`,
      );
    } else if (result.status === 'cancelled') {
      out('Nothing changed.');
    } else {
      out(c.red(`Deploy failed at ${result.failedStep}: ${result.message}`));
      if (result.logs?.length) {
        out(c.dim('Its last log lines:'));
        for (const line of result.logs) out(`    ${line}`);
      }
      out(c.dim('The previous release still serves. Fix the cause and run touchdown deploy again.'));
    }
    if (interrupted) return 130;
    return result.status === 'failed' ? 1 : 0;
  } finally {
    session.close();
  }
}
