// kill -9 at many points during an apply of the walkthrough, then apply again: boto3 must find exactly the
// declared resources, each once. No state file means nothing to repair: tags at creation are enough.
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { type AwsModel, startAwsModel } from './support/aws-model/proxy.js';
import { collect, copyOfExample, runCli, startCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { counts, inventory, untaggedNetwork } from './support/inventory.js';

const t = useLocalAws();
// A private copy: Touchdown writes beside the configuration (.touchdown/).
const cwd = await copyOfExample('walkthrough', ['touchdown.config.ts']);

const DECLARED = {
  vpc: 1,
  subnet: 3,
  'internet-gateway': 1,
  'elastic-ip': 1,
  'nat-gateway': 1,
  'route-table': 2,
  'security-group': 3,
  'gateway-endpoint': 1,
  bucket: 1,
  role: 1,
  'instance-profile': 1,
  'kms-key': 1,
  'kms-alias': 1,
  'ssm-parameter': 2,
  secret: 1,
};

/**
 * The local AWS with the stack lock's release held for ever: an apply to be killed cannot end before the kill
 * lands, however slowly this process reads its output. Every other call passes at once.
 */
let holding: Promise<AwsModel> | undefined;
after(async () => (await holding)?.stop());
async function endless() {
  holding ??= startAwsModel({
    upstream: t.aws.endpoint,
    speedup: 1,
    latencyMs: 0,
    times: false,
    holdOf: (call) =>
      call.service === 's3' && call.operation === 'DeleteObject' && call.path.includes('/touchdown/locks/')
        ? new Promise<void>(() => {})
        : undefined,
  });
  return { ...t.aws, env: { ...t.aws.env, AWS_ENDPOINT_URL: (await holding).endpoint } };
}

/** Starts an apply and kills it (SIGKILL) when `line` has been printed `times` times. */
async function applyAndKill(line: RegExp, times: number): Promise<{ killed: boolean; seen: string[] }> {
  const child = startCli(['apply', '--yes', '--concurrency', '4'], { cwd, aws: await endless() });
  const seen: string[] = [];
  let count = 0;
  const done = collect(child);
  createInterface({ input: child.stderr! }).on('line', (l) => {
    seen.push(l);
    if (line.test(l) && ++count === times) child.kill('SIGKILL');
  });
  const result = await done;
  return { killed: result.signal === 'SIGKILL', seen };
}

describe('kill -9 during apply, then apply again', () => {
  // Kill as an operation starts (its create call may or may not have gone out) and just after one ends.
  const points: [string, RegExp, number][] = [
    ['the first create starts', /^creating /, 1],
    ['the third create starts', /^creating /, 3],
    ['the seventh create starts', /^creating /, 7],
    ['the twelfth create starts', /^creating /, 12],
    ['the eighteenth create starts', /^creating /, 18],
    ['the second create ends', /^✓ created /, 2],
    ['the ninth create ends', /^✓ created /, 9],
    ['the sixteenth create ends', /^✓ created /, 16],
    ['the twentieth create ends', /^✓ created /, 20],
  ];
  // Points after which the next apply had something left to finish. Near the end a create already sent may
  // complete before the kill lands (the last two run at once), so one point may leave nothing.
  const leftWork: string[] = [];
  for (const [when, line, times] of points) {
    it(`converges with no duplicate and no orphan when killed as ${when}`, async () => {
      const { killed, seen } = await applyAndKill(line, times);
      assert.ok(killed, `the apply finished before the kill point:\n${seen.join('\n')}`);
      const again = await runCli(['apply', '--yes'], { cwd, aws: t.aws });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      const [, created, updated] = /Apply complete: (\d+) created, (\d+) updated/.exec(again.stdout) ?? [];
      if (Number(created) + Number(updated) > 0) leftWork.push(when);
      else assert.match(again.stdout, /no changes/, again.stdout);
      const plan = await runCli(['plan', '--detailed-exitcode'], { cwd, aws: t.aws });
      assert.equal(plan.code, 0, plan.stdout);
      assert.deepEqual(counts(await inventory(t.boto, 'radpress', { prefix: 'radpress' })), DECLARED);
      assert.deepEqual(await untaggedNetwork(t.boto), [], 'nothing was created without its tags');
    });
  }
  it('killed each apply before its end: the next apply finished what it left, at all points but one at most', () => {
    assert.ok(leftWork.length >= points.length - 1, `work was left only after: ${leftWork.join('; ')}`);
  });
});

describe('Ctrl-C during apply', () => {
  it('starts nothing new, lets calls in flight finish, and the next apply continues', async () => {
    const child = startCli(['apply', '--yes', '--concurrency', '1'], { cwd, aws: t.aws });
    const done = collect(child);
    let starts = 0;
    createInterface({ input: child.stderr! }).on('line', (l) => {
      if (l.startsWith('creating ') && ++starts === 4) child.kill('SIGINT');
    });
    const stopped = await done;
    assert.equal(stopped.code, 130, stopped.stdout + stopped.stderr);
    assert.match(stopped.stderr, /stopping: no new work starts/);
    assert.match(
      stopped.stdout,
      /Apply stopped: \d+ created, 0 updated, 0 deleted; \d+ not started\. Run the same command again to finish\./,
    );
    const created = stopped.stderr.split('\n').filter((l) => l.startsWith('✓ created')).length;
    const started = stopped.stderr.split('\n').filter((l) => l.startsWith('creating ')).length;
    assert.equal(created, started, 'what was in flight finished');
    assert.ok(created < 21);

    const again = await runCli(['apply', '--yes'], { cwd, aws: t.aws });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`Apply complete: ${21 - created} created`));
    assert.deepEqual(counts(await inventory(t.boto, 'radpress', { prefix: 'radpress' })), DECLARED);
  });
});
