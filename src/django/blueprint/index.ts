// The blueprint: a touchdown.yml turned into the engine's resource graph for one stage on AWS
// (seed 004's architecture: network, PostgreSQL, cache, buckets behind CloudFront, Fargate behind an ALB).
import { AwsStack } from '../../aws/stack.js';
import { ciTrust } from '../../ci/trust.js';
import type { LoadedManifest } from '../../config/load-manifest.js';
import { imagePlatform } from '../image.js';
import { type Contract, data, type Names } from './data.js';
import { ec2 } from './ec2.js';
import { edge } from './edge.js';
import { fargate } from './fargate.js';
import { serverless } from './lambda.js';
import { network } from './network.js';
import { search } from './search.js';

export { zoneNeeds } from './network.js';

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

export function awsBlueprint(loaded: LoadedManifest, options: BlueprintOptions): AwsStack {
  const m = loaded.manifest;
  const n: Names = {
    app: m.app,
    stage: loaded.stage,
    stack: loaded.stackName,
    region: options.region,
    account: options.account,
  };
  const aws = new AwsStack(loaded.stackName, { region: options.region });
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
  // The manifest keeps search to ECS compute, whose app role is `<stack>-app` (fargate.ts).
  const found = search(aws, m, n, net, contract, `arn:aws:iam::${n.account}:role/${n.stack}-app`);
  d.searchArn = found?.arn;
  if (m.web.compute === 'lambda') {
    serverless(aws, m, n, net, d, contract, { image: options.image, version: options.version });
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
