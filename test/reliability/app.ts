// The xkcd app as the reliability cases use it: private copies under their own names (several stacks share one
// local AWS), what its blueprint declares, what boto3 finds, and which release the services run.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach } from 'node:test';
import { loadManifest } from '../../src/config/load-manifest.js';
import { awsBlueprint } from '../../src/django/blueprint/index.js';
import type { Boto } from '../support/boto.js';
import { copyOfExample } from '../support/cli.js';
import { type TestAws, useLocalAws } from '../support/harness.js';
import { untaggedNetwork } from '../support/inventory.js';
import { repoRoot } from '../support/paths.js';

export const ACCOUNT = '123456789012';
/** The emulator as the app needs it: certificates valid at once, services report their tasks running. */
export const APP_AWS = { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' };

/** One local AWS for a test file (wiped before each case), where one-off tasks stop at their first look. */
export function useAppAws(): TestAws {
  const t = useLocalAws({ env: APP_AWS });
  // After the harness's reset: migrate and collectstatic then take no wall time.
  beforeEach(() => t.aws.setTransition('ecs::task', { progression: 'immediate' }));
  return t;
}

/** `touchdown deploy` of an image built elsewhere, without questions. */
export const deployArgs = (img: string, ...more: string[]) => ['deploy', '--image', img, '--yes', ...more];
const image = (app: string, tag: string) =>
  `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/${app}-production-app:${tag}`;

export interface App {
  app: string;
  /** The URI of this app's image with `tag`, as CI would pass it to `touchdown deploy --image`. */
  image(tag: string): string;
  stack: string;
  /** The app's own domain and zone, so stacks sharing one local AWS never share DNS names. */
  domain: string;
  cwd: string;
}

/** A private copy of examples/xkcd named `app` (2 to 17 characters: load balancer names hold 32). */
export async function xkcdApp(app: string): Promise<App> {
  const cwd = await copyOfExample('xkcd', ['touchdown.yml']);
  const path = join(cwd, 'touchdown.yml');
  const domain = `${app}.example.com`;
  const text = (await readFile(path, 'utf8'))
    .replace(/^app: xkcd$/m, `app: ${app}`)
    .replace(/^ {2}name: xkcd\.example\.com$/m, `  name: ${domain}`)
    .replace(/^ {2}zone: example\.com$/m, `  zone: ${domain}`);
  assert.match(text, new RegExp(`zone: ${domain}`), 'the example still has the shape this copy edits');
  await writeFile(path, text);
  return { app, image: (tag) => image(app, tag), stack: `${app}-production`, domain, cwd };
}

/** How many resources of each kind the app's blueprint declares for a release of `img`. */
export async function declared(a: App, img: string): Promise<Record<string, number>> {
  const loaded = await loadManifest(join(a.cwd, 'touchdown.yml'));
  const stack = awsBlueprint(loaded, {
    region: 'us-east-1',
    account: ACCOUNT,
    zones: ['us-east-1a', 'us-east-1b'],
    image: img,
  });
  const counts: Record<string, number> = { 'nat-gateway': 0, 'elastic-ip': 0 };
  for (const r of stack.resources) {
    const kind = r.address.split('.')[0]!;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return sorted(counts);
}

/**
 * What exists, counted by boto3 kind by kind. Named things are listed by their stack's name prefix, so a
 * second copy without tags would show; EC2 things by tag, with a check that nothing untagged exists at all.
 */
export async function found(boto: Boto, a: App): Promise<Record<string, number>> {
  const { stack } = a;
  const mine = (name: string | undefined) => Boolean(name?.startsWith(`${stack}-`));
  const Filters = [{ Name: 'tag:touchdown:stack', Values: [stack] }];
  const ec2 = async (op: string, key: string, keep: (x: Record<string, unknown>) => boolean = () => true) =>
    ((await boto.call('ec2', op, { Filters }))[key] as Record<string, unknown>[]).filter(keep).length;
  const live = (x: Record<string, unknown>) => !['deleted', 'deleting', 'failed'].includes(String(x.State));
  const c: Record<string, number> = {
    vpc: await ec2('DescribeVpcs', 'Vpcs'),
    subnet: await ec2('DescribeSubnets', 'Subnets'),
    'internet-gateway': await ec2('DescribeInternetGateways', 'InternetGateways'),
    'route-table': await ec2('DescribeRouteTables', 'RouteTables'),
    'gateway-endpoint': await ec2('DescribeVpcEndpoints', 'VpcEndpoints', live),
    'security-group': await ec2('DescribeSecurityGroups', 'SecurityGroups'),
    // moto ignores tag filters on NAT gateways: filter by tag here too.
    'nat-gateway': await ec2(
      'DescribeNatGateways',
      'NatGateways',
      (x) => live(x) && JSON.stringify(x.Tags ?? []).includes(`"${stack}"`),
    ),
    'elastic-ip': await ec2('DescribeAddresses', 'Addresses'),
  };
  const untagged = await untaggedNetwork(boto);
  assert.deepEqual(untagged, [], 'nothing in EC2 was left without its stack tag');

  // The database password parameter belongs to the instance, not to a declared parameter.
  const { Parameters } = await boto.call('ssm', 'DescribeParameters', {
    ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: [`/${a.app}/production/`] }],
    MaxResults: 50,
  });
  c['ssm-parameter'] = Parameters.filter(
    (p: { Name: string }) => !p.Name.endsWith('/DATABASE_PASSWORD'),
  ).length;
  c['db-subnet-group'] = (await boto.call('rds', 'DescribeDBSubnetGroups')).DBSubnetGroups.filter(
    (g: { DBSubnetGroupName: string }) => mine(g.DBSubnetGroupName),
  ).length;
  c['db-instance'] = (await boto.call('rds', 'DescribeDBInstances')).DBInstances.filter(
    (d: { DBInstanceIdentifier: string }) => mine(d.DBInstanceIdentifier),
  ).length;
  c['cache-subnet-group'] = (
    await boto.call('elasticache', 'DescribeCacheSubnetGroups')
  ).CacheSubnetGroups.filter((g: { CacheSubnetGroupName: string }) => mine(g.CacheSubnetGroupName)).length;
  c['replication-group'] = (
    await boto.call('elasticache', 'DescribeReplicationGroups')
  ).ReplicationGroups.filter((g: { ReplicationGroupId: string }) => mine(g.ReplicationGroupId)).length;

  const buckets = (await boto.call('s3', 'ListBuckets')).Buckets.map((b: { Name: string }) => b.Name).filter(
    mine,
  );
  c.bucket = buckets.length;
  c['bucket-policy'] = 0;
  for (const Bucket of buckets) {
    if ((await boto.errorOf('s3', 'GetBucketPolicy', { Bucket })) === undefined) c['bucket-policy']++;
  }

  const zones = (await boto.call('route53', 'ListHostedZones')).HostedZones.filter(
    (z: { Name: string }) => z.Name === `${a.domain}.`,
  );
  c['hosted-zone'] = zones.length;
  c['dns-record'] = 0;
  for (const z of zones) {
    const { ResourceRecordSets } = await boto.call('route53', 'ListResourceRecordSets', {
      HostedZoneId: z.Id,
    });
    c['dns-record'] += ResourceRecordSets.filter(
      (r: { Name: string; Type: string }) => r.Name === `${a.domain}.` && ['A', 'AAAA'].includes(r.Type),
    ).length;
  }
  c.certificate = (await boto.call('acm', 'ListCertificates')).CertificateSummaryList.filter(
    (x: { DomainName: string }) => x.DomainName === a.domain,
  ).length;

  const balancers = (await boto.call('elbv2', 'DescribeLoadBalancers')).LoadBalancers.filter(
    (l: { LoadBalancerName: string }) => mine(l.LoadBalancerName),
  );
  c['load-balancer'] = balancers.length;
  c.listener = 0;
  for (const l of balancers) {
    c.listener += (
      await boto.call('elbv2', 'DescribeListeners', { LoadBalancerArn: l.LoadBalancerArn })
    ).Listeners.length;
  }
  c['target-group'] = (await boto.call('elbv2', 'DescribeTargetGroups')).TargetGroups.filter(
    (g: { TargetGroupName: string }) => mine(g.TargetGroupName),
  ).length;

  const oacs =
    (await boto.call('cloudfront', 'ListOriginAccessControls')).OriginAccessControlList.Items ?? [];
  // Named `<stack>.<name>`: they take no tags.
  c['origin-access-control'] = oacs.filter((o: { Name: string }) => o.Name.startsWith(`${stack}.`)).length;
  const distributions = (await boto.call('cloudfront', 'ListDistributions')).DistributionList.Items ?? [];
  c.distribution = distributions.filter((d: { Comment: string }) => d.Comment === stack).length;

  c['ecr-repository'] = (await boto.call('ecr', 'DescribeRepositories')).repositories.filter(
    (r: { repositoryName: string }) => mine(r.repositoryName),
  ).length;
  // Deleted clusters and services stay visible as INACTIVE for a while, on AWS as on moto.
  const clusterArns = (await boto.call('ecs', 'ListClusters')).clusterArns.filter((arn: string) =>
    mine(arn.split('/').at(-1)),
  );
  const clusters: string[] = clusterArns.length
    ? (await boto.call('ecs', 'DescribeClusters', { clusters: clusterArns })).clusters
        .filter((x: { status: string }) => x.status !== 'INACTIVE')
        .map((x: { clusterArn: string }) => x.clusterArn)
    : [];
  c['ecs-cluster'] = clusters.length;
  c['ecs-service'] = 0;
  for (const cluster of clusters) {
    const { serviceArns } = await boto.call('ecs', 'ListServices', { cluster });
    if (serviceArns.length === 0) continue;
    const { services: listed } = await boto.call('ecs', 'DescribeServices', {
      cluster,
      services: serviceArns,
    });
    c['ecs-service'] += listed.filter((x: { status: string }) => x.status !== 'INACTIVE').length;
  }
  // Revisions a release replaced are deregistered (INACTIVE, as AWS keeps them): one active revision per family.
  const { taskDefinitionArns } = await boto.call('ecs', 'ListTaskDefinitions', { status: 'ACTIVE' });
  c['task-definition'] = taskDefinitionArns.filter((arn: string) => mine(arn.split('/').at(-1))).length;
  c['log-group'] = (
    await boto.call('logs', 'DescribeLogGroups', { logGroupNamePrefix: `/${stack}/` })
  ).logGroups.length;
  c.role = (await boto.call('iam', 'ListRoles')).Roles.filter((r: { RoleName: string }) =>
    mine(r.RoleName),
  ).length;
  const scaled = (x: { ResourceId: string }) => x.ResourceId.startsWith(`service/${stack}-`);
  c['scalable-target'] = (
    await boto.call('application-autoscaling', 'DescribeScalableTargets', { ServiceNamespace: 'ecs' })
  ).ScalableTargets.filter(scaled).length;
  c['scaling-policy'] = (
    await boto.call('application-autoscaling', 'DescribeScalingPolicies', { ServiceNamespace: 'ecs' })
  ).ScalingPolicies.filter(scaled).length;
  return sorted(c);
}

export interface Release {
  number: number;
  image: string;
  status: string;
  taskDefinitions: Record<string, string>;
}

/** The release history as SSM holds it, read by boto3. */
export async function releases(boto: Boto, stack: string): Promise<Release[]> {
  // Every page: killed deploys leave their claimed numbers, so a history passes SSM's 10 a page.
  const values: { Value: string }[] = [];
  let NextToken: string | undefined;
  do {
    const page = await boto.call('ssm', 'GetParametersByPath', {
      Path: `/touchdown/${stack}/releases/`,
      ...(NextToken ? { NextToken } : {}),
    });
    values.push(...page.Parameters);
    NextToken = page.NextToken;
  } while (NextToken);
  return values.map((p) => JSON.parse(p.Value) as Release).sort((x, y) => x.number - y.number);
}

/** Each ECS service of the stack (web, workers): the task definition it runs and that revision's image. */
export async function services(
  boto: Boto,
  stack: string,
): Promise<{ name: string; taskDefinition: string; image: string }[]> {
  const cluster = `${stack}-main`;
  const { serviceArns } = await boto.call('ecs', 'ListServices', { cluster });
  if (serviceArns.length === 0) return [];
  const { services: list } = await boto.call('ecs', 'DescribeServices', { cluster, services: serviceArns });
  const out = [];
  const active = (list as { serviceName: string; taskDefinition: string; status: string }[]).filter(
    (s) => s.status !== 'INACTIVE',
  );
  for (const s of active) {
    const { taskDefinition } = await boto.call('ecs', 'DescribeTaskDefinition', {
      taskDefinition: s.taskDefinition,
    });
    out.push({
      name: s.serviceName.slice(stack.length + 1),
      taskDefinition: s.taskDefinition,
      image: taskDefinition.containerDefinitions[0].image as string,
    });
  }
  return out.sort((x, y) => x.name.localeCompare(y.name));
}

/**
 * One release is live, it is built from `img`, and every service runs exactly the task definition that
 * release recorded for it: the release is all of one, none of another.
 */
export async function assertServes(boto: Boto, stack: string, img: string): Promise<void> {
  const history = await releases(boto, stack);
  const live = history.filter((r) => r.status === 'live');
  assert.equal(live.length, 1, `exactly one live release: ${JSON.stringify(history)}`);
  assert.equal(new Set(history.map((r) => r.number)).size, history.length, 'release numbers are unique');
  assert.equal(live[0]!.image, img, 'the live release is the one just deployed');
  const running = await services(boto, stack);
  assert.ok(running.length > 0, 'the app has services');
  for (const s of running) {
    assert.equal(
      s.taskDefinition,
      live[0]!.taskDefinitions[s.name],
      `${s.name} runs the live release's revision`,
    );
    assert.equal(s.image, img, `${s.name} runs the live release's image`);
  }
}

function sorted(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(c).sort(([x], [y]) => x.localeCompare(y)));
}

/** Writes a case's figures (kill points, faults met, times) to test-artifacts/reliability/, for docs/reliability.md. */
export async function saveFigures(name: string, figures: unknown): Promise<void> {
  const dir = join(repoRoot, 'test-artifacts', 'reliability');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
}
