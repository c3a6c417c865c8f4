// `touchdown releases`: the history rollback takes its numbers from, newest first.
import { ReleaseHistory } from '../../django/releases.js';
import { type GlobalOptions, openApp } from '../session.js';
import { streams } from '../streams.js';

const out = (s: string) => streams.stdout.write(`${s}\n`);

export async function releasesCommand(options: GlobalOptions): Promise<number> {
  const s = await openApp(options, 'releases');
  s.close();
  const releases = (await new ReleaseHistory(s.aws, s.app.stackName).list()).reverse();
  if (options.json) {
    out(JSON.stringify(releases, null, 2));
    return 0;
  }
  if (releases.length === 0) {
    out(`${s.app.stackName} has no releases yet: touchdown deploy makes the first`);
    return 0;
  }
  const c = s.colors;
  const paint = {
    live: c.green,
    superseded: c.dim,
    failed: c.red,
    cancelled: c.yellow,
    started: c.yellow,
  } as const;
  const number = Math.max(...releases.map((r) => String(r.number).length), 1);
  out(c.bold(`${s.app.stackName} (${s.aws.region}): ${releases.length} release(s), newest first`));
  for (const r of releases) {
    // A release claimed its number when its deploy began: still "started" means under way, or stopped unfinished.
    const unfinished = r.status === 'started' ? ', not finished (under way, or its deploy stopped)' : '';
    const why = r.failedStep ? ` at ${r.failedStep}` : r.note ? `, ${r.note}` : unfinished;
    out(
      `  ${String(r.number).padStart(number)}  ${paint[r.status](r.status.padEnd(10))}  ${r.time.slice(0, 19).replace('T', ' ')}Z  ${r.image}${why}`,
    );
    out(c.dim(`  ${' '.repeat(number)}  by ${r.who}`));
  }
  out(c.dim('touchdown rollback N serves release N again (its image; the database is left as it is).'));
  return 0;
}
