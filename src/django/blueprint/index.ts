// The blueprint: a touchdown.yml turned into the engine's resource graph for one stage on AWS
// (seed 004's architecture: network, PostgreSQL, cache, buckets behind CloudFront, Fargate behind an ALB).
import { roleArn } from '../../aws/iam/role.js';
import { AwsStack } from '../../aws/stack.js';
import { ciTrust } from '../../ci/trust.js';
import type { LoadedManifest } from '../../config/load-manifest.js';
import type { Stack } from '../../core/stack.js';
import { imagePlatform } from '../image.js';
import { type Contract, type Data, data, type Names } from './data.js';
import { ec2 } from './ec2.js';
import { type Edge, edge } from './edge.js';
import { appRoleName, type Fargate, fargate } from './fargate.js';
import { type Serverless, serverless } from './lambda.js';
import { type Network, network } from './network.js';
import { search } from './search.js';

export { foundOf, outputsOf } from './handles.js';
export { zoneNeeds } from './network.js';

/**
 * The resources deploy, operations and `up` act on, as the blueprint declared them: renaming one here renames
 * it there, where an address string would silently stop matching (no snapshot before migrate, say).
 */
export interface AppHandles {
  database?: Data['database'];
  queue?: Data['queue'];
  buckets: Data['buckets'];
  /** Where one-off tasks and the function run: the app's subnets and security group. */
  app: { subnets: Network['subnets']['app']; securityGroup: Network['groups']['app']; public: boolean };
  /** web.compute fargate or ec2. */
  containers?: Pick<
    Fargate,
    'repository' | 'cluster' | 'execution' | 'taskDefinitions' | 'services' | 'capacityProvider'
  > &
    Pick<Edge, 'targetGroup' | 'loadBalancer'>;
  /** web.compute lambda. */
  lambda?: Pick<Serverless, 'artifacts' | 'api' | 'fn' | 'alias'>;
}

/** The stack awsBlueprint declares, with its handles. */
export class BlueprintStack extends AwsStack {
  handles!: AppHandles;
}

/** The handles of a stack awsBlueprint made (an engine's stack); anything else is a programming error. */
export function handlesOf(stack: Stack): AppHandles {
  if (!(stack instanceof BlueprintStack)) throw new Error(`${stack.name}: not a touchdown.yml blueprint`);
  return stack.handles;
}

/** Zones for drawing or checking the stack without asking AWS (graph, preflight): only their number matters there. */
export const UNASKED_ZONES: readonly string[] = ['zone-1', 'zone-2', 'zone-3'];

export interface BlueprintOptions {
  region: string;
  /** The AWS account: bucket names and parameter ARNs include it. */
  account: string;
  /** The zones the subnets go in, as stackZones(aws, zoneNeeds(manifest)) finds them in the account and region. */
  zones: readonly string[];
  /** The image the release runs; without one, only what the first image needs is declared. */
  image?: string;
  /** web.compute lambda: the published function version the `live` alias serves (the release's). */
  version?: string;
}

export function awsBlueprint(loaded: LoadedManifest, options: BlueprintOptions): BlueprintStack {
  const m = loaded.manifest;
  const n: Names = {
    app: m.app,
    stage: loaded.stage,
    stack: loaded.stackName,
    region: options.region,
    account: options.account,
  };
  const aws = new BlueprintStack(loaded.stackName, { region: options.region });
  const contract: Contract = {
    environment: {
      DJANGO_SETTINGS_MODULE: m.django.settings,
      DJANGO_DEBUG: 'false',
      TOUCHDOWN_BEHIND_PROXY: 'true',
      TOUCHDOWN_STAGE: loaded.stage,
      // The settings snippet answers the load balancer's health check on this path itself.
      TOUCHDOWN_HEALTH_PATH: m.web.healthCheck,
      AWS_REGION: options.region,
      ...m.environment,
    },
    secrets: {},
  };
  const net = network(aws, m, options.zones);
  const d = data(aws, m, n, net, contract);
  // The manifest keeps search to ECS compute, whose app role fargate.ts declares.
  const found = search(aws, m, n, net, contract, roleArn(n.account, n.region, appRoleName(n.stack)));
  d.searchArn = found?.arn;
  aws.handles = {
    database: d.database,
    queue: d.queue,
    buckets: d.buckets,
    app: { subnets: net.subnets.app, securityGroup: net.groups.app, public: net.appIsPublic },
  };
  if (m.web.compute === 'lambda') {
    const s = serverless(aws, m, n, net, d, contract, { image: options.image, version: options.version });
    aws.handles.lambda = s;
    return aws;
  }
  const e = edge(aws, m, n, net, d, contract);
  const f = fargate(
    aws,
    m,
    n,
    net,
    d,
    contract,
    { targetGroupArn: e.targetGroup.arn, loadBalancerArn: e.loadBalancer.arn, blueGreen: e.blueGreen },
    options.image,
    m.web.compute === 'ec2' ? (app) => ec2(aws, m, n, net, app) : undefined,
  );

  // Some services check a policy's principals when it is set: the role exists before the domain.
  if (found && f.taskRole) found.domain.dependsOn(f.taskRole);
  aws.handles.containers = { ...f, targetGroup: e.targetGroup, loadBalancer: e.loadBalancer };

  aws.output('url', e.url);
  aws.output('loadBalancer', e.loadBalancer.dnsName);
  if (e.cdn) aws.output('cdn', e.cdn.domainName);
  if (d.buckets.static) aws.output('staticBucket', d.buckets.static.name);
  if (d.buckets.media) aws.output('mediaBucket', d.buckets.media.name);
  if (d.database) aws.output('database', d.database.hostPort);
  aws.output('repository', f.repository.uri);
  aws.output('cluster', f.cluster.name);
  if (m.ci) {
    const image = { repositoryUri: f.repository.uri, platform: imagePlatform(m) };
    ciTrust(aws, m.ci, { ...n, domain: m.domain?.name }, image);
  }
  return aws;
}
