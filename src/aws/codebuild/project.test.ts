import assert from 'node:assert/strict';
import { it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { Role } from '../iam/role.js';
import { LogGroup } from '../logs/log-group.js';
import { AwsStack } from '../stack.js';
import { CodeBuildProject } from './project.js';

const t = useLocalAws({ declaredTypesOnly: true });

const trust = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'codebuild.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
};

function stack(o: { computeType?: 'BUILD_GENERAL1_SMALL' | 'BUILD_GENERAL1_MEDIUM'; stage?: string } = {}) {
  const aws = new AwsStack('cb-test');
  const role = aws.add(Role, { name: 'cb-test-build', assumeRolePolicy: trust });
  const logs = aws.add(LogGroup, { name: 'build', retentionDays: 30 });
  aws.add(CodeBuildProject, {
    name: 'deploy',
    sourceType: 'GITHUB',
    sourceLocation: 'https://github.com/octo/blog.git',
    sourceVersion: 'main',
    privilegedMode: true,
    computeType: o.computeType,
    environment: { TOUCHDOWN_STAGE: o.stage ?? 'production' },
    serviceRole: role.arn,
    logGroupName: logs.name,
    tags: { team: 'web' },
  });
  return aws;
}

interface Project {
  name: string;
  serviceRole: string;
  source: { type: string; location: string; buildspec: string };
  sourceVersion: string;
  environment: {
    privilegedMode: boolean;
    computeType: string;
    image: string;
    environmentVariables: { name: string; value: string; type: string }[];
  };
  logsConfig: { cloudWatchLogs: { status: string; groupName: string } };
  tags: { key: string; value: string }[];
}

async function project(): Promise<Project | undefined> {
  const { projects } = await t.boto.call<{ projects: Project[] }>('codebuild', 'BatchGetProjects', {
    names: ['cb-test-deploy'],
  });
  return projects[0];
}

it('creates a privileged project with its own role, logs and source, then plans nothing', async () => {
  await t.apply(stack());
  const p = await project();
  assert.ok(p, 'boto3 finds the project');
  assert.equal(p.serviceRole, 'arn:aws:iam::123456789012:role/cb-test-build-us-east-1');
  assert.equal(p.environment.privilegedMode, true);
  assert.equal(p.environment.computeType, 'BUILD_GENERAL1_SMALL');
  assert.match(p.environment.image, /^aws\/codebuild\/amazonlinux-x86_64-standard:/);
  assert.deepEqual(p.environment.environmentVariables, [
    { name: 'TOUCHDOWN_STAGE', value: 'production', type: 'PLAINTEXT' },
  ]);
  assert.deepEqual(p.source, {
    type: 'GITHUB',
    location: 'https://github.com/octo/blog.git',
    buildspec: 'buildspec.yml',
  });
  assert.equal(p.sourceVersion, 'main');
  assert.deepEqual(p.logsConfig.cloudWatchLogs, { status: 'ENABLED', groupName: '/cb-test/build' });
  const tags = Object.fromEntries(p.tags.map((tag) => [tag.key, tag.value]));
  assert.equal(tags['touchdown:stack'], 'cb-test');
  assert.equal(tags.team, 'web');
  assertNoChanges(await t.plan(stack()));
});

it('changes the environment in place', async () => {
  await t.apply(stack());
  const next = stack({ computeType: 'BUILD_GENERAL1_MEDIUM', stage: 'staging' });
  assert.equal(actions(await t.plan(next))['codebuild-project.deploy'], 'update');
  await t.apply(next);
  const p = await project();
  assert.equal(p?.environment.computeType, 'BUILD_GENERAL1_MEDIUM');
  assert.equal(p?.environment.environmentVariables[0]?.value, 'staging');
  assert.equal(p?.environment.privilegedMode, true);
  assertNoChanges(await t.plan(next));
});

it('deleted behind Touchdown’s back, it is planned as a create; no longer declared, it is deleted', async () => {
  await t.apply(stack());
  await t.boto.call('codebuild', 'DeleteProject', { name: 'cb-test-deploy' });
  assert.equal(actions(await t.plan(stack()))['codebuild-project.deploy'], 'create');
  await t.apply(stack());
  const without = new AwsStack('cb-test');
  await t.apply(without);
  assert.equal(await project(), undefined, 'boto3 finds it deleted');
});
