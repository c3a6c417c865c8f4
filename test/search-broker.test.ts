// Issue 14 parts 1 and 2 on the local AWS: examples/blog with `search:` and `workers.broker: rabbitmq`. The
// domain admits the app's role alone and the app finds it as OPENSEARCH_URL; Celery gets the Amazon MQ broker's
// URL as a secret from Parameter Store, never in the task definition; no SQS queue is made. Checked with boto3.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { resourceTypes } from '../src/aws/registry.js';
import { parseManifest } from '../src/config/load-manifest.js';
import { Engine } from '../src/core/engine.js';
import { awsBlueprint } from '../src/django/blueprint/index.js';
import { assertNoChanges, useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const t = useLocalAws({ env: { MOTO_ECS_SERVICE_RUNNING: '2' } });
const STACK = 'blog-production';
const ACCOUNT = '123456789012';
const IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/${STACK}-app:v1`;

// biome-ignore lint/suspicious/noExplicitAny: a YAML document edited as the user would
async function blog(change: (doc: Record<string, any>) => void) {
  const path = join(repoRoot, 'examples', 'blog', 'touchdown.yml');
  const doc = parse(await readFile(path, 'utf8'));
  change(doc);
  return parseManifest(stringify(doc), path);
}

const engine = (loaded: Awaited<ReturnType<typeof blog>>) =>
  new Engine({
    stack: awsBlueprint(loaded, {
      region: 'us-east-1',
      account: ACCOUNT,
      zones: ['us-east-1a', 'us-east-1b'],
      image: IMAGE,
    }),
    registry: resourceTypes,
    aws: t.aws.clients(),
    events: () => {},
    timing: { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 },
  });

async function taskDefinition(family: string) {
  const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', { taskDefinition: family });
  return taskDefinition.containerDefinitions[0] as {
    environment: { name: string; value: string }[];
    secrets: { name: string; valueFrom: string }[];
  };
}

async function ingressOf(address: string) {
  const { SecurityGroups } = await t.boto.call('ec2', 'DescribeSecurityGroups', {
    Filters: [{ Name: 'tag:touchdown:resource', Values: [address] }],
  });
  return SecurityGroups[0] as {
    GroupId: string;
    IpPermissions: {
      FromPort: number;
      ToPort: number;
      IpRanges: unknown[];
      UserIdGroupPairs: { GroupId: string }[];
    }[];
  };
}

describe('search and RabbitMQ on AWS', () => {
  it('wires the OpenSearch domain and the Amazon MQ broker to the app, by reference and least privilege', async () => {
    const loaded = await blog((doc) => {
      doc.search = { nodes: 2 };
      doc.workers.broker = 'rabbitmq';
      // moto reports MOTO_ECS_SERVICE_RUNNING tasks for every service: each service asks for that many.
      doc.workers.default.count = 2;
    });
    const { report } = await engine(loaded).apply();
    assert.deepEqual(report?.failed ?? [], [], 'no operation fails');

    // The domain: both zones' private db subnets, its own group open to the app's group on 443 only.
    const { DomainStatus: d } = await t.boto.call('opensearch', 'DescribeDomain', {
      DomainName: `${STACK}-search`,
    });
    const { Role } = await t.boto.call('iam', 'GetRole', { RoleName: `${STACK}-app-us-east-1` });
    assert.deepEqual(JSON.parse(d.AccessPolicies).Statement, [
      { Effect: 'Allow', Principal: { AWS: [Role.Arn] }, Action: 'es:ESHttp*', Resource: `${d.ARN}/*` },
    ]);
    assert.equal(d.ClusterConfig.InstanceCount, 2);
    assert.equal(d.ClusterConfig.ZoneAwarenessEnabled, true);
    assert.deepEqual([...d.VPCOptions.AvailabilityZones].sort(), ['us-east-1a', 'us-east-1b']);
    const app = await ingressOf('security-group.main/app');
    const search = await ingressOf('security-group.main/search');
    assert.deepEqual(d.VPCOptions.SecurityGroupIds, [search.GroupId]);
    assert.deepEqual(
      search.IpPermissions.map((p) => [
        p.FromPort,
        p.ToPort,
        p.IpRanges.length,
        p.UserIdGroupPairs.map((g) => g.GroupId),
      ]),
      [[443, 443, 0, [app.GroupId]]],
    );
    // The role may sign requests to the domain's indexes.
    const { PolicyDocument } = await t.boto.call('iam', 'GetRolePolicy', {
      RoleName: `${STACK}-app-us-east-1`,
      PolicyName: 'app',
    });
    const doc =
      typeof PolicyDocument === 'string' ? JSON.parse(decodeURIComponent(PolicyDocument)) : PolicyDocument;
    assert.ok(
      doc.Statement.some(
        (s: { Action: unknown; Resource: unknown }) =>
          s.Action === 'es:ESHttp*' && s.Resource === `${d.ARN}/*`,
      ),
      'the app role may call the domain',
    );

    // The broker: private, one node in the first zone, AMQPS from the app's group only.
    const { BrokerSummaries } = await t.boto.call('mq', 'ListBrokers', {});
    assert.equal(BrokerSummaries.length, 1);
    const b = await t.boto.call('mq', 'DescribeBroker', { BrokerId: BrokerSummaries[0].BrokerId });
    assert.equal(b.PubliclyAccessible, false);
    assert.equal(b.DeploymentMode, 'SINGLE_INSTANCE');
    const broker = await ingressOf('security-group.main/broker');
    assert.deepEqual(b.SecurityGroups, [broker.GroupId]);
    assert.deepEqual(
      broker.IpPermissions.map((p) => [p.FromPort, p.ToPort, p.UserIdGroupPairs.map((g) => g.GroupId)]),
      [[5671, 5671, [app.GroupId]]],
    );

    // What each process gets: the search URL in its environment, the broker URL as a secret only.
    const url = `arn:aws:ssm:us-east-1:${ACCOUNT}:parameter/blog/production/CELERY_BROKER_URL`;
    for (const family of [`${STACK}-web`, `${STACK}-worker-default`, `${STACK}-release`]) {
      const c = await taskDefinition(family);
      const env = Object.fromEntries(c.environment.map((e) => [e.name, e.value]));
      assert.equal(env.OPENSEARCH_URL, `https://${d.Endpoints.vpc}`, family);
      assert.equal(env.CELERY_BROKER_URL, undefined, `${family}: no broker URL in the environment`);
      assert.equal(env.CELERY_BROKER_TRANSPORT_OPTIONS, undefined, family);
      assert.equal(c.secrets.find((s) => s.name === 'CELERY_BROKER_URL')?.valueFrom, url, family);
    }
    const { Parameter } = await t.boto.call('ssm', 'GetParameter', {
      Name: '/blog/production/CELERY_BROKER_URL',
      WithDecryption: true,
    });
    assert.equal(Parameter.Type, 'SecureString');
    assert.match(
      Parameter.Value,
      new RegExp(`^amqps://app:[A-Za-z0-9_-]{32}@b-${b.BrokerId}\\.mq\\.us-east-1\\.amazonaws\\.com:5671$`),
    );
    const { QueueUrls } = await t.boto.call('sqs', 'ListQueues', {});
    assert.equal(QueueUrls, undefined, 'no SQS queue with RabbitMQ as the broker');

    assertNoChanges((await engine(loaded).plan()).plan);
  });

  it('refuses a search that cannot spread over the zones, and RabbitMQ clusters on mq.t3, naming the line', async () => {
    await assert.rejects(
      blog((doc) => {
        doc.search = { nodes: 3 };
        doc.workers.broker = { engine: 'rabbitmq', cluster: true };
      }),
      (err: Error & { problems?: string[] }) => {
        const text = (err.problems ?? [err.message]).join('\n');
        assert.match(text, /search\.nodes.*3 nodes do not spread evenly over network\.azs \(2\)/);
        assert.match(text, /workers\.broker\.instance.*mq\.t3\.micro runs a single node/);
        return true;
      },
    );
    await assert.rejects(
      blog((doc) => {
        doc.workers.broker = 'kafka';
      }),
      /touchdown\.yml:\d+:\d+: workers\.broker: write sqs, rabbitmq, or \{ engine: rabbitmq, cluster: true/,
    );
  });
});
