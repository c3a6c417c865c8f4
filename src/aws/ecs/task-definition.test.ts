import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import { ConfigError } from '../../core/errors.js';
import { SsmParameter } from '../ssm/parameter.js';
import { AwsStack } from '../stack.js';
import { fargateSizeProblems, TaskDefinition } from './task-definition.js';

const t = useLocalAws({ declaredTypesOnly: true });
const STACK = 'td-test';
const FAMILY = 'td-test-web';
const ROLE = 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole';

type Args = Partial<ArgsInput<typeof TaskDefinition.fields>>;
type ContainerArgs = Partial<NonNullable<Args['containers']>[number]>;

/** A Django web container whose secret key is an SSM SecureString, passed by reference. */
function stack(container: ContainerArgs = {}, args: Args = {}) {
  const aws = new AwsStack(STACK);
  const secretKey = aws.add(SsmParameter, { name: '/td-test/DJANGO_SECRET_KEY', type: 'SecureString' });
  aws.add(TaskDefinition, {
    name: 'web',
    executionRoleArn: ROLE,
    containers: [
      {
        name: 'django',
        image: 'example/xkcd:v1',
        command: ['gunicorn', 'xkcd_app.wsgi', '-b', '0.0.0.0:8000'],
        portMappings: [{ containerPort: 8000 }],
        environment: { ALLOWED_HOSTS: 'xkcd.example.com' },
        secrets: { DJANGO_SECRET_KEY: secretKey.arn },
        healthCheck: { command: ['CMD-SHELL', 'curl -fs http://localhost:8000/ || exit 1'] },
        logGroup: '/td-test/web',
        ...container,
      },
    ],
    ...args,
  });
  return aws;
}

interface BotoContainer {
  name: string;
  image: string;
  memory: number;
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

async function describeRevision(revision: number) {
  return t.boto.call('ecs', 'DescribeTaskDefinition', {
    taskDefinition: `${FAMILY}:${revision}`,
    include: ['TAGS'],
  });
}

async function revisions(status: 'ACTIVE' | 'INACTIVE'): Promise<number[]> {
  const { taskDefinitionArns } = await t.boto.call('ecs', 'ListTaskDefinitions', {
    familyPrefix: FAMILY,
    status,
  });
  return (taskDefinitionArns as string[]).map((a) => Number(a.split(':').at(-1))).sort();
}

describe('ECS task definition', () => {
  it('is registered with its containers, secrets by reference only and tags, and a second plan shows no changes', async () => {
    const plan = await t.apply(stack({}, { tags: { team: 'web' } }));
    assert.equal(actions(plan)['task-definition.web'], 'create');
    const { taskDefinition: td, tags } = await describeRevision(1);
    assert.equal(td.family, FAMILY);
    assert.deepEqual([td.cpu, td.memory, td.networkMode], ['256', '512', 'awsvpc']);
    assert.deepEqual(td.requiresCompatibilities, ['FARGATE']);
    const [c] = td.containerDefinitions as BotoContainer[];
    const { Parameter } = await t.boto.call('ssm', 'GetParameter', { Name: '/td-test/DJANGO_SECRET_KEY' });
    assert.deepEqual(c!.secrets, [{ name: 'DJANGO_SECRET_KEY', valueFrom: Parameter.ARN }]);
    assert.deepEqual(c!.environment, [{ name: 'ALLOWED_HOSTS', value: 'xkcd.example.com' }]);
    const { Parameter: secret } = await t.boto.call('ssm', 'GetParameter', {
      Name: '/td-test/DJANGO_SECRET_KEY',
      WithDecryption: true,
    });
    assert.ok(
      !JSON.stringify(td).includes(secret.Value),
      'the secret value appears nowhere in the task definition',
    );
    assert.equal(c!.memory, 512, 'a container without a memory limit gets the task memory');
    assert.deepEqual(c!.logConfiguration, {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': '/td-test/web',
        'awslogs-region': 'us-east-1',
        'awslogs-stream-prefix': 'ecs',
      },
    });
    assert.deepEqual(
      Object.fromEntries((tags as { key: string; value: string }[]).map((x) => [x.key, x.value])),
      {
        'touchdown:stack': STACK,
        'touchdown:resource': 'task-definition.web',
        'touchdown:region': 'us-east-1',
        team: 'web',
      },
    );
    assertNoChanges(await t.plan(stack({}, { tags: { team: 'web' } })));
  });

  it('registers a new revision for a change and deregisters the old one; the plan shows an update', async () => {
    await t.apply(stack());
    const plan = await t.plan(stack({ image: 'example/xkcd:v2' }, { cpu: 512, memory: 1024 }));
    const change = plan.resources.find((r) => r.address === 'task-definition.web')!;
    assert.equal(change.action, 'update');
    assert.deepEqual(change.changes.map((c) => c.name).sort(), ['containers', 'cpu', 'memory']);
    await t.apply(stack({ image: 'example/xkcd:v2' }, { cpu: 512, memory: 1024 }));
    assert.deepEqual(await revisions('ACTIVE'), [2]);
    assert.deepEqual(await revisions('INACTIVE'), [1]);
    const { taskDefinition: td } = await describeRevision(2);
    assert.equal(td.containerDefinitions[0].image, 'example/xkcd:v2');
    assert.equal(td.memory, '1024');
    assertNoChanges(await t.plan(stack({ image: 'example/xkcd:v2' }, { cpu: 512, memory: 1024 })));

    // Tags alone change the current revision: no new one, nothing to redeploy.
    await t.apply(stack({ image: 'example/xkcd:v2' }, { cpu: 512, memory: 1024, tags: { env: 'prod' } }));
    assert.deepEqual(await revisions('ACTIVE'), [2]);
    const { tags } = await describeRevision(2);
    assert.ok((tags as { key: string; value: string }[]).some((x) => x.key === 'env' && x.value === 'prod'));
  });

  // Nothing forces a replacement: the family stays, every change is a new revision (above).

  it('is registered again after its revision is deregistered outside Touchdown', async () => {
    await t.apply(stack());
    await t.boto.call('ecs', 'DeregisterTaskDefinition', { taskDefinition: `${FAMILY}:1` });
    assert.equal(actions(await t.plan(stack()))['task-definition.web'], 'create');
    await t.apply(stack());
    assert.deepEqual(await revisions('ACTIVE'), [2]);
  });

  it('is put back after a revision is registered outside Touchdown', async () => {
    await t.apply(stack());
    const { taskDefinition: td } = await describeRevision(1);
    const { taskDefinitionArn, revision, status, compatibilities, registeredAt, registeredBy, ...same } = td;
    same.containerDefinitions[0].image = 'example/xkcd:hotfix';
    await t.boto.call('ecs', 'RegisterTaskDefinition', same);
    const plan = await t.plan(stack());
    const change = plan.resources.find((r) => r.address === 'task-definition.web')!;
    assert.equal(change.action, 'update');
    assert.deepEqual(
      change.changes.map((c) => c.name),
      ['containers'],
    );
    await t.apply(stack());
    assert.deepEqual(await revisions('ACTIVE'), [3], 'only the declared revision stays active');
    assert.deepEqual(await revisions('INACTIVE'), [1, 2]);
    const { taskDefinition: now } = await describeRevision(3);
    assert.equal(now.containerDefinitions[0].image, 'example/xkcd:v1');
  });

  it('deregisters and deletes every revision on destroy', async () => {
    await t.apply(stack());
    await t.apply(stack({ image: 'example/xkcd:v2' }));
    const plan = await t.destroy(stack());
    assert.equal(actions(plan)['task-definition.web'], 'delete');
    assert.deepEqual(await revisions('ACTIVE'), []);
    assert.deepEqual(await revisions('INACTIVE'), []);
  });

  it('registers for EC2 instances alone, where Fargate’s sizes do not apply; a second plan shows no changes', async () => {
    const ec2 = (image = 'example/xkcd:v1') =>
      stack({ image }, { compatibilities: ['EC2'], cpu: 256, memory: 4096 });
    await t.apply(ec2());
    const { taskDefinition } = await describeRevision(1);
    assert.deepEqual(taskDefinition.requiresCompatibilities, ['EC2']);
    assert.equal(taskDefinition.networkMode, 'awsvpc');
    assert.equal(taskDefinition.memory, '4096');
    assertNoChanges(await t.plan(ec2()));
    // Back to Fargate is a new revision, and Fargate's sizes count again.
    assert.throws(
      () => stack({}, { compatibilities: ['EC2', 'FARGATE'], memory: 4096 }).check(),
      /Fargate takes/,
    );
  });

  it('runs on Graviton with runtimePlatform ARM64, read back the same; back to X86_64 is a new revision', async () => {
    const graviton = stack({}, { runtimePlatform: { cpuArchitecture: 'ARM64' } });
    await t.apply(graviton);
    const { taskDefinition } = await describeRevision(1);
    assert.deepEqual(taskDefinition.runtimePlatform, {
      cpuArchitecture: 'ARM64',
      operatingSystemFamily: 'LINUX',
    });
    assertNoChanges(await t.plan(stack({}, { runtimePlatform: { cpuArchitecture: 'ARM64' } })));
    const back = await t.plan(stack());
    assert.equal(actions(back)['task-definition.web'], 'update');
    await t.apply(stack());
    assert.deepEqual(await revisions('ACTIVE'), [2]);
    assert.equal(
      (await describeRevision(2)).taskDefinition.runtimePlatform,
      undefined,
      "ECS's default, X86_64",
    );
    assertNoChanges(await t.plan(stack()));
  });

  it('refuses secrets in plain environment values and Fargate sizes AWS does not run', () => {
    const aws = stack(
      { environment: { DATABASE_PASSWORD: 'hunter2', CACHE_KEY_PREFIX: 'xkcd' } },
      { cpu: 256, memory: 4096 },
    );
    assert.throws(
      () => aws.check(),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 2, err.problems.join('\n'));
        assert.match(
          err.problems[0]!,
          /with cpu 256, Fargate takes memory 512, 1024, 2048 \(MiB\), not 4096/,
        );
        assert.match(err.problems[1]!, /environment\.DATABASE_PASSWORD: looks like a secret.*"secrets"/);
        return true;
      },
    );
    assert.deepEqual(fargateSizeProblems(1024, 3072), []);
    assert.match(fargateSizeProblems(1024, 1024)[0]!, /2048 to 8192 MiB in steps of 1024/);
    assert.match(fargateSizeProblems(300, 512)[0]!, /256, 512, 1024/);
  });
});
