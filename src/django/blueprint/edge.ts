// How requests reach the app: the load balancer (HTTPS, HTTP redirected), the CDN in front of it and of the
// private buckets, the domain's records and certificates, and email from the domain.
import { bucketPolicyForDistribution } from '../../aws/cloudfront/distribution.js';
import type { AwsStack } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import { type Input, interpolate, Ref } from '../../core/ref.js';
import type { Contract, Data, Names } from './data.js';
import type { Network } from './network.js';

export interface Edge {
  targetGroup: ReturnType<AwsStack['addTargetGroup']>;
  /** web.traffic switch: what ECS needs to start new tasks beside the old ones and move traffic at once. */
  blueGreen?: BlueGreen;
  loadBalancer: ReturnType<AwsStack['addLoadBalancer']>;
  cdn?: ReturnType<AwsStack['addDistribution']>;
  /** Where people reach the app. */
  url: Input<string>;
}

export function edge(aws: AwsStack, m: Manifest, n: Names, net: Network, d: Data, contract: Contract): Edge {
  const env = contract.environment;
  const zone = m.domain ? aws.addHostedZone({ name: 'zone', domain: m.domain.zone }) : undefined;

  const loadBalancer = aws.addLoadBalancer({
    name: 'web',
    subnetIds: net.subnets.lb.map((s) => s.id),
    securityGroupIds: [net.groups.lb.id],
  });
  const webTargetGroup = (name: string) =>
    aws.addTargetGroup({
      name,
      vpcId: net.vpc.id,
      port: 8000,
      healthCheck: { path: m.web.healthCheck },
      // In-flight requests end within gunicorn's --timeout 30 (init's image), so 30 s of draining lose none (AWS: 300 s).
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay
      deregistrationDelaySeconds: 30,
    });
  const targetGroup = webTargetGroup('web');
  const standby = m.web.traffic === 'switch' ? webTargetGroup('web-standby') : undefined;

  let serving: ReturnType<AwsStack['addListener']>;
  if (m.domain && zone) {
    const certificate = aws.addCertificate({ name: 'web', domainName: m.domain.name, zoneId: zone.id });
    aws.addListener({
      name: 'http',
      loadBalancerArn: loadBalancer.arn,
      port: 80,
      protocol: 'HTTP',
      defaultAction: { redirectToHttps: true },
    });
    serving = aws.addListener({
      name: 'https',
      loadBalancerArn: loadBalancer.arn,
      port: 443,
      protocol: 'HTTPS',
      certificateArn: certificate.arn,
      defaultAction: { forward: targetGroup.arn },
    });
  } else {
    // No domain, no certificate: plain HTTP on the load balancer's own name (the CDN, if any, adds HTTPS).
    serving = aws.addListener({
      name: 'http',
      loadBalancerArn: loadBalancer.arn,
      port: 80,
      protocol: 'HTTP',
      defaultAction: { forward: targetGroup.arn },
    });
  }

  const blueGreen = standby ? switchTraffic(aws, n, serving, targetGroup, standby) : undefined;

  const hosts: Input<string>[] = [loadBalancer.dnsName];
  let url: Input<string> = interpolate`http://${loadBalancer.dnsName}`;
  let cdn: Edge['cdn'];
  if (m.cdn) {
    const buckets = bucketOrigins(aws, d);
    const viewerCertificate =
      m.domain && zone
        ? aws.addCertificate({ name: 'cdn', domainName: m.domain.name, zoneId: zone.id, region: 'us-east-1' })
        : undefined;
    cdn = aws.addDistribution({
      name: 'cdn',
      comment: `${n.stack}`,
      aliases: m.domain ? [m.domain.name] : [],
      ...(viewerCertificate ? { certificateArn: viewerCertificate.arn } : {}),
      origins: [
        {
          id: 'app',
          http: { domainName: loadBalancer.dnsName, protocolPolicy: m.domain ? 'https-only' : 'http-only' },
        },
        ...buckets.origins,
      ],
      defaultBehavior: {
        originId: 'app',
        allowedMethods: 'ALL',
        cachePolicy: 'CachingDisabled',
        // With a domain the Host header goes through (the certificate matches it); without, the load balancer's name.
        originRequestPolicy: m.domain ? 'AllViewer' : 'AllViewerExceptHostHeader',
      },
      behaviors: buckets.behaviors,
    });
    buckets.admit(cdn);
    hosts.push(cdn.domainName);
    env.AWS_S3_CUSTOM_DOMAIN = m.domain ? m.domain.name : cdn.domainName;
    url = interpolate`https://${cdn.domainName}`;
  }

  if (m.domain && zone) {
    hosts.push(m.domain.name);
    url = `https://${m.domain.name}`;
    const target = cdn
      ? { dnsName: cdn.domainName, hostedZoneId: cdn.hostedZoneId }
      : { dnsName: loadBalancer.dnsName, hostedZoneId: loadBalancer.canonicalHostedZoneId };
    zone.addRecord({ recordName: m.domain.name, type: 'A', alias: target });
    zone.addRecord({ recordName: m.domain.name, type: 'AAAA', alias: target });
  }
  if (m.email && zone) {
    aws.addEmailDomain({ name: 'mail', domain: m.email.from.split('@')[1]!, zoneId: zone.id });
    env.EMAIL_BACKEND = 'ses';
    env.DEFAULT_FROM_EMAIL = m.email.from;
    env.AWS_SES_REGION_NAME = n.region;
  }

  env.ALLOWED_HOSTS = joined(hosts);
  env.CSRF_TRUSTED_ORIGINS = joined(hosts.map((h) => interpolate`https://${h}`));
  return { targetGroup, blueGreen, loadBalancer, cdn, url };
}

/** The private buckets as CloudFront origins under /static/ and /media/, read through one origin access control. */
export function bucketOrigins(aws: AwsStack, d: Data) {
  const buckets = Object.entries(d.buckets).filter(([, b]) => b !== undefined) as [
    string,
    NonNullable<Data['buckets']['static']>,
  ][];
  const oac = buckets.length > 0 ? aws.addOriginAccessControl({ name: 'buckets' }) : undefined;
  return {
    origins: buckets.map(([purpose, b]) => ({
      id: purpose,
      s3: { bucketRegionalDomainName: b.regionalDomainName, originAccessControlId: oac!.id },
    })),
    behaviors: buckets.map(([purpose]) => ({
      pathPattern: `/${purpose}/*`,
      originId: purpose,
      cachePolicy: 'CachingOptimized' as const,
    })),
    /** Lets this distribution, and nothing else, read the buckets. */
    admit(cdn: ReturnType<AwsStack['addDistribution']>): void {
      for (const [purpose, b] of buckets) {
        aws.addBucketPolicy({
          name: purpose,
          bucket: b.name,
          policy: bucketPolicyForDistribution(b.arn, cdn.arn),
        });
      }
    },
  };
}

export interface BlueGreen {
  alternateTargetGroupArn: Input<string>;
  productionListenerRuleArn: Input<string>;
  roleArn: Input<string>;
}

/**
 * ECS blue/green: every request goes through one rule forwarding to both target groups (100/0); ECS registers
 * the new tasks in the idle group and flips the weights once they pass health checks, so no request meets a
 * mix of versions.
 */
function switchTraffic(
  aws: AwsStack,
  n: Names,
  listener: ReturnType<AwsStack['addListener']>,
  primary: ReturnType<AwsStack['addTargetGroup']>,
  standby: ReturnType<AwsStack['addTargetGroup']>,
): BlueGreen {
  const rule = aws.addListenerRule({
    name: 'web',
    listenerArn: listener.arn,
    priority: 1,
    conditions: { pathPatterns: ['/*'] },
    targetGroupArn: primary.arn,
    standbyTargetGroupArn: standby.arn,
  });
  // ECS moves the weights (and so which group serves) at every deployment.
  rule.ignoreChanges('targetGroupArn', 'standbyTargetGroupArn');
  const role = aws.addRole({
    name: `${n.stack}-ecs-traffic`,
    assumeRolePolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    },
    policies: {
      switch: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: [
              'elasticloadbalancing:DescribeListeners',
              'elasticloadbalancing:DescribeRules',
              'elasticloadbalancing:DescribeTargetGroups',
              'elasticloadbalancing:DescribeTargetHealth',
            ],
            Resource: '*',
          },
          { Effect: 'Allow', Action: 'elasticloadbalancing:ModifyRule', Resource: rule.arn },
          {
            Effect: 'Allow',
            Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
            Resource: [primary.arn, standby.arn],
          },
        ],
      },
    },
  });
  return { alternateTargetGroupArn: standby.arn, productionListenerRuleArn: rule.arn, roleArn: role.arn };
}

function joined(values: Input<string>[]): Input<string> {
  return Ref.all(values).apply((v) => v.join(','));
}
