// `touchdown up`, `down` and `logs --local`: the stack on this machine.
import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import pc from 'picocolors';
import { findConfig, isManifest } from '../../config/load.js';
import { loadManifest } from '../../config/load-manifest.js';
import { ConfigError } from '../../core/errors.js';
import { localLogs } from '../../local/logs.js';
import { isAlive, readState, runningStack } from '../../local/state.js';
import { down } from '../../local/stop.js';
import { type LocalTarget, localTarget, suggest } from '../../local/target.js';
import { ReleaseFailed, up, WebUnhealthy } from '../../local/up.js';
import type { ServiceOptions } from '../../local/wiring.js';
import { colorFor, jsonLocalView, type LocalView, liveLocalView, plainLocalView } from '../render/local.js';
import { type GlobalOptions, parseDuration } from '../session.js';

export interface UpOptions extends GlobalOptions, ServiceOptions {
  detach?: boolean;
  port?: number;
  /** Internal: this process is the detached stack itself. */
  supervise?: boolean;
}

async function target(options: GlobalOptions, command: string): Promise<LocalTarget> {
  const path = await findConfig(options.config);
  if (!isManifest(path)) {
    throw new ConfigError(
      `touchdown ${command} runs a Django app's touchdown.yml; this project has a touchdown.config.ts`,
    );
  }
  return localTarget(await loadManifest(path, options.stage), options.stage !== undefined);
}

const colorsFor = (options: GlobalOptions, tty: boolean) =>
  pc.createColors(options.color !== false && !options.json && tty && pc.isColorSupported);

/**
 * Problems the user can fix, said without the AWS commands' "Nothing was changed in AWS" (nothing here
 * touches AWS); anything else goes to the common error report.
 */
async function saying(options: GlobalOptions, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const c = colorsFor(options, Boolean(process.stderr.isTTY));
    const write = (s: string) => process.stderr.write(`${s}\n`);
    write(c.red(`error: ${err.message}${err.problems.length > 1 ? ':' : ''}`));
    if (err.problems.length > 1) for (const p of err.problems) write(`  - ${p}`);
    return 1;
  }
}

/** Runs the stack until Ctrl-C (or `touchdown down`); 1 when it could not start. */
export function upCommand(options: UpOptions): Promise<number> {
  return saying(options, () => runUp(options));
}

async function runUp(options: UpOptions): Promise<number> {
  const t = await target(options, 'up');
  if (options.detach && !options.supervise) return detach(t, options);
  const out = options.supervise ? process.stdout : process.stderr;
  const c = colorsFor(options, Boolean(out.isTTY));
  const view: LocalView = options.json
    ? jsonLocalView(process.stdout)
    : out.isTTY && !options.supervise
      ? liveLocalView(out, c)
      : plainLocalView(out, c, !options.supervise);
  const starting = new AbortController();
  let stopRequested: () => void = () => {};
  const stopping = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  let signals = 0;
  const onSignal = () => {
    signals++;
    // A second Ctrl-C while stopping quits at once (down kills what is left).
    if (signals > 1) process.exit(130);
    starting.abort();
    stopRequested();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // With no terminal (detached), a closed pipe must not kill the stack: the log file is its output.
  process.on('SIGHUP', () => {});
  try {
    const running = await up({
      ...options,
      target: t,
      detached: Boolean(options.supervise),
      events: (e) => view.handle(e),
      signal: starting.signal,
    });
    await stopping;
    await running.stop();
    return 0;
  } catch (err) {
    const write = (s: string) => process.stderr.write(`${s}\n`);
    if (err instanceof ReleaseFailed) {
      view.stop();
      write(c.red(`error: ${err.step} failed (exit code ${err.code}); nothing was started. Its output:`));
      for (const line of err.output.slice(-40)) write(`    ${line}`);
      write(
        c.dim(
          `Fix it and run ${suggest(t, 'touchdown up')} again; the whole log: ${suggest(t, 'touchdown logs --local --process release')}`,
        ),
      );
      return 1;
    }
    if (err instanceof WebUnhealthy) {
      view.stop();
      write(c.red(`error: ${err.message}; nothing serves`));
      if (err.output.length > 0) write(c.dim(`The last lines of ${err.process}:`));
      for (const line of err.output.slice(-40)) write(`    ${line}`);
      write(c.dim(`The whole log: ${suggest(t, `touchdown logs --local --process ${err.process}`)}`));
      return 1;
    }
    if ((err as Error).name === 'Interrupted') return 130;
    throw err;
  } finally {
    view.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Starts the stack in the background, shows its progress until it serves (or fails), then returns. */
async function detach(t: LocalTarget, options: UpOptions): Promise<number> {
  // Already up: as `docker compose up -d` does, say where and succeed (a script can run it twice).
  const running = runningStack(await readState(t.dir));
  if (running?.status === 'running' && running.url) {
    if (options.json) process.stdout.write(`${JSON.stringify(running, null, 2)}\n`);
    else process.stdout.write(`${running.url}\n`);
    process.stderr.write(
      `${t.stack} already runs at ${running.url} (pid ${running.pid}); to restart it with changes: ${suggest(t, 'touchdown down')}, then ${suggest(t, 'touchdown up')}\n`,
    );
    return 0;
  }
  await mkdir(t.dir, { recursive: true });
  const logPath = join(t.dir, 'up.log');
  const log = await open(logPath, 'a');
  const startedAt = (await log.stat()).size;
  const args = process.argv.slice(2).filter((a) => a !== '--detach' && a !== '-d');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args, '--supervise'], {
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
    env: { ...process.env, NO_COLOR: '1' },
  });
  child.unref();
  await log.close();
  const c = colorsFor(options, Boolean(process.stderr.isTTY));
  const write = (s: string) => process.stderr.write(`${s}\n`);
  let shown = startedAt;
  const follow = async () => {
    const { readFile } = await import('node:fs/promises');
    const text = (await readFile(logPath)).subarray(shown);
    const complete = text.lastIndexOf(10) + 1;
    shown += complete;
    // The processes' own output stays in the log; here, the steps.
    for (const line of text.subarray(0, complete).toString('utf8').split('\n')) {
      if (line && !/^\S+ \| /.test(line) && !options.json) write(c.dim(line));
    }
  };
  // Ctrl-C while it starts cancels the start: the background stack stops what it began.
  let cancelled = false;
  const cancel = () => {
    cancelled = true;
    if (child.pid) process.kill(child.pid, 'SIGTERM');
  };
  process.once('SIGINT', cancel);
  try {
    return await waitUntilServing();
  } finally {
    process.off('SIGINT', cancel);
  }

  async function waitUntilServing(): Promise<number> {
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      await follow();
      if (cancelled && !isAlive(child.pid)) {
        write(c.yellow('cancelled: nothing is left running'));
        return 130;
      }
      const state = await readState(t.dir);
      const mine = state !== undefined && state.pid === child.pid;
      if (mine && state.status === 'running') {
        if (options.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
        else {
          process.stdout.write(`${state.url}\n`);
          write(c.green(`${t.stack} runs in the background at ${state.url} (pid ${state.pid}).`));
          const logs = suggest(t, 'touchdown logs --local -f');
          const down = suggest(t, 'touchdown down');
          const width = Math.max(logs.length, down.length) + 3;
          write(c.dim(`  ${logs.padEnd(width)}follows its logs\n  ${down.padEnd(width)}stops it`));
        }
        return 0;
      }
      if ((mine && state.status === 'failed') || !isAlive(child.pid)) {
        // It stops what it started before it exits: return only then, so nothing outlives the answer.
        for (let waited = 0; isAlive(child.pid) && waited < 30_000; waited += 100) {
          await new Promise((r) => setTimeout(r, 100));
        }
        await follow();
        const error = mine ? state.error : undefined;
        if (options.json) process.stdout.write(`${JSON.stringify(state ?? { status: 'failed' }, null, 2)}\n`);
        write(c.red(`error: ${error?.message ?? `the stack exited while starting; see ${logPath}`}`));
        if (error?.output?.length) {
          write(c.dim('Its output:'));
          for (const line of error.output) write(`    ${line}`);
        }
        write(c.dim(`The whole log: ${suggest(t, 'touchdown logs --local')} (and ${logPath})`));
        return 1;
      }
    }
  }
}

export function downCommand(
  options: GlobalOptions & ServiceOptions & { volumes?: boolean },
): Promise<number> {
  return saying(options, () => runDown(options));
}

async function runDown(options: GlobalOptions & ServiceOptions & { volumes?: boolean }): Promise<number> {
  const t = await target(options, 'down');
  const c = colorsFor(options, Boolean(process.stderr.isTTY));
  const view = options.json ? jsonLocalView(process.stderr) : plainLocalView(process.stderr, c);
  const result = await down(t, {
    ...options,
    volumes: Boolean(options.volumes),
    events: (e) => view.handle(e),
  });
  const write = (s: string) => process.stdout.write(`${s}\n`);
  if (options.json) write(JSON.stringify(result, null, 2));
  else {
    write(result.stopped ? `${t.stack} stopped.` : `${t.stack} was not running.`);
    for (const r of result.removed) write(`  removed ${r}`);
    for (const p of result.problems) write(c.red(`  could not remove ${p}`));
    if (!options.volumes)
      write(c.dim(`Its data is kept for the next ${suggest(t, 'touchdown up')}; --volumes removes it.`));
  }
  return result.problems.length > 0 ? 1 : 0;
}

type LogsOptions = GlobalOptions & { follow?: boolean; since?: string; process?: string };

export function localLogsCommand(options: LogsOptions): Promise<number> {
  return saying(options, () => runLogs(options));
}

async function runLogs(options: LogsOptions): Promise<number> {
  const t = await target(options, 'logs --local');
  const state = await readState(t.dir);
  if (!state)
    throw new ConfigError(
      `${t.stack} has not run on this machine yet: start it with ${suggest(t, 'touchdown up')}`,
    );
  const c = colorsFor(options, Boolean(process.stdout.isTTY));
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.on('SIGINT', onSigint);
  const names = new Map<string, number>();
  try {
    await localLogs(t.dir, {
      follow: Boolean(options.follow),
      ...(options.since ? { sinceMs: parseDuration(options.since) } : {}),
      ...(options.process ? { process: options.process } : {}),
      signal: controller.signal,
      print: (l) =>
        process.stdout.write(
          options.json
            ? `${JSON.stringify(l)}\n`
            : `${c.dim(l.time.slice(11, 19))} ${colorFor(c, names, l.process)(l.process)} ${c.dim('|')} ${l.text}\n`,
        ),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  return 0;
}

/** `touchdown manage --local <command>`: its exit code. */
export function localManageCommand(args: string[], options: GlobalOptions & ServiceOptions): Promise<number> {
  return saying(options, async () => {
    if (args.length === 0) {
      throw new ConfigError('say which management command, e.g. touchdown manage --local createsuperuser');
    }
    const { manageLocal } = await import('../../local/manage.js');
    return manageLocal(await target(options, 'manage --local'), args, options);
  });
}
