// Every create, addition and delete of an xkcd deploy and destroy loses its first answer after AWS carried it
// out (test/support/aws-model/lost-answers.ts), as a dropped connection or a timeout does on AWS: the retry
// must adopt what the first attempt made, never fail on it nor make a second one, and a delete whose retry
// finds the thing gone is done. boto3, reading moto directly, counts what exists.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loseFirstAnswers } from '../support/aws-model/lost-answers.js';
import { type AwsModel, startAwsModel } from '../support/aws-model/proxy.js';
import { runCli } from '../support/cli.js';
import { assertServes, declared, deployArgs, found, saveFigures, useAppAws, xkcdApp } from './app.js';

// AWS times (an RDS instance creating for 6 minutes) pass 600 times faster: the waits still see them.
const SPEEDUP = 600;

const t = useAppAws();
let model: AwsModel | undefined;
after(async () => {
  await model?.stop();
});

describe('deploy and destroy when the first answer of every create and delete is lost', () => {
  it('both finish; the re-plan is empty; each resource exists once, then not at all', {
    timeout: 300_000,
  }, async (tc) => {
    const lost = loseFirstAnswers();
    model = await startAwsModel({ upstream: t.aws.endpoint, speedup: SPEEDUP, faultOf: lost.faultOf });
    const aws = { ...t.aws, env: { ...t.aws.env, AWS_ENDPOINT_URL: model.endpoint } };
    const a = await xkcdApp('lost');
    const cli = (...args: string[]) => runCli(args, { cwd: a.cwd, aws });
    const v1 = a.image('v1');

    const deployed = await cli(...deployArgs(v1));
    assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
    const lostInDeploy = lost.calls();
    const replan = await cli('plan', '--detailed-exitcode');
    assert.equal(replan.code, 0, `the re-plan is empty:\n${replan.stdout}${replan.stderr}`);
    assert.deepEqual(
      await found(t.boto, a),
      await declared(a, v1),
      'exactly the declared resources, each once',
    );
    await assertServes(t.boto, a.stack, v1);

    const destroyed = await cli('destroy', '--yes', '--force');
    assert.equal(destroyed.code, 0, destroyed.stdout + destroyed.stderr);
    const left = Object.entries(await found(t.boto, a)).filter(([, n]) => n > 0);
    assert.deepEqual(Object.fromEntries(left), {});
    const { DBSnapshots } = await t.boto.call('rds', 'DescribeDBSnapshots', {
      DBInstanceIdentifier: `${a.stack}-db`,
    });
    assert.equal(DBSnapshots.length, 1, 'one final snapshot of the database');

    const lostInDestroy = lost.calls().slice(lostInDeploy.length);
    const figures = {
      deploy: count(lostInDeploy),
      destroy: count(lostInDestroy),
      calls: model.stats().calls,
    };
    tc.diagnostic(JSON.stringify(figures));
    await saveFigures('lost-answers', figures);
    // The mode reached the calls it is for: the database's create and delete lost their first answers.
    assert.ok(lostInDeploy.includes('rds:CreateDBInstance'), lostInDeploy.join(', '));
    assert.ok(lostInDestroy.includes('rds:DeleteDBInstance'), lostInDestroy.join(', '));
  });
});

function count(calls: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c] = (out[c] ?? 0) + 1;
  return out;
}
