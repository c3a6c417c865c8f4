// `touchdown up` as a person watches it: output of every process scrolling, and below it a live table of the
// processes and their health; plain lines when not on a terminal; JSON lines with --json.
import { createLogUpdate } from 'log-update';
import type { Colors } from 'picocolors/types.js';
import type { EngineEvent } from '../../core/events.js';
import type { ProcessState, UpEvent } from '../../local/events.js';
import { describe } from './progress.js';

export interface LocalView {
  handle(event: UpEvent): void;
  stop(): void;
}

const NAME_COLORS = ['cyan', 'magenta', 'blue', 'yellow', 'green'] as const;

export function colorFor(c: Colors, names: Map<string, number>, name: string): (s: string) => string {
  if (!names.has(name)) names.set(name, names.size);
  return c[NAME_COLORS[names.get(name)! % NAME_COLORS.length]!];
}

function stateText(c: Colors, state: ProcessState): string {
  if (state === 'healthy' || state === 'running') return c.green(state);
  if (state === 'starting' || state === 'restarting' || state === 'stopping') return c.yellow(state);
  return c.red(state);
}

/**
 * The local AWS writes a line for every request it answers (hundreds while up provisions, 4xx included, as
 * AWS answers "not found"): all of it goes to its log file, which `touchdown logs --local --process local-aws`
 * reads, never to the screen. When it stops, its process row says so.
 */
const isRoutine = (e: UpEvent) => e.type === 'local.log' && e.name === LOCAL_AWS;
const LOCAL_AWS = 'local-aws';

/** One line for what is not a process's own output. */
function describeLocal(e: UpEvent, c: Colors): string | undefined {
  switch (e.type) {
    case 'local.service':
      return `  ${c.dim(`${e.service}:`)} ${e.detail}`;
    case 'local.schedule':
      return e.detail
        ? c.yellow(`  schedule ${e.name} (${e.cron}) does not run locally: ${e.detail}`)
        : undefined;
    case 'local.ready':
      return (
        c.bold(c.green(`${e.stack} runs at ${e.url}`)) +
        c.dim(`  (local AWS: ${e.localAws}; its log: touchdown logs --local --process ${LOCAL_AWS})`)
      );
    case 'local.stopping':
      return c.yellow('stopping: the app first, then what it uses');
    case 'local.stopped':
      return c.dim('stopped.');
    case 'local.process':
    case 'local.log':
      return undefined;
    default:
      return describe(e as EngineEvent, c);
  }
}

/**
 * Plain lines, for logs and CI. The detached stack's own log leaves the processes' output out: each process
 * has its log file, which `touchdown logs --local` reads.
 */
export function plainLocalView(out: NodeJS.WritableStream, c: Colors, processOutput = true): LocalView {
  const names = new Map<string, number>();
  const write = (s: string) => out.write(`${s}\n`);
  return {
    handle(e) {
      if (isRoutine(e) || (e.type === 'local.log' && !processOutput)) return;
      if (e.type === 'local.log') write(`${colorFor(c, names, e.name)(e.name)} | ${e.line}`);
      else if (e.type === 'local.process') {
        const pid = e.pid ? ` (pid ${e.pid})` : '';
        write(
          `${colorFor(c, names, e.name)(e.name)} ${stateText(c, e.state)}${pid}${e.detail ? `: ${e.detail}` : ''}`,
        );
      } else if (e.type === 'local.schedule' && !e.detail) {
        write(`schedule ${e.name} (${e.cron}): next run ${e.next ?? 'never'}`);
      } else {
        const line = describeLocal(e, c);
        if (line) write(line);
      }
    },
    stop() {},
  };
}

interface Row {
  state: ProcessState;
  pid?: number;
  port?: number;
  restarts: number;
  detail?: string;
}

/** Output scrolls; the table of processes stays at the bottom, redrawn in place. */
export function liveLocalView(out: NodeJS.WriteStream, c: Colors): LocalView {
  const log = createLogUpdate(out);
  const names = new Map<string, number>();
  const rows = new Map<string, Row>();
  const schedules = new Map<string, string>();
  let header = c.dim('starting…');
  const draw = () => {
    const width = Math.max(...[...rows.keys()].map((n) => n.length), 8);
    const lines = [header];
    for (const [name, r] of rows) {
      const bits = [
        colorFor(c, names, name)(name.padEnd(width)),
        stateText(c, r.state).padEnd(20),
        r.pid ? c.dim(`pid ${r.pid}`) : '',
        r.port ? c.dim(`:${r.port}`) : '',
        r.restarts ? c.yellow(`restarted ${r.restarts}×`) : '',
        r.detail && r.state !== 'healthy' && r.state !== 'running' ? c.dim(r.detail) : '',
      ];
      lines.push(`  ${bits.filter(Boolean).join('  ')}`);
    }
    for (const [name, next] of schedules) lines.push(c.dim(`  schedule ${name}: next run ${next}`));
    log(lines.join('\n'));
  };
  return {
    handle(e) {
      if (isRoutine(e)) return;
      if (e.type === 'local.log') {
        log.clear();
        out.write(`${colorFor(c, names, e.name)(e.name)} ${c.dim('|')} ${e.line}\n`);
      } else if (e.type === 'local.process') {
        rows.set(e.name, {
          state: e.state,
          pid: e.pid,
          port: e.port,
          restarts: e.restarts,
          detail: e.detail,
        });
      } else if (e.type === 'local.schedule' && !e.detail) {
        schedules.set(e.name, e.next ? `${e.next.slice(0, 16).replace('T', ' ')} UTC` : 'never');
      } else {
        if (e.type === 'local.ready')
          header = `${c.bold(e.stack)}  ${c.bold(c.green(e.url))}  ${c.dim('Ctrl-C stops everything')}`;
        if (e.type === 'local.stopping') header = c.yellow('stopping…');
        const line = describeLocal(e, c);
        if (line) log.persist(line);
      }
      draw();
    },
    stop() {
      log.clear();
      log.done();
    },
  };
}

/** One JSON document per event, for machines. */
export function jsonLocalView(out: NodeJS.WritableStream): LocalView {
  return {
    handle: (e) => out.write(`${JSON.stringify(e)}\n`),
    stop() {},
  };
}
