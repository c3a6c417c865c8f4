// Scheduled management commands on this machine: the manifest's AWS cron expressions (six fields, UTC, as
// EventBridge Scheduler reads them), each run as a one-off process when its time comes.

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export interface Cron {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth?: Set<number>;
  months: Set<number>;
  /** 1 (Sunday) to 7, as AWS counts. */
  daysOfWeek?: Set<number>;
  years: Set<number>;
}

/** Parses AWS cron; throws with what this scheduler cannot run (L, W and # are not supported here). */
export function parseCron(expression: string): Cron {
  const m = /^cron\((.*)\)$/.exec(expression.trim());
  const fields = (m ? m[1]! : expression).trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`"${expression}" does not have six fields`);
  const [min, hour, dom, mon, dow, year] = fields as [string, string, string, string, string, string];
  return {
    minutes: field(min, 0, 59),
    hours: field(hour, 0, 23),
    ...(dom === '?' ? {} : { daysOfMonth: field(dom, 1, 31) }),
    months: field(mon, 1, 12, MONTHS),
    ...(dow === '?' ? {} : { daysOfWeek: field(dow, 1, 7, DAYS) }),
    years: field(year, 1970, 2199),
  };
}

function field(text: string, lo: number, hi: number, names: string[] = []): Set<number> {
  const out = new Set<number>();
  const value = (v: string) => {
    const i = names.indexOf(v.toUpperCase());
    const n = i >= 0 ? i + 1 : Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi)
      throw new Error(`"${v}" is not a value from ${lo} to ${hi}`);
    return n;
  };
  for (const part of text.split(',')) {
    const withoutNames = names.reduce((t, n) => t.replaceAll(n, ''), part.toUpperCase());
    if (/[LW#]/.test(withoutNames))
      throw new Error(`"${part}": L, W and # are not run by the local scheduler`);
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`"${part}": the step must be a whole number`);
    let from: number;
    let to: number;
    if (range === '*' || range === '?') [from, to] = [lo, hi];
    else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string];
      [from, to] = [value(a), value(b)];
    } else {
      from = value(range);
      to = stepText === undefined ? from : hi;
    }
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

/** The first minute strictly after `after` that the expression names (UTC), within five years. */
export function nextRun(cron: Cron, after: Date): Date | undefined {
  const t = new Date(after.getTime());
  t.setUTCSeconds(0, 0);
  t.setUTCMinutes(t.getUTCMinutes() + 1);
  const limit = after.getTime() + 5 * 366 * 86_400_000;
  while (t.getTime() < limit) {
    if (!cron.years.has(t.getUTCFullYear())) {
      t.setUTCFullYear(t.getUTCFullYear() + 1, 0, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!cron.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    const dayOk =
      (!cron.daysOfMonth || cron.daysOfMonth.has(t.getUTCDate())) &&
      (!cron.daysOfWeek || cron.daysOfWeek.has(t.getUTCDay() + 1));
    if (!dayOk) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!cron.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!cron.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t;
  }
  return undefined;
}

export interface ScheduledJob {
  name: string;
  cron: string;
  run: () => Promise<void>;
}

/** Runs each job at its times until stopped; a job still running when its next time comes is not started twice. */
export class LocalScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly onNext: (job: ScheduledJob, next: Date | undefined, problem?: string) => void,
  ) {}

  add(job: ScheduledJob): void {
    let cron: Cron;
    try {
      cron = parseCron(job.cron);
    } catch (err) {
      this.onNext(job, undefined, (err as Error).message);
      return;
    }
    let running = false;
    const arm = () => {
      if (this.stopped) return;
      const next = nextRun(cron, new Date());
      this.onNext(job, next);
      if (!next) return;
      // Timers cannot wait longer than about 24 days: wake up and arm again.
      const wait = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
      this.timers.set(
        job.name,
        setTimeout(() => {
          if (Date.now() < next.getTime() - 1_000) return arm();
          if (!running) {
            running = true;
            job.run().finally(() => {
              running = false;
            });
          }
          arm();
        }, wait),
      );
    };
    arm();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
  }
}
