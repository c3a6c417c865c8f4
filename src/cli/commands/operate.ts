// Operating a deployed app: status, scale, rollback, manage, logs and secrets (touchdown.yml projects).
import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../../core/errors.js';
import { deploy } from '../../django/deploy.js';
import { manage, parseScale, scale, services } from '../../django/operations.js';
import { ReleaseHistory } from '../../django/releases.js';
import { Secrets } from '../../django/secrets.js';
import { readLogs } from '../../django/task-logs.js';
import { showValue } from '../render/values.js';
import { type GlobalOptions, openApp, parseDuration } from '../session.js';

const out = (s: string) => process.stdout.write(`${s}\n`);

export async function statusCommand(options: GlobalOptions): Promise<number> {
  const s = await openApp(options, 'status');
  try {
    const history = new ReleaseHistory(s.aws, s.app.stackName);
    const [{ plan, world }, current] = await Promise.all([s.engine.plan(), history.current()]);
    s.close();
    const ecs = await s.aws.ecs();
    let running: Record<string, { desired: number; running: number; revision: string }> = {};
    try {
      const { cluster, services: names } = services(world);
      const described =
        (await ecs.describeServices({ cluster, services: Object.values(names) })).services ?? [];
      running = Object.fromEntries(
        Object.entries(names).map(([process, name]) => {
          const d = described.find((x) => x.serviceName === name);
          return [
            process,
            {
              desired: d?.desiredCount ?? 0,
              running: d?.runningCount ?? 0,
              revision: d?.taskDefinition?.split('/').at(-1) ?? '',
            },
          ];
        }),
      );
    } catch {
      // nothing deployed yet
    }
    const outputs = s.engine.outputsOf(world);
    const pending = plan.resources.filter((r) => r.action !== 'noop').length;
    const status = {
      stack: s.app.stackName,
      release: current ?? null,
      processes: running,
      outputs,
      pendingChanges: pending,
    };
    if (options.json) {
      out(JSON.stringify(status, null, 2));
      return 0;
    }
    out(`${s.app.stackName} (${s.aws.region})`);
    out(
      current
        ? `  release ${current.number}: ${current.image}, ${current.time} by ${current.who}`
        : '  not deployed yet',
    );
    for (const [p, r] of Object.entries(running))
      out(`  ${p}: ${r.running}/${r.desired} running (${r.revision})`);
    for (const [k, v] of Object.entries(outputs)) out(`  ${k} = ${showValue(v, 200)}`);
    out(
      pending === 0
        ? '  infrastructure: up to date'
        : `  infrastructure: ${pending} pending change(s); see touchdown plan`,
    );
    return 0;
  } finally {
    s.close();
  }
}

export async function scaleCommand(args: string[], options: GlobalOptions): Promise<number> {
  const wanted = parseScale(args);
  const s = await openApp(options, 'scale');
  try {
    const result = await scale(s.aws, s.engine, wanted);
    s.close();
    if (options.json) out(JSON.stringify(result, null, 2));
    else
      for (const [p, r] of Object.entries(result))
        out(`${p}: ${r.from} → ${r.to} tasks (still ${r.taskDefinition.split('/').at(-1)})`);
    return 0;
  } finally {
    s.close();
  }
}

export async function rollbackCommand(to: string | undefined, options: GlobalOptions): Promise<number> {
  const s = await openApp(options, 'rollback');
  try {
    const history = new ReleaseHistory(s.aws, s.app.stackName);
    const releases = await history.list();
    const current = releases.filter((r) => r.status === 'live').at(-1);
    const target = to
      ? releases.find((r) => r.number === Number(to))
      : releases.filter((r) => r.status === 'superseded' && r.number < (current?.number ?? Infinity)).at(-1);
    if (!target)
      throw new ConfigError(
        to ? `no release ${to}; touchdown status lists them` : 'no earlier release to go back to',
      );
    if (target.status === 'failed' || target.status === 'cancelled')
      throw new ConfigError(
        `release ${target.number} ${target.status === 'failed' ? 'failed' : 'was stopped'} at ${target.failedStep}: it never served`,
      );
    await s.lock.acquire({ timeoutMs: parseDuration(options.lockTimeout ?? '0s'), signal: s.signal });
    try {
      const result = await deploy({
        loaded: s.app,
        aws: s.aws,
        events: s.events,
        signal: s.signal,
        rollbackTo: target,
        concurrency: options.concurrency,
      });
      s.close();
      if (result.status !== 'deployed') {
        out(`Rollback failed at ${result.failedStep}: ${result.message}`);
        return 1;
      }
      out(
        `Release ${result.release!.number} is live: release ${target.number}'s image (${target.image}). The database was left as it is.`,
      );
      return 0;
    } finally {
      await s.lock.release();
    }
  } finally {
    s.close();
  }
}

/** A management command's output shown after it ends (shell sessions and dumps want `logs` instead). */
const MANAGE_OUTPUT_LINES = 1000;

export async function manageCommand(args: string[], options: GlobalOptions): Promise<number> {
  if (args.length === 0)
    throw new ConfigError('say which management command, e.g. touchdown manage createsuperuser --noinput');
  const s = await openApp(options, 'manage');
  try {
    const result = await manage(s.aws, s.engine, s.app, args, s.signal);
    s.close();
    for (const line of await result.lastLines(MANAGE_OUTPUT_LINES)) out(line);
    if (result.exitCode === undefined) {
      process.stderr.write(
        `manage.py ${args[0]} stopped without an exit code: ${result.reason ?? 'no reason given'}\n`,
      );
      return 1;
    }
    return result.exitCode;
  } finally {
    s.close();
  }
}

export async function logsCommand(
  options: GlobalOptions & { follow?: boolean; since?: string; filter?: string; process?: string },
): Promise<number> {
  const s = await openApp(options, 'logs');
  s.close();
  const prefix = `/${s.app.stackName}/`;
  const logs = await s.aws.logs();
  const groups = ((await logs.describeLogGroups({ logGroupNamePrefix: prefix })).logGroups ?? [])
    .map((g) => g.logGroupName!)
    .filter((g) => !options.process || g.slice(prefix.length).startsWith(options.process));
  if (groups.length === 0) throw new ConfigError(`no logs for ${options.process ?? 'this app'} yet`);
  let since = Date.now() - parseDuration(options.since ?? '10m');
  for (;;) {
    const lines = await readLogs(s.aws, groups, { since, filter: options.filter });
    for (const l of lines)
      out(`${new Date(l.time).toISOString()} ${l.group.slice(prefix.length)} ${l.message}`);
    if (!options.follow) return 0;
    since = (lines.at(-1)?.time ?? since - 1) + 1;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

export async function secretsCommand(
  action: string,
  name: string | undefined,
  value: string | undefined,
  options: GlobalOptions & { reveal?: boolean },
): Promise<number> {
  const s = await openApp(options, 'secrets');
  s.close();
  const secrets = new Secrets(s.aws, s.app);
  const need = () => {
    if (!name) throw new ConfigError(`touchdown secrets ${action} needs a NAME`);
    return name;
  };
  switch (action) {
    case 'list':
      for (const x of await secrets.list()) {
        out(`${x.name}${x.modified ? '' : '  (not set)'}${x.declared ? '' : '  (not in touchdown.yml)'}`);
      }
      return 0;
    case 'get': {
      const v = await secrets.get(need());
      if (v === undefined) throw new ConfigError(`${name} is not set: touchdown secrets set ${name}`);
      out(options.reveal ? v : `${name} is set (${v.length} characters); pass --reveal to print it`);
      return 0;
    }
    case 'set': {
      // A value on the command line would stay in the shell's history: read it from stdin instead when missing.
      const secret = value ?? (await readSecret(need()));
      await secrets.set(need(), secret);
      out(`${name} set; deploy to hand it to the app`);
      return 0;
    }
    case 'unset':
      out((await secrets.unset(need())) ? `${name} removed` : `${name} was not set`);
      return 0;
    default:
      throw new ConfigError(`touchdown secrets ${action}: use set, get, list or unset`);
  }
}

async function readSecret(name: string): Promise<string> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdin.isTTY ? process.stderr : undefined,
    terminal: false,
  });
  if (process.stdin.isTTY) process.stderr.write(`Value for ${name} (not shown): `);
  for await (const line of rl) {
    rl.close();
    return line;
  }
  throw new ConfigError(`no value for ${name}: give it as an argument or on standard input`);
}
