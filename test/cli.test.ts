import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { projectWith, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';

const t = useLocalAws();

const CONFIG = `
import { defineStack } from 'touchdown';
export default defineStack('cli-test', (aws) => {
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.9.0.0/16', tags: { team: 'web' } });
  aws.output('vpcId', vpc.id);
  aws.output('vpcArn', vpc.arn, { sensitive: true });
});
`;

async function stackVpcCount(): Promise<number> {
  const r = await t.boto.call('ec2', 'DescribeVpcs', {
    Filters: [{ Name: 'tag:touchdown:stack', Values: ['cli-test'] }],
  });
  return r.Vpcs.length;
}

describe('touchdown command line', () => {
  // One stack through its life, one CLI run a step: each command starts from what the one before made.
  it('plans, refuses to apply without a terminal or --yes, applies, plans no changes, prints outputs (sensitive ones only when asked), destroys', async () => {
    const cwd = await projectWith(CONFIG);
    const opts = { cwd, aws: t.aws };

    const planned = await runCli(['plan', '--detailed-exitcode'], opts);
    assert.equal(planned.code, 2, planned.stderr);
    assert.match(planned.stdout, /\+\s+vpc\.main VPC/);
    assert.match(planned.stdout, /Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged\./);

    const refused = await runCli(['apply'], opts);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /standard input is not a terminal.*pass --yes/);
    assert.equal(await stackVpcCount(), 0, 'nothing was created without confirmation');

    const applied = await runCli(['apply', '--yes'], opts);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stderr, /✓ created vpc\.main \(vpc-/);
    assert.match(applied.stdout, /Apply complete: 1 created/);
    assert.match(applied.stdout, /vpcId = "vpc-/);
    assert.match(applied.stdout, /vpcArn = \(sensitive\)/);
    assert.equal(await stackVpcCount(), 1);

    const again = await runCli(['plan', '--detailed-exitcode'], opts);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /no changes/);

    const outputs = JSON.parse((await runCli(['outputs', '--json'], opts)).stdout);
    assert.match(outputs.vpcId, /^vpc-/);
    assert.deepEqual(outputs.vpcArn, { sensitive: true });
    const revealed = await runCli(['outputs', 'vpcArn', '--reveal'], opts);
    assert.match(revealed.stdout, /^arn:aws:ec2:us-east-1:\d+:vpc\/vpc-/);
    const one = await runCli(['outputs', 'vpcId'], opts);
    assert.equal(one.stdout.trim(), outputs.vpcId);

    const destroyed = await runCli(['destroy', '--yes'], opts);
    assert.equal(destroyed.code, 0, destroyed.stderr);
    assert.match(destroyed.stdout, /Destroy complete: 0 created, 0 updated, 1 deleted/);
    assert.equal(await stackVpcCount(), 0);
  });

  it('prints the plan as JSON and exits 1 on error with --detailed-exitcode', async () => {
    const cwd = await projectWith(CONFIG);
    const json = await runCli(['plan', '--json'], { cwd, aws: t.aws });
    assert.equal(json.code, 0, json.stderr);
    const plan = JSON.parse(json.stdout);
    assert.equal(plan.format, 'touchdown.plan/1');
    assert.deepEqual(
      plan.resources.map((r: { address: string; action: string }) => [r.address, r.action]),
      [['vpc.main', 'create']],
    );
    assert.deepEqual(plan.outputs, { vpcId: { unknown: true }, vpcArn: { unknown: true } });

    const broken = await runCli(['plan', '--detailed-exitcode'], {
      cwd,
      aws: t.aws,
      env: { AWS_ENDPOINT_URL: 'http://localhost:9' },
    });
    assert.equal(broken.code, 1);
  });

  it('reports a configuration error with the fix, and calls nothing', async () => {
    const cwd = await projectWith(`
import { defineStack } from 'touchdown';
export default defineStack('cli-test', (aws) => {
  aws.addVpc({ name: 'main', cidrBlock: '10.9.0.1/16' });
});
`);
    const r = await runCli(['apply', '--yes'], {
      cwd,
      aws: t.aws,
      env: { AWS_ENDPOINT_URL: 'http://localhost:9' },
    });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /vpc\.main: argument "cidrBlock": "10\.9\.0\.1\/16" has host bits set; did you mean 10\.9\.0\.0\/16\?/,
    );
    assert.match(r.stderr, /Nothing was changed in AWS\./);
  });

  it('draws the graph as DOT and Mermaid without AWS', async () => {
    const cwd = await projectWith(CONFIG);
    const dot = await runCli(['graph'], { cwd, aws: t.aws });
    assert.match(dot.stdout, /^digraph "cli-test" \{/);
    const mermaid = await runCli(['graph', '--format', 'mermaid'], { cwd, aws: t.aws });
    assert.match(mermaid.stdout, /^graph LR/);
  });
});
