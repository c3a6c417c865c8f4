// Task counts set with `touchdown scale`: kept in Parameter Store beside the release history, so the next
// deploy keeps them instead of putting touchdown.yml's back, until scale sets another or touchdown.yml's own
// count changes. A process that autoscaling owns (web.autoscaling) takes no count from either.
import type { AwsClients } from '../aws/clients.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import { ConfigError } from '../core/errors.js';

/** What `touchdown scale` set for one process, and touchdown.yml's count at that time. */
export interface ScaledCount {
  count: number;
  /** touchdown.yml's count when scale ran: when the file says something else later, the file wins. */
  manifestCount: number;
  time: string;
  who: string;
}

export interface CountSource {
  /** Undefined when autoscaling owns the count. */
  count?: number;
  from: 'touchdown.yml' | 'touchdown scale' | 'autoscaling';
  /** In the user's words, e.g. "set by touchdown scale at 2026-12-06T21:50Z by …; touchdown.yml says 2". */
  detail: string;
}

export class ScaledCounts {
  readonly name: string;

  constructor(
    private readonly aws: AwsClients,
    stack: string,
  ) {
    this.name = `/touchdown/${stack}/counts`;
  }

  async read(): Promise<Record<string, ScaledCount>> {
    const ssm = await this.aws.ssm();
    try {
      const { Parameter } = await ssm.getParameter({ Name: this.name });
      return JSON.parse(Parameter?.Value ?? '{}') as Record<string, ScaledCount>;
    } catch (err) {
      if ((err as { name?: string }).name === 'ParameterNotFound') return {};
      throw err;
    }
  }

  async write(counts: Record<string, ScaledCount>): Promise<void> {
    const ssm = await this.aws.ssm();
    await ssm.putParameter({
      Name: this.name,
      Value: JSON.stringify(counts),
      Type: 'String',
      Overwrite: true,
    });
  }

  /** Deletes the record (with the stack itself). */
  async forget(): Promise<void> {
    const ssm = await this.aws.ssm();
    await ssm.deleteParameter({ Name: this.name }).catch((err: { name?: string }) => {
      if (err.name !== 'ParameterNotFound') throw err;
    });
  }
}

/** The count touchdown.yml gives each process (web, worker-<name>); undefined when autoscaling owns it. */
export function manifestCounts(loaded: LoadedManifest): Record<string, number | undefined> {
  const m = loaded.manifest;
  if (m.web.compute === 'lambda') return {};
  const out: Record<string, number | undefined> = { web: m.web.autoscaling ? undefined : m.web.count };
  for (const [name, w] of Object.entries(m.workers)) out[`worker-${name}`] = w.count;
  return out;
}

/** Where each process's count comes from, given what scale recorded. */
export function countSources(
  loaded: LoadedManifest,
  scaled: Record<string, ScaledCount>,
): Record<string, CountSource> {
  const out: Record<string, CountSource> = {};
  const a = loaded.manifest.web.autoscaling;
  for (const [process, fromFile] of Object.entries(manifestCounts(loaded))) {
    const s = scaled[process];
    if (fromFile === undefined) {
      out[process] = { from: 'autoscaling', detail: `autoscaling (web.autoscaling: ${a?.min} to ${a?.max})` };
    } else if (s && s.manifestCount === fromFile) {
      out[process] = {
        count: s.count,
        from: 'touchdown scale',
        detail: `set by touchdown scale at ${s.time} by ${s.who}; touchdown.yml says ${fromFile}`,
      };
    } else {
      const since = s ? ` (changed since touchdown scale set ${s.count})` : '';
      out[process] = { count: fromFile, from: 'touchdown.yml', detail: `touchdown.yml${since}` };
    }
  }
  return out;
}

/** The manifest with the counts the stack runs at: scale's where they stand, touchdown.yml's otherwise. */
export function withCounts(loaded: LoadedManifest, sources: Record<string, CountSource>): LoadedManifest {
  const m = loaded.manifest;
  const count = (process: string, fallback: number) => sources[process]?.count ?? fallback;
  return {
    ...loaded,
    manifest: {
      ...m,
      web: { ...m.web, count: count('web', m.web.count) },
      workers: Object.fromEntries(
        Object.entries(m.workers).map(([name, w]) => [
          name,
          { ...w, count: count(`worker-${name}`, w.count) },
        ]),
      ),
    },
  };
}

/** The manifest as the stack runs it, and where each count comes from (one read of Parameter Store). */
export async function runningCounts(
  aws: AwsClients,
  loaded: LoadedManifest,
): Promise<{ loaded: LoadedManifest; counts: Record<string, CountSource> }> {
  if (loaded.manifest.web.compute === 'lambda') return { loaded, counts: {} };
  const counts = countSources(loaded, await new ScaledCounts(aws, loaded.stackName).read());
  return { loaded: withCounts(loaded, counts), counts };
}

/** The counts scale may set, by process: unknown processes are refused, and web outside autoscaling's range. */
export function checkScalable(
  loaded: LoadedManifest,
  wanted: Record<string, number>,
): Record<string, number> {
  const known = manifestCounts(loaded);
  if (loaded.manifest.web.compute === 'lambda')
    throw new ConfigError('web.compute is lambda: Lambda scales by itself, there are no tasks to count');
  const out: Record<string, number> = {};
  for (const [given, count] of Object.entries(wanted)) {
    const process = given in known ? given : `worker-${given}`;
    if (!(process in known))
      throw new ConfigError(`no process "${given}": this app runs ${Object.keys(known).join(', ')}`);
    const a = loaded.manifest.web.autoscaling;
    // Application Auto Scaling moves a count outside min..max back into it: such a count would not last.
    if (known[process] === undefined && a && (count < a.min || count > a.max)) {
      throw new ConfigError(
        `web's count belongs to autoscaling, which keeps it from ${a.min} to ${a.max} (web.autoscaling in touchdown.yml): scale within that, or change min and max there, then touchdown deploy`,
      );
    }
    out[process] = count;
  }
  return out;
}
