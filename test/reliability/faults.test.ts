// A full xkcd deploy and a destroy through the AWS model (test/support/aws-model) at 5% throttling, 2% server
// errors and 1% connection resets (half of them after the call took effect): both finish, the re-plan is
// empty, and boto3, reading moto directly, finds exactly the declared resources, then nothing orphaned.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type AwsModel, startAwsModel } from '../support/aws-model/proxy.js';
import { runCli } from '../support/cli.js';
import { assertServes, declared, deployArgs, found, saveFigures, useAppAws, xkcdApp } from './app.js';

const SEED = Number(process.env.TOUCHDOWN_RELIABILITY_SEED ?? 604);
const FAULTS = { throttle: 0.05, serverError: 0.02, reset: 0.01 };
// AWS times (an RDS instance creating for 6 minutes) pass 600 times faster: the waits still see them.
const SPEEDUP = 600;

const t = useAppAws();
let model: AwsModel | undefined;
after(async () => {
  await model?.stop();
});

describe('deploy and destroy while AWS throttles, fails and drops connections', () => {
  it('both finish; the re-plan is empty; nothing is orphaned', { timeout: 300_000 }, async (tc) => {
    model = await startAwsModel({ upstream: t.aws.endpoint, speedup: SPEEDUP, faults: FAULTS, seed: SEED });
    const aws = { ...t.aws, env: { ...t.aws.env, AWS_ENDPOINT_URL: model.endpoint } };
    const a = await xkcdApp('faults');
    const cli = (...args: string[]) => runCli(args, { cwd: a.cwd, aws });
    const v1 = a.image('v1');
    const started = Date.now();

    const deployed = await cli(...deployArgs(v1));
    assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
    const deployMs = Date.now() - started;
    const replan = await cli('plan', '--detailed-exitcode');
    assert.equal(replan.code, 0, `the re-plan is empty:\n${replan.stdout}${replan.stderr}`);
    const afterDeploy = model.stats();
    // boto3 reads moto directly: what the model answered is not taken on trust.
    assert.deepEqual(
      await found(t.boto, a),
      await declared(a, v1),
      'exactly the declared resources, each once',
    );
    await assertServes(t.boto, a.stack, v1);

    // The database always holds data: destroying it takes --force, and leaves a final snapshot.
    const destroyed = await cli('destroy', '--yes', '--force');
    const stats = model.stats();
    assert.equal(destroyed.code, 0, destroyed.stdout + destroyed.stderr);
    // Nothing may fail.
    const failures = destroyed.stdout.split('\n').filter((l) => l.trim().startsWith('✗'));
    assert.deepEqual(
      failures.map((l) => /✗ deleting ([^:]+):/.exec(l)?.[1]),
      [],
      destroyed.stdout,
    );
    const left = Object.entries(await found(t.boto, a)).filter(([, n]) => n > 0);
    assert.deepEqual(Object.fromEntries(left), {});
    const { DBSnapshots } = await t.boto.call('rds', 'DescribeDBSnapshots', {
      DBInstanceIdentifier: `${a.stack}-db`,
    });
    assert.equal(DBSnapshots.length, 1, 'a final snapshot of the database');

    const figures = {
      seed: SEED,
      rates: FAULTS,
      speedup: SPEEDUP,
      deploy: { ms: deployMs, calls: afterDeploy.calls, faults: afterDeploy.faults },
      total: { ms: Date.now() - started, calls: stats.calls, faults: stats.faults },
    };
    tc.diagnostic(JSON.stringify(figures));
    await saveFigures('faults', figures);
    for (const kind of ['throttle', 'serverError', 'reset']) {
      assert.ok(
        (stats.faults[kind] ?? 0) > 0,
        `the run met at least one ${kind}: ${JSON.stringify(stats.faults)}`,
      );
    }
  });
});
