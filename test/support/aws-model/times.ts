// The AWS time model in one table: how long each modelled resource takes to become ready, to apply a
// change and to go away on AWS, with where the figure comes from. Times are AWS seconds; the model
// divides them by its speed-up. A resource not listed here is ready as soon as moto answers.

/** A one-off task's start alone, and each management command it runs (the release runner runs several in one). */
export const ONE_OFF = { start: 45, command: 10 };

export interface ResourceTimes {
  /** What AWS calls it. */
  name: string;
  /** Seconds from the create call until it is ready (available, Deployed, INSYNC, ISSUED, stable). */
  create: number;
  /** Seconds a change in place keeps it busy (modifying, InProgress, a new deployment). */
  update?: number;
  /** Seconds from the delete call until it is gone (deleting, DRAINING). */
  delete?: number;
  /** Where the figure comes from. */
  source: string;
  /** What the source says, and how the figure was chosen from it. */
  basis: string;
}

export const TIMES = {
  rdsInstance: {
    name: 'RDS DB instance (PostgreSQL, single-AZ)',
    create: 6 * 60,
    update: 2 * 60,
    delete: 5 * 60,
    source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_CreateDBInstance.html',
    basis:
      'AWS: "creating" until ready, then "available"; a small single-AZ PostgreSQL instance typically takes 5 to 10 minutes; 6 min taken',
  },
  elasticacheReplicationGroup: {
    name: 'ElastiCache replication group (Valkey/Redis OSS)',
    create: 8 * 60,
    update: 5 * 60,
    delete: 5 * 60,
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.Create.html',
    basis:
      'AWS: status "creating" for several minutes before "available"; a one-shard group with a replica typically takes 6 to 10 minutes; 8 min taken',
  },
  elasticacheCacheCluster: {
    name: 'ElastiCache cache cluster (Memcached)',
    create: 6 * 60,
    update: 5 * 60,
    delete: 5 * 60,
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.Create-mc.html',
    basis: 'as the replication group, one node group fewer; 6 min taken',
  },
  cloudfrontDistribution: {
    name: 'CloudFront distribution',
    create: 4 * 60,
    update: 4 * 60,
    source:
      'https://aws.amazon.com/blogs/networking-and-content-delivery/slashing-cloudfront-change-propagation-times-in-2020-recent-changes-and-looking-forward/',
    basis:
      'AWS (2020): changes now reliably propagate within 5 minutes; "InProgress" until then, then "Deployed"; 4 min taken. Deleting a disabled distribution is quick: disabling it is the update',
  },
  loadBalancer: {
    name: 'Application Load Balancer',
    create: 3 * 60,
    source: 'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerState.html',
    basis: 'AWS: "provisioning" until its nodes are up, then "active"; typically 2 to 4 minutes; 3 min taken',
  },
  natGateway: {
    name: 'NAT gateway',
    create: 2 * 60,
    delete: 60,
    source: 'https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html',
    basis:
      'AWS: "pending" until "available", "deleting" until "deleted"; typically 1 to 3 minutes to create (the SDK waiter polls every 15 s for up to 10 min); 2 min taken',
  },
  route53Change: {
    name: 'Route 53 change (records, a new zone)',
    create: 60,
    source: 'https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html',
    basis:
      'AWS: GetChange answers PENDING until every Route 53 name server has the change, then INSYNC; changes generally propagate within 60 seconds; 60 s taken',
  },
  acmValidation: {
    name: 'ACM certificate, DNS-validated',
    create: 60,
    source: 'https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html',
    basis:
      'AWS: PENDING_VALIDATION until ACM finds the CNAME records, then ISSUED; counted from when the records reach every name server (Route 53 change above), about a minute later; 60 s taken',
  },
  ecsService: {
    name: 'ECS service on Fargate behind a target group (steady state)',
    create: 2 * 60,
    update: 2 * 60,
    delete: 5 * 60,
    source:
      'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html',
    basis:
      "a task starts in under a minute, then the target group needs its healthy-threshold of checks (defaults 5 checks, 30 s apart) before the deployment completes; 2 min taken. Deleting drains for the target group's deregistration delay (default 300 s)",
  },
  iamRole: {
    name: 'IAM role, until other services can assume it',
    create: 10,
    source:
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency',
    basis:
      'AWS: IAM is eventually consistent, changes take time to be visible everywhere. Modelled where AWS refuses synchronously: Lambda rejects a role it cannot assume yet ("The role defined for the function cannot be assumed by Lambda."), EventBridge Scheduler an execution role, ECS a blue/green role, Auto Scaling and EC2 an instance profile made or given its role since; 10 s taken',
  },
  oneOffTask: {
    name: 'ECS one-off task on Fargate (RunTask: migrate, collectstatic)',
    create: ONE_OFF.start + ONE_OFF.command,
    source: 'https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/task.html',
    basis:
      'a Fargate task is PROVISIONING, PENDING (its own instance, network interface, the whole image pulled: nothing is cached) for 30 to 45 s or more before RUNNING (AWS re:Post, linked from that guide); 45 s taken, plus 10 s for a migrate with nothing to apply or a collectstatic of a few changed files and the task stopping; a task running several commands in order (the release runner) takes 10 s for each',
  },
} satisfies Record<string, ResourceTimes>;

/**
 * What a rolling ECS deployment of a new task definition waits for behind a load balancer, AWS seconds: the new
 * tasks start, pass the target group's health checks (interval × healthy threshold), then the old ones drain
 * (the deregistration delay) and stop. The target group's own settings are used when the model has seen them.
 */
export const ECS_RELEASE = {
  taskStart: {
    seconds: 45,
    source: 'https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/task.html',
    basis: 'as oneOffTask: 30 to 45 s or more from RunTask or a deployment to RUNNING; 45 s taken',
  },
  healthChecks: {
    intervalSeconds: 30,
    healthyThreshold: 5,
    /** Checks a newly registered target must pass: one, whatever the healthy threshold. */
    newTargetChecks: 1,
    source: 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-healthcheck.html',
    basis:
      'a new target is "initial" until its first passing check, HealthCheckIntervalSeconds after registration at most ("After you register the target, it must pass one health check to be considered healthy"; HealthyThresholdCount counts the checks an unhealthy target needs to recover, API reference); AWS default interval 30 s (used when the model has not seen the group)',
  },
  draining: {
    deregistrationDelaySeconds: 300,
    source:
      'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html#deregistration-delay',
    basis:
      'a deregistered target stays "draining" for deregistration_delay.timeout_seconds (AWS default 300 s) before ECS stops it; the deployment completes once old tasks are stopped',
  },
  deployment: {
    source: 'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html',
    basis:
      'rolling update: with minimumHealthyPercent 100 and maximumPercent 200 every new task starts at once beside the old ones, which stop only after the new ones are healthy: one start, one round of checks, one drain',
  },
};

export type ModelledResource = keyof typeof TIMES;

/** Per-call latency: what an API call takes from request to answer, moto's own time included. */
export const LATENCY = {
  ms: 100,
  source: 'none published',
  basis:
    'AWS publishes no control-plane latency; calls to regional endpoints from within the region commonly answer in 50 to 300 ms; 100 ms taken',
};

/** Faults' default extra delay for a slow answer, in AWS milliseconds. */
export const SLOW_ANSWER_MS = 5_000;
