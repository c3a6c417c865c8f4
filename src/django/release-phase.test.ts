// The release phase in one run: the runner the container executes (real Python, the xkcd example's real
// manage.py), and how its announcements become steps, a failing command named by its output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, venvPython } from '../../test/support/paths.js';
import type { EngineEvent } from '../core/events.js';
import {
  announcedStep,
  failedStep,
  type OneOffResult,
  type OneOffRunner,
  type ReleaseCommand,
  releasePhaseCommand,
} from './one-off.js';
import { RELEASE_PHASE_STEP, runReleasePhase } from './release-phase.js';

/** Runs the release runner as the container would, in the example's folder. */
function runInContainer(commands: ReleaseCommand[]) {
  const [, ...args] = releasePhaseCommand(commands);
  const run = spawnSync(venvPython, args, { cwd: join(repoRoot, 'examples', 'xkcd'), encoding: 'utf8' });
  return { code: run.status, lines: run.stdout.split('\n').filter(Boolean) };
}

describe('the release runner in the container', () => {
  it('runs every command in order and announces each', () => {
    const run = runInContainer([
      ['check', ['check']],
      ['check --deploy', ['check', '--fail-level', 'CRITICAL']],
    ]);
    assert.equal(run.code, 0);
    assert.deepEqual(
      run.lines.map(announcedStep).filter((n) => n !== undefined),
      [1, 2],
    );
  });

  it("stops at the first command that fails, with that command's exit code, and says which", () => {
    const run = runInContainer([
      ['check', ['check']],
      ['no_such_command', ['no_such_command']],
      ['never', ['check']],
    ]);
    assert.equal(run.code, 1);
    assert.deepEqual(
      run.lines.map(announcedStep).filter((n) => n !== undefined),
      [1, 2],
    );
    assert.equal(
      run.lines.at(-1),
      '[touchdown] release step 2 of 3 failed: no_such_command exited with code 1',
    );
    assert.equal(failedStep(run.lines.at(-1)!), 2, 'the line Touchdown names the failing command by');
    assert.equal(failedStep(run.lines[0]!), undefined);
  });
});

/** A runner whose one run announces the commands its script says, then ends as told. */
function scripted(
  announce: string[],
  end: Partial<OneOffResult> & { failed?: ReleaseCommand },
): OneOffRunner {
  return {
    manage: () => Promise.reject(new Error('one run for all was expected')),
    async releasePhase(_commands, started) {
      for (const name of announce) started(name);
      return { exitCode: 0, lastLines: async () => [], ...end };
    },
  };
}

const COMMANDS: ReleaseCommand[] = [
  ['migrate', ['migrate', '--noinput']],
  ['collectstatic', ['collectstatic', '--noinput']],
  ['loaddata x.json', ['loaddata', 'x.json']],
];

async function phase(runner: OneOffRunner) {
  const events: EngineEvent[] = [];
  const outcome = await runReleasePhase({
    events: (e) => events.push(e),
    runner,
    commands: COMMANDS,
    signal: new AbortController().signal,
    stillHeld: async () => {},
  });
  const steps = events.flatMap((e) => (e.type === 'step' ? [`${e.step}:${e.state}`] : []));
  return { outcome, steps };
}

describe('the release phase as steps', () => {
  it('reports each command as a step of its own, even those whose announcement was lost', async () => {
    const { outcome, steps } = await phase(scripted(['migrate', 'loaddata x.json'], { exitCode: 0 }));
    assert.deepEqual(outcome, { status: 'done' });
    assert.deepEqual(steps, [
      'migrate:start',
      'migrate:done',
      'collectstatic:start',
      'collectstatic:done',
      'loaddata x.json:start',
      'loaddata x.json:done',
    ]);
  });

  it('names the command the run stopped at, and never starts the ones after it', async () => {
    const { outcome, steps } = await phase(
      scripted(['migrate', 'collectstatic'], { exitCode: 2, failed: COMMANDS[1] }),
    );
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.status === 'failed' && outcome.step, 'collectstatic');
    assert.equal(outcome.status === 'failed' && outcome.what, 'collectstatic --noinput');
    assert.deepEqual(steps, ['migrate:start', 'migrate:done', 'collectstatic:start', 'collectstatic:failed']);
  });

  it('names the whole phase when the output does not say which command failed', async () => {
    const { outcome } = await phase(scripted([], { exitCode: 1 }));
    assert.equal(outcome.status === 'failed' && outcome.step, RELEASE_PHASE_STEP);
    assert.equal(
      outcome.status === 'failed' && outcome.what,
      'migrate --noinput, then collectstatic --noinput, then loaddata x.json',
    );
  });
});
