// Operating a deployed app: status, scale, rollback, manage, logs and secrets (touchdown.yml projects).
import { basename } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { deploy } from '../../django/deploy.js';
import { appStatus, lambdaLogGroups } from '../../django/lambda-status.js';
import { manage, parseScale, planScale, runningServices, scale } from '../../django/operations.js';
import { ReleaseHistory } from '../../django/releases.js';
import { ownSecrets, Secrets } from '../../django/secrets.js';
import { readLogs } from '../../django/task-logs.js';
import { confirm, readSecret } from '../confirm.js';
import { appStatusLines } from '../render/app-status.js';
import { showValue } from '../render/values.js';
import { type GlobalOptions, openApp, parseDuration } from '../session.js';
import { streams } from '../streams.js';

const out = (s: string) => streams.stdout.write(`${s}\n`);

export async function statusCommand(options: GlobalOptions): Promise<number> {
  const s = await openApp(options, 'status');
  try {
    // The live view stays up while the stack is read (a plan and the outputs): seconds on a large stack.
    const { plan, world } = await s.engine.plan();
    const current = s.release;
    const running = Object.fromEntries(
      Object.entries(runningServices(world, s.engine.stack)).map(([process, r]) => [
        process,
        { ...r, ...(s.counts?.[process] ? { countFrom: s.counts[process].from } : {}) },
      ]),
    );
    const outputs = s.engine.outputsOf(world);
    const more = await appStatus(s.aws, s.app);
    s.close();
    const pending = plan.resources.filter((r) => r.action !== 'noop').length;
    const status = {
      stack: s.app.stackName,
      release: current ?? null,
      processes: running,
      outputs,
      pendingChanges: pending,
      ...more,
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
    for (const [p, r] of Object.entries(running)) {
      out(
        `  ${p}: ${r.running}/${r.desired} running (${r.revision})${r.countFrom ? `, count from ${r.countFrom}` : ''}`,
      );
    }
    for (const line of appStatusLines(more)) out(line);
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
    const planned = await planScale(s.aws, s.engine, s.app, wanted);
    s.close();
    if (!options.json)
      for (const c of planned.changes) {
        const owner = s.counts?.[c.process]?.from === 'autoscaling' ? ' (autoscaling may change it)' : '';
        const stops = c.to === 0 ? (c.process === 'web' ? ' (the app stops serving)' : ' (none run)') : '';
        out(`${c.process}: ${c.from} → ${c.to} tasks${stops}${owner}`);
      }
    const asked = await confirm(
      'Change these counts? The next deploys keep them until scale or touchdown.yml changes them.',
      options,
    );
    if (!asked) {
      out('Nothing changed.');
      return 0;
    }
    // A deploy reads the counts scale keeps: the two never run at once on one stack.
    await s.lock.acquire({ timeoutMs: parseDuration(options.lockTimeout ?? '0s'), signal: s.signal });
    const result = await scale(s.aws, s.app, planned).finally(() => s.lock.release());
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
        to
          ? `no release ${to}; touchdown releases lists them`
          : 'no earlier release to go back to; touchdown releases lists them',
      );
    if (target.status === 'failed' || target.status === 'cancelled')
      throw new ConfigError(
        `release ${target.number} ${target.status === 'failed' ? 'failed' : 'was stopped'} at ${target.failedStep}: it never served`,
      );
    s.close();
    if (!options.json)
      out(
        `Release ${target.number} (${target.image}, ${target.time} by ${target.who}) will serve again` +
          (current ? `, instead of release ${current.number} (${current.image}).` : '.') +
          ' The database is left as it is.',
      );
    if (!(await confirm('Roll back?', options))) {
      out('Nothing changed.');
      return 0;
    }
    await s.lock.acquire({ timeoutMs: parseDuration(options.lockTimeout ?? '0s'), signal: s.signal });
    try {
      const result = await deploy({
        loaded: s.app,
        aws: s.aws,
        events: s.events,
        signal: s.signal,
        rollbackTo: target,
        concurrency: options.concurrency,
        lease: s.lock,
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

/** On Lambda, the output shown after the command ends (shell sessions and dumps want `logs` instead). */
const MANAGE_OUTPUT_LINES = 1000;

export async function manageCommand(args: string[], options: GlobalOptions): Promise<number> {
  if (args.length === 0)
    throw new ConfigError('say which management command, e.g. touchdown manage createsuperuser --noinput');
  const s = await openApp(options, 'manage');
  try {
    const result = await manage(s.aws, s.engine, args, s.signal, out);
    s.close();
    // On ECS the output was printed as it came; Lambda answers with it at the end (as does a late CloudWatch).
    const lines = result.streamed ? [] : await result.lastLines(MANAGE_OUTPUT_LINES);
    for (const line of lines) out(line);
    const printed = (result.streamed ?? 0) + lines.length;
    if (result.exitCode === undefined) {
      streams.stderr.write(
        `manage.py ${args.join(' ')} stopped without an exit code: ${result.reason ?? 'no reason given'}\n`,
      );
      return 1;
    }
    // Said every time: a command that printed nothing still ended one way or the other.
    streams.stderr.write(
      `manage.py ${args.join(' ')} exited with code ${result.exitCode}${printed === 0 ? ' (it printed nothing)' : ''}\n`,
    );
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
  const all = ((await logs.describeLogGroups({ logGroupNamePrefix: prefix })).logGroups ?? []).map(
    (g) => g.logGroupName!,
  );
  const groups = all.filter((g) => !options.process || g.slice(prefix.length).startsWith(options.process));
  // A Lambda app's function writes to Lambda's own log group.
  const lambda = lambdaLogGroups(s.app, options.process);
  groups.push(...lambda.map((l) => l.group));
  const processOf = (group: string) =>
    lambda.find((l) => l.group === group)?.process ?? group.slice(prefix.length);
  const names = all.map((g) => g.slice(prefix.length)).join(', ');
  if (groups.length === 0)
    throw new ConfigError(
      options.process
        ? `no process "${options.process}" has logs in ${s.app.stackName}; these do: ${names || 'none yet'}`
        : `${s.app.stackName} has no logs yet: touchdown deploy creates them`,
    );
  const which = groups.map(processOf).join(', ');
  const matching = options.filter ? ` matching "${options.filter}"` : '';
  const since = options.since ?? '10m';
  let from = Date.now() - parseDuration(since);
  let printed = 0;
  for (;;) {
    const until = Date.now();
    const lines = await readLogs(s.aws, groups, { since: from, filter: options.filter, until });
    for (const l of lines) out(`${new Date(l.time).toISOString()} ${processOf(l.group)} ${l.message}`);
    // Nothing to show is said, with what was searched, so silence never reads as "no logs exist".
    if (printed === 0 && lines.length === 0) {
      const window = `${new Date(from).toISOString().slice(0, 19)}Z to ${new Date(until).toISOString().slice(0, 19)}Z`;
      streams.stderr.write(
        `no log lines from ${which}${matching} in the last ${since} (${window})` +
          (options.follow
            ? '; waiting for new ones (Ctrl-C stops)\n'
            : '; try a longer --since, e.g. --since 1h\n'),
      );
    }
    printed += lines.length;
    if (!options.follow) return 0;
    printed = Math.max(printed, 1);
    from = (lines.at(-1)?.time ?? until - 1) + 1;
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
  const stage = s.app.stage === 'production' ? '' : ` --stage ${s.app.stage}`;
  switch (action) {
    case 'list': {
      const list = await secrets.list();
      if (options.json) {
        out(JSON.stringify(list, null, 2));
        return 0;
      }
      const width = Math.max(...list.map((x) => x.name.length));
      for (const x of list) {
        const state = x.modified
          ? `set ${x.modified.toISOString().slice(0, 16).replace('T', ' ')} UTC`
          : 'not set';
        const what = x.own
          ? `Touchdown's own: ${x.own}`
          : x.declared
            ? 'declared in touchdown.yml'
            : 'not in touchdown.yml: the app does not get it (add it under secrets:)';
        out(`${x.name.padEnd(width)}  ${state.padEnd(24)}  ${what}`);
      }
      return 0;
    }
    case 'get': {
      const v = await secrets.get(need());
      if (v === undefined) throw new ConfigError(`${name} is not set: touchdown secrets set ${name}${stage}`);
      out(options.reveal ? v : `${name} is set (${v.length} characters); pass --reveal to print it`);
      return 0;
    }
    case 'set': {
      const secretName = need();
      // A value on the command line would stay in the shell's history: ask for it (unechoed) when missing.
      const secret = value ?? (await readSecret(secretName));
      await secrets.set(secretName, secret);
      if (s.app.manifest.secrets.includes(secretName) || ownSecrets(s.app).includes(secretName)) {
        out(
          `${secretName} set; tasks read it when they start: the next touchdown deploy hands it to the app`,
        );
      } else {
        out(
          `${secretName} set, but ${basename(s.app.path)} does not declare it, so the app does not get it. Declare it:\n` +
            `  secrets:\n    - ${secretName}\n` +
            `then run touchdown deploy${stage}.`,
        );
      }
      return 0;
    }
    case 'unset':
      out((await secrets.unset(need())) ? `${name} removed` : `${name} was not set`);
      return 0;
    default:
      throw new ConfigError(`touchdown secrets ${action}: use set, get, list or unset`);
  }
}
