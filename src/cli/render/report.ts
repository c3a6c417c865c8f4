// The end of an apply or destroy: what was done, and for each failure what to do.
import type { Colors } from 'picocolors/types.js';
import type { ApplyReport } from '../../core/apply.js';
import { formatDuration } from '../../core/wait.js';

export function renderReport(report: ApplyReport, c: Colors, verb: 'Apply' | 'Destroy'): string {
  const done = report.operations.filter((o) => o.state === 'done');
  const count = (action: string) => done.filter((o) => o.action === action).length;
  const totals = `${count('create')} created, ${count('update')} updated, ${count('delete')} deleted`;
  if (report.failed.length === 0 && report.notStarted.length === 0 && !report.interrupted) {
    return c.green(`${verb} complete: ${totals} in ${formatDuration(report.ms)}.`);
  }
  const lines: string[] = [];
  if (report.refused) {
    lines.push(c.red(`${verb} refused: nothing was changed, because these hold data:`));
    for (const f of report.failed) lines.push(`  ${c.red('✗')} ${f.error}`);
    lines.push(
      c.dim(
        'Copy out what you need, then run the same command with --force: their data is deleted (a database keeps a final snapshot).',
      ),
    );
    return lines.join('\n');
  }
  if (report.interrupted) {
    lines.push(
      c.yellow(
        `${verb} stopped: ${totals}; ${report.notStarted.length} not started. Run the same command again to finish.`,
      ),
    );
  } else {
    lines.push(
      c.red(
        `${verb} incomplete: ${totals}; ${report.failed.length} failed, ${report.skipped.length} skipped because they depend on a failure.`,
      ),
    );
  }
  for (const f of report.failed) {
    lines.push(`  ${c.red('✗')} ${f.error}`);
    if (f.hint) lines.push(`      ${c.dim(`what to do: ${f.hint}`)}`);
  }
  if (report.skipped.length > 0)
    lines.push(c.dim(`  skipped: ${report.skipped.map((s) => s.address).join(', ')}`));
  lines.push(
    c.dim('Nothing that succeeded is undone; fix the cause and run the same command again to continue.'),
  );
  return lines.join('\n');
}
