// No silent action (issue 12): commands that change something ask or need --yes, flags that do not apply are
// refused, scale's counts last, secrets say where they go, operations always say something, and a terminal
// keeps every line. One xkcd stack on the local AWS, deployed once for the whole file; checked with boto3.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Boto } from './support/boto.js';
import { collect, copyOfExample, projectWith, runCli, startCli, touchdownBin } from './support/cli.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';
import { anotherRun, takeOverLock } from './support/lock.js';
import { venvPython } from './support/paths.js';

const run = promisify(execFile);
const IMAGE = (tag: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:${tag}`;
const cwd = await copyOfExample('xkcd', ['touchdown.yml']);
// Without web.autoscaling, web's count is touchdown.yml's or scale's (autoscaled counts: src/django/counts.test.ts).
const manifest = join(cwd, 'touchdown.yml');
await writeFile(manifest, (await readFile(manifest, 'utf8')).replace(/^ {2}autoscaling: .*\n/m, ''));
let aws: LocalAws;
let boto: Boto;
const cli = (...args: string[]) => runCli(args, { cwd, aws });

async function web() {
  const { services } = await boto.call('ecs', 'DescribeServices', {
    cluster: 'xkcd-production-main',
    services: ['xkcd-production-web'],
  });
  const { taskDefinition } = await boto.call('ecs', 'DescribeTaskDefinition', {
    taskDefinition: services[0].taskDefinition,
  });
  return { desired: services[0].desiredCount as number, image: taskDefinition.containerDefinitions[0].image };
}

async function releases(): Promise<number> {
  const { Parameters } = await boto.call('ssm', 'GetParametersByPath', {
    Path: '/touchdown/xkcd-production/releases/',
  });
  return Parameters.length;
}

describe('no silent action on a deployed app', () => {
  before(async () => {
    // One stack for every case below (a deploy takes a minute on the local AWS): no wipe between them.
    aws = await startLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
    boto = new Boto(aws.endpoint, aws.region);
    for (const tag of ['v1', 'v2']) {
      const deployed = await cli('deploy', '--image', IMAGE(tag), '--yes');
      assert.equal(deployed.code, 0, deployed.stderr);
    }
  });
  after(async () => {
    boto?.close();
    await aws?.stop();
  });

  for (const count of ['100000', '0']) {
    it(`scale web=${count} without --yes, stdin not a terminal, changes nothing`, async () => {
      const r = await cli('scale', `web=${count}`);
      assert.equal(r.code, 1);
      assert.match(r.stderr, count === '0' ? /pass --yes/ : /at most 5000 tasks per service/);
      if (count === '0') assert.match(r.stdout, /web: 2 → 0 tasks \(the app stops serving\)/);
      assert.equal((await web()).desired, 2, 'the web service still runs its 2 tasks');
    });
  }

  it('rollback without --yes, stdin not a terminal, changes nothing', async () => {
    const before = await releases();
    const r = await cli('rollback');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pass --yes/);
    assert.match(r.stdout, /Release 1 .* will serve again, instead of release 2/);
    assert.equal((await web()).image, IMAGE('v2'), 'release 2 still serves');
    assert.equal(await releases(), before, 'no release recorded');
  });

  it('--stage with a touchdown.config.ts is refused, not ignored', async () => {
    const dir = await projectWith(
      `import { defineStack } from 'touchdown';\nexport default defineStack('flags', (aws) => { aws.addVpc({ name: 'main', cidrBlock: '10.9.0.0/16' }); });\n`,
    );
    const r = await runCli(['plan', '--stage', 'staging'], { cwd: dir, aws });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /--stage applies to touchdown\.yml; touchdown\.config\.ts has no stages: pass --stack NAME/,
    );
  });

  it('--stack with touchdown.yml is refused, not ignored', async () => {
    const r = await cli('plan', '--stack', 'other');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--stack does not apply to touchdown\.yml: .* pass --stage NAME/);
  });

  it('scale web=3 lasts across the next deploy, and plan says where the count comes from', async () => {
    const scaled = await cli('scale', 'web=3', '--yes');
    assert.equal(scaled.code, 0, scaled.stderr);
    assert.match(scaled.stdout, /web: \d+ → 3 tasks/);
    const deployed = await cli('deploy', '--image', IMAGE('v3'), '--yes');
    assert.equal(deployed.code, 0, deployed.stderr);
    const after = await web();
    assert.equal(after.image, IMAGE('v3'));
    assert.equal(after.desired, 3, 'the deploy kept the count scale set');
    const plan = await cli('plan');
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /no changes/);
    assert.match(plan.stdout, /web: +3 \(set by touchdown scale at .*; touchdown\.yml says 2\)/);
    const status = JSON.parse((await cli('status', '--json')).stdout);
    assert.equal(status.processes.web.desired, 3);
    assert.equal(status.processes.web.countFrom, 'touchdown scale');
  });

  it("scale waits its turn: another run holding the stack's lock stops it, named, and nothing changes", async () => {
    const before = await web();
    const where = { bucket: 'touchdown-locks-123456789012-us-east-1', stack: 'xkcd-production' };
    await takeOverLock(boto, where, anotherRun('ci-runner-7', 'touchdown deploy'));
    try {
      const r = await cli('scale', 'web=4', '--yes');
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stderr,
        /stack "xkcd-production" is being changed by another run \(touchdown deploy, pid 4242 on ci-runner-7/,
      );
      assert.doesNotMatch(r.stderr, /TOUCHDOWN_DEBUG/, 'not reported as a fault of Touchdown');
      assert.equal((await web()).desired, before.desired);
    } finally {
      await boto.call('s3', 'DeleteObject', {
        Bucket: where.bucket,
        Key: `touchdown/locks/${where.stack}/us-east-1.json`,
      });
    }
  });

  it('secrets set of a name touchdown.yml does not declare says how to declare it', async () => {
    const r = await cli('secrets', 'set', 'STRIPE_KEY', 'sk_test_123');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /does not declare it, so the app does not get it/);
    assert.match(r.stdout, /secrets:\n +- STRIPE_KEY/);
  });

  it("secrets list describes Touchdown's own secrets as generated, not as undeclared", async () => {
    const r = await cli('secrets', 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DATABASE_PASSWORD +set .* Touchdown's own: the database's password/m);
    assert.match(r.stdout, /^DJANGO_SECRET_KEY +set .* Touchdown's own: Django's SECRET_KEY/m);
    assert.match(r.stdout, /^STRIPE_KEY +set .* not in touchdown\.yml/m);
  });

  it('logs with nothing to show says so, for which processes and window', async () => {
    const r = await cli('logs', '--since', '5m', '--process', 'web');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no log lines from web in the last 5m \(\S+Z to \S+Z\)/);
  });

  it('manage prints the exit code', async () => {
    const r = await cli('manage', 'check', '--deploy');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /manage\.py check --deploy exited with code 0/);
  });

  it('releases lists what rollback takes; rollback of an unknown number points at it', async () => {
    const r = await cli('releases');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ +3 +live +\S+ \S+Z +\S+:v3$/m);
    assert.match(r.stdout, /^ +1 +superseded .*:v1$/m);
    assert.match(r.stdout, /by arn:aws:/);
    const unknown = await cli('rollback', '7', '--yes');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no release 7; touchdown releases lists them/);
  });

  it("manage prints the command's output while it runs, not after", async () => {
    const cluster = 'xkcd-production-main';
    // The task keeps running until the test stops it.
    await aws.setTransition('ecs::task', { progression: 'manual', times: 1_000_000 });
    try {
      const child = startCli(['manage', 'showmigrations'], { cwd, aws });
      const done = collect(child);
      let shown = '';
      child.stdout!.on('data', (d) => (shown += d));
      const running = async () => {
        const { taskArns } = await boto.call('ecs', 'ListTasks', { cluster, desiredStatus: 'RUNNING' });
        if (taskArns.length === 0) return undefined;
        const { tasks } = await boto.call('ecs', 'DescribeTasks', { cluster, tasks: taskArns });
        // moto leaves a finished task's desiredStatus RUNNING: find this command's own, by its command.
        type Task = { lastStatus: string; overrides?: { containerOverrides?: { command?: string[] }[] } };
        return tasks.find(
          (t: Task) =>
            t.lastStatus === 'RUNNING' &&
            t.overrides?.containerOverrides?.[0]?.command?.includes('showmigrations'),
        );
      };
      const until = async (what: string, check: () => Promise<unknown> | unknown) => {
        for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
          const value = await check();
          if (value) return value;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.fail(`waited 120 s for ${what}; the command printed ${JSON.stringify(shown)}`);
      };
      const task = (await until('the one-off task', running)) as {
        taskArn: string;
        taskDefinitionArn: string;
      };
      // Where the awslogs driver writes the container's output, from the task definition itself.
      const { taskDefinition } = await boto.call('ecs', 'DescribeTaskDefinition', {
        taskDefinition: task.taskDefinitionArn,
      });
      const logs = taskDefinition.containerDefinitions[0].logConfiguration.options;
      const where = {
        logGroupName: logs['awslogs-group'],
        logStreamName: `${logs['awslogs-stream-prefix']}/${taskDefinition.containerDefinitions[0].name}/${task.taskArn.split('/').at(-1)}`,
      };
      await boto.call('logs', 'CreateLogStream', where);
      await boto.call('logs', 'PutLogEvents', {
        ...where,
        logEvents: [{ timestamp: Date.now(), message: 'comics\n [X] 0001_initial' }],
      });
      await until('the line on the terminal', () => shown.includes('[X] 0001_initial'));
      assert.ok(await running(), 'the line came while the command still ran');
      await boto.call('ecs', 'StopTask', { cluster, task: task.taskArn, reason: 'test' });
      const ended = await done;
      assert.match(
        ended.stderr,
        /manage\.py showmigrations (exited with code \d+|stopped without an exit code)/,
      );
      assert.equal(ended.stdout.split('[X] 0001_initial').length, 2, 'each line printed once');
    } finally {
      await aws.setTransition('ecs::task', { progression: 'immediate' });
    }
  });

  it('destroy says what happens to each data store in its plan, before it asks', async () => {
    const r = await cli('destroy', '--force');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pass --yes/);
    assert.match(r.stdout, /- +db-instance\.db .*\n +data store: deleted with whatever it holds \(--force\)/);
    assert.match(r.stdout, /- +bucket\.\S*media\S* .*\n +data store: deleted with whatever it holds/);
    const { DBInstances } = await boto.call('rds', 'DescribeDBInstances');
    assert.equal(DBInstances.length, 1, 'nothing was deleted');
  });

  it('a secret typed at the prompt in a terminal never appears in what the terminal shows', async () => {
    const secret = 'typed-Secret-4711';
    // A real pseudo-terminal: Python's pty runs the CLI, types the value and Enter, and returns all it printed.
    const script = `
import os, pty, sys, select
pid, fd = pty.fork()
if pid == 0:
    os.chdir(sys.argv[1])
    os.execvp(sys.argv[2], sys.argv[2:])
shown, typed = b"", False
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        os.kill(pid, 9)
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
    if not typed and b"Value for API_TOKEN" in shown:
        os.write(fd, ${JSON.stringify(secret)}.encode() + b"\\r")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode("utf-8", "replace"))
sys.exit(os.waitstatus_to_exitcode(status))
`;
    const { stdout } = await run(
      venvPython,
      ['-c', script, cwd, process.execPath, touchdownBin, 'secrets', 'set', 'API_TOKEN'],
      { env: { ...process.env, ...aws.env, NO_COLOR: '1' } },
    );
    assert.match(stdout, /Value for API_TOKEN \(not shown as you type\)/);
    assert.match(stdout, /API_TOKEN set/);
    assert.ok(!stdout.includes(secret), `the terminal showed the secret: ${JSON.stringify(stdout)}`);
    const stored = await boto.call('ssm', 'GetParameter', {
      Name: '/xkcd/production/API_TOKEN',
      WithDecryption: true,
    });
    assert.equal(stored.Parameter.Value, secret, 'what was typed is what was stored');
  });

  it('status on a terminal keeps every line it writes (tmux)', async () => {
    const socket = `touchdown-quiet-${process.pid}`;
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args]);
    const env = Object.entries({ ...aws.env, NO_COLOR: '1', AWS_REGION: aws.region })
      .map(([k, v]) => `${k}='${v}'`)
      .join(' ');
    await tmux(
      'new-session',
      '-d',
      '-x',
      '200',
      '-y',
      '50',
      `cd ${cwd} && env ${env} ${process.execPath} ${touchdownBin} status; echo "EXIT=$?"; sleep 300`,
    );
    try {
      let screen = '';
      for (let i = 0; i < 1200 && !/EXIT=\d+/.test(screen); i++) {
        await new Promise((r) => setTimeout(r, 100));
        screen = (await tmux('capture-pane', '-p', '-J', '-S', '-100')).stdout;
      }
      assert.match(screen, /EXIT=0/, screen);
      assert.match(screen, /^xkcd-production \(us-east-1\)$/m, screen);
      assert.match(screen, /release 3: /, screen);
      assert.match(screen, /web: \d\/3 running .*count from touchdown scale/, screen);
      assert.match(screen, /^ {2}infrastructure: up to date$/m, screen);
    } finally {
      await tmux('kill-server').catch(() => {});
    }
  });
});
