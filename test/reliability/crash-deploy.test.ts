// kill -9 at seeded points of the xkcd deploy, then deploy again: boto3 finds exactly the declared resources,
// each once, and every service runs the live release's task definition (all of one release, none of another).
// Each stack deploys from nothing (image v1), then releases v2, v3...: each deploy is killed several times in
// a row (the deploy recovering from a kill is itself killed), then finished and checked. Release kill points
// are the release's lines in a seeded order, dealt out to the stacks; a point a deploy never reached (it
// finished first) moves to the next release. Stacks run at once against one local AWS, under their own names.
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { mulberry32 as seeded } from '../support/aws-model/faults.js';
import { Boto } from '../support/boto.js';
import { runCli } from '../support/cli.js';
import { type LocalAws, startLocalAws } from '../support/local-aws.js';
import {
  APP_AWS,
  type App,
  assertServes,
  declared,
  deployArgs,
  found,
  saveFigures,
  services,
  xkcdApp,
} from './app.js';
import { type KillPoint, runUntil } from './kill.js';

const SEED = Number(process.env.TOUCHDOWN_RELIABILITY_SEED ?? 604);
const STACKS = Number(process.env.TOUCHDOWN_RELIABILITY_STACKS ?? 2);
/** Kills per stack: in its first deploy, then in releases, a few per release. */
const KILLS = { first: 3, releases: 8, perRelease: 4 };
// Lines a deploy prints without a terminal (steps, operations, progress): about 92 for the first deploy of
// xkcd, 18 for a release, at least 10 (its steps) for a first deploy that recovers from a kill.
const FIRST_DEPLOY_LINES = 88;
const RELEASE_LINES = 18;
const RECOVERING_LINES = 10;
/** Releases a stack may go through before its points run out. */
const MOST_RELEASES = 6;
// A kill that lands after the release was recorded leaves nothing to do.
const DEPLOYED = /Release \d+ of \S+ is live|Nothing to deploy/;

let aws: LocalAws;
let boto: Boto;
const landed: string[] = [];
const began = Date.now();
before(async () => {
  aws = await startLocalAws({ env: APP_AWS });
  // One-off tasks (migrate, collectstatic) stop at their first look: the release phase takes no wall time.
  await aws.setTransition('ecs::task', { progression: 'immediate' });
  boto = new Boto(aws.endpoint, aws.region);
});
after(async () => {
  boto?.close();
  await aws?.stop();
});

const random = seeded(SEED);
const jitter = () => Math.floor(random() * 250);
const releaseLines = [...Array(RELEASE_LINES).keys()].map((i) => i + 1).sort(() => random() - 0.5);
const plans = [...Array(STACKS).keys()].map((i) => ({
  name: `k${i + 1}`,
  first: [
    // Spread over the first deploy, one stratum per stack; the deploys that recover are killed early.
    { line: 1 + Math.floor(((i + random()) * FIRST_DEPLOY_LINES) / STACKS), afterMs: jitter() },
    ...Array.from({ length: KILLS.first - 1 }, () => ({
      line: 1 + Math.floor(random() * RECOVERING_LINES),
      afterMs: jitter(),
    })),
  ],
  releases: Array.from({ length: KILLS.releases }, (_, k) => ({
    line: releaseLines[(i * KILLS.releases + k) % RELEASE_LINES]!,
    afterMs: jitter(),
  })),
}));

const show = (points: KillPoint[]) => points.map((p) => `${p.line}+${p.afterMs}ms`).join(', ');

/**
 * Deploys `tag`, killing it at each point in turn, then deploys it to the end and checks what exists.
 * Returns the points left when a deploy finished before its point.
 */
async function killedThenFinished(
  t: TestContext,
  a: App,
  tag: string,
  points: KillPoint[],
  before?: string,
): Promise<KillPoint[]> {
  const img = a.image(tag);
  const args = deployArgs(img);
  let finished = false;
  let left: KillPoint[] = [];
  for (const [i, point] of points.entries()) {
    const run = await runUntil(args, { cwd: a.cwd, aws }, point);
    if (!run.killed) {
      assert.equal(run.result.code, 0, run.result.stdout + run.result.stderr);
      assert.match(run.result.stdout, DEPLOYED);
      t.diagnostic(`${tag}: finished before line ${point.line}; the next release takes the rest`);
      finished = true;
      left = points.slice(i);
      break;
    }
    landed.push(`${a.app} ${tag}: ${run.at}`);
    t.diagnostic(`${tag}: killed ${point.afterMs}ms after line ${point.line}: "${run.at}"`);
    const allowed = [before, img].filter(Boolean);
    for (const s of await services(boto, a.stack)) {
      assert.ok(
        allowed.includes(s.image),
        `right after the kill ${s.name} runs one whole release: ${s.image}`,
      );
    }
  }
  if (!finished) {
    const again = await runCli(args, { cwd: a.cwd, aws });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, DEPLOYED);
  }
  assert.deepEqual(await found(boto, a), await declared(a, img), 'exactly the declared resources, each once');
  await assertServes(boto, a.stack, img);
  return left;
}

describe('kill -9 during xkcd deploys, then deploy again', { concurrency: STACKS }, () => {
  for (const p of plans) {
    it(`${p.name}: first deploy killed at ${show(p.first)}; releases at ${show(p.releases)}`, {
      timeout: 600_000,
    }, async (t) => {
      const a = await xkcdApp(p.name);
      const queue = await killedThenFinished(t, a, 'v1', p.first);
      queue.push(...p.releases);
      let before = a.image('v1');
      for (let n = 2; queue.length > 0 && n <= 1 + MOST_RELEASES; n++) {
        const left = await killedThenFinished(t, a, `v${n}`, queue.splice(0, KILLS.perRelease), before);
        queue.unshift(...left);
        before = a.image(`v${n}`);
      }
    });
  }
});

describe('kill points', () => {
  it('at least 20 kills landed', async (t) => {
    t.diagnostic(`${landed.length} kills (seed ${SEED}):\n${landed.join('\n')}`);
    const planned = plans.reduce((n, p) => n + p.first.length + p.releases.length, 0);
    await saveFigures('crash', { seed: SEED, stacks: STACKS, planned, landed, ms: Date.now() - began });
    assert.ok(landed.length >= Math.min(20, planned), `${landed.length} of ${planned} kills landed`);
  });
});
