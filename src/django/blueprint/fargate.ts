// The app on ECS Fargate: image repository, cluster, least-privilege roles, logs, the web service behind the
// load balancer, Celery workers, the release task (migrate, collectstatic, manage) and scheduled commands.
// With web.compute: ec2 the same tasks run on instances of the stack's own (ec2.ts).
import type { AwsStack } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import { type Input, interpolate } from '../../core/ref.js';
import { type Contract, type Data, dataAccess, type Names } from './data.js';
import type { BlueGreen } from './edge.js';
import { imageSource } from './image-source.js';
import type { Network } from './network.js';

export const WEB_CONTAINER = 'django';

export interface Fargate {
  repository: ReturnType<AwsStack['addEcrRepository']>;
  cluster: ReturnType<AwsStack['addEcsCluster']>;
  /** The task definition one-off commands run with (migrate, collectstatic, manage). */
  release?: ReturnType<AwsStack['addTaskDefinition']>;
  web?: ReturnType<AwsStack['addEcsService']>;
  logGroups: Record<string, ReturnType<AwsStack['addLogGroup']>>;
  /** The role the app's code runs as. */
  taskRole?: ReturnType<AwsStack['addRole']>;
  /** The role ECS starts tasks with: the release task step changes it with the task definition. */
  execution: ReturnType<AwsStack['addRole']>;
  /** By name: `release`, `web`, `worker-<name>`. */
  taskDefinitions: Record<string, ReturnType<AwsStack['addTaskDefinition']>>;
  /** By process: `web`, `worker-<name>`. */
  services: Record<string, ReturnType<AwsStack['addEcsService']>>;
  /** web.compute ec2: the stack's instances, where one-off tasks run too. */
  capacityProvider?: ReturnType<AwsStack['addEcsCapacityProvider']>;
}

/** What the app's instances need to exist before its tasks: the cluster to join, and the logs and image they use. */
export type AppBase = Pick<Fargate, 'repository' | 'cluster' | 'logGroups'>;

/** Instances of the stack's own as the tasks' capacity (ec2.ts): gives the capacity provider. */
export type InstanceCapacity = (app: AppBase) => ReturnType<AwsStack['addEcsCapacityProvider']>;

/** The role ECS starts tasks with; a release changes its pull grant when its image lives elsewhere. */
export const executionRoleName = (stack: string) => `${stack}-ecs-execution`;
/** The role the app's code runs as (the search domain's access policy names it before it exists). */
export const appRoleName = (stack: string) => `${stack}-app`;

export const trust = (service: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
});

/** Splits a command line the way a shell would for simple words and quotes. */
export function words(command: string): string[] {
  return (command.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, ''));
}

export function fargate(
  aws: AwsStack,
  m: Manifest,
  n: Names,
  net: Network,
  d: Data,
  contract: Contract,
  traffic: { targetGroupArn?: Input<string>; loadBalancerArn?: Input<string>; blueGreen?: BlueGreen },
  image: string | undefined,
  instances?: InstanceCapacity,
): Fargate {
  const repository = aws.addEcrRepository({ name: 'app', keepLastImages: 30 });
  const cluster = aws.addEcsCluster({ name: 'main' });
  const logGroups: Fargate['logGroups'] = {};
  for (const name of ['web', 'release', ...Object.keys(m.workers).map((w) => `worker-${w}`)]) {
    logGroups[name] = aws.addLogGroup({ name, retentionDays: 30 });
  }

  // The role ECS uses to start tasks: pull this image, write these logs, read this stage's parameters. The image
  // may live in another repository, account or region: the pull grant follows it (another account's repository
  // must also allow this account in its repository policy).
  const source = image ? imageSource(image) : undefined;
  const execution = aws.addRole({
    name: executionRoleName(n.stack),
    assumeRolePolicy: trust('ecs-tasks.amazonaws.com'),
    policies: {
      start: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
          {
            Effect: 'Allow',
            Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
            Resource: source?.ecr
              ? repository.arn.apply((own) =>
                  own === source.ecr!.repositoryArn ? own : [own, source.ecr!.repositoryArn],
                )
              : repository.arn,
          },
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: Object.values(logGroups).map((g) => interpolate`${g.arn}:*`),
          },
          { Effect: 'Allow', Action: ['ssm:GetParameters'], Resource: d.parameterArns },
        ],
      },
    },
  });

  // The role the app runs as: its buckets, its queue, sending mail, and ECS Exec's channel.
  const appStatements: Record<string, unknown>[] = [
    {
      Effect: 'Allow',
      Action: [
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ],
      Resource: '*',
    },
    ...dataAccess(d),
  ];
  const task = aws.addRole({
    name: appRoleName(n.stack),
    assumeRolePolicy: trust('ecs-tasks.amazonaws.com'),
    policies: { app: { Version: '2012-10-17', Statement: appStatements } },
  });

  const out: Fargate = {
    repository,
    cluster,
    logGroups,
    taskRole: task,
    execution,
    taskDefinitions: {},
    services: {},
  };
  // Instances are infrastructure: the release's one-off tasks need them before any service exists.
  out.capacityProvider = instances?.(out);
  const capacityProvider: Input<string> | undefined = out.capacityProvider?.name;
  // Before the first image exists there is nothing to run: the release adds what follows.
  if (!image) return out;

  const placement =
    capacityProvider === undefined
      ? { launchType: 'FARGATE' as const }
      : { launchType: 'EC2' as const, capacityProvider };
  const roles = {
    executionRoleArn: execution.arn,
    taskRoleArn: task.arn,
    compatibilities: [placement.launchType],
    // One image serves the release, web and worker tasks: all run on the processor it is built for.
    runtimePlatform: {
      cpuArchitecture:
        placement.launchType === 'FARGATE' && m.web.architecture === 'arm64'
          ? ('ARM64' as const)
          : ('X86_64' as const),
    },
  };

  const network = {
    subnetIds: net.subnets.app.map((s) => s.id),
    securityGroupIds: [net.groups.app.id],
    assignPublicIp: net.appIsPublic,
  };
  const container = (logGroup: string, extra: Record<string, unknown> = {}) => ({
    name: WEB_CONTAINER,
    image,
    environment: contract.environment,
    secrets: contract.secrets,
    logGroup: logGroups[logGroup]!.name,
    logStreamPrefix: logGroup,
    ...extra,
  });
  const size = (s: { cpu?: number; memory?: number }) => ({ cpu: s.cpu ?? 256, memory: s.memory ?? 512 });

  const release = aws.addTaskDefinition({
    name: 'release',
    ...size(m.web),
    ...roles,
    containers: [container('release')],
  });
  out.release = release;
  out.taskDefinitions.release = release;

  const webTask = aws.addTaskDefinition({
    name: 'web',
    ...size(m.web),
    ...roles,
    containers: [
      container('web', {
        portMappings: [{ containerPort: 8000 }],
        ...(m.web.command ? { command: words(m.web.command) } : {}),
      }),
    ],
  });
  const web = aws.addEcsService({
    name: 'web',
    cluster: cluster.arn,
    taskDefinition: webTask.arn,
    desiredCount: m.web.count,
    ...placement,
    network,
    loadBalancers: traffic.targetGroupArn
      ? [
          {
            targetGroupArn: traffic.targetGroupArn,
            containerName: WEB_CONTAINER,
            containerPort: 8000,
            ...(traffic.blueGreen ? { blueGreen: traffic.blueGreen } : {}),
          },
        ]
      : [],
    healthCheckGracePeriodSeconds: 60,
    ...(traffic.blueGreen ? { deployment: { strategy: 'BLUE_GREEN' as const } } : {}),
  });
  out.web = web;
  out.taskDefinitions.web = webTask;
  out.services.web = web;
  if (m.web.autoscaling) {
    // Autoscaling owns the running count from here on: plans leave it alone.
    web.ignoreChanges('desiredCount');
    const a = m.web.autoscaling;
    const resourceId = interpolate`service/${cluster.name}/${web.name}`;
    const target = aws.addScalableTarget({ name: 'web', resourceId, minCapacity: a.min, maxCapacity: a.max });
    // With both, AWS scales out when either policy asks and in only when both allow it.
    // https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking.html
    if (a.cpu !== undefined) {
      aws
        .addScalingPolicy({ name: 'web-cpu', resourceId, metric: 'cpu', targetValue: a.cpu ?? 60 })
        .dependsOn(target);
    }
    if (a.requestsPerTarget !== undefined) {
      // The manifest refuses it with web.traffic: switch, whose serving target group changes at each release.
      if (!traffic.loadBalancerArn || !traffic.targetGroupArn)
        throw new Error('requestsPerTarget needs the load balancer');
      aws
        .addScalingPolicy({
          name: 'web-requests',
          resourceId,
          metric: 'requestsPerTarget',
          loadBalancerArn: traffic.loadBalancerArn,
          targetGroupArn: traffic.targetGroupArn,
          targetValue: a.requestsPerTarget,
        })
        .dependsOn(target);
    }
  }

  for (const [name, worker] of Object.entries(m.workers)) {
    const workerTask = aws.addTaskDefinition({
      name: `worker-${name}`,
      ...size(worker),
      ...roles,
      containers: [container(`worker-${name}`, { command: words(worker.command) })],
    });
    out.taskDefinitions[`worker-${name}`] = workerTask;
    out.services[`worker-${name}`] = aws.addEcsService({
      name: `worker-${name}`,
      cluster: cluster.arn,
      taskDefinition: workerTask.arn,
      desiredCount: worker.count,
      ...placement,
      network,
    });
  }

  if (m.schedules.length > 0) {
    const scheduler = aws.addRole({
      name: `${n.stack}-scheduler`,
      assumeRolePolicy: trust('scheduler.amazonaws.com'),
      policies: {
        run: {
          Version: '2012-10-17',
          Statement: [
            // Any revision of the release family, in this cluster only; the roles only to ECS's tasks.
            // https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
            {
              Effect: 'Allow',
              Action: 'ecs:RunTask',
              Resource: interpolate`${release.arn.apply((a) => a.replace(/:\d+$/, ''))}:*`,
              Condition: { ArnEquals: { 'ecs:cluster': cluster.arn } },
            },
            {
              Effect: 'Allow',
              Action: 'iam:PassRole',
              Resource: [execution.arn, task.arn],
              Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
            },
          ],
        },
      },
    });
    for (const s of m.schedules) {
      aws.addSchedule({
        name: s.name,
        expression: `cron(${s.cron.replace(/^cron\((.*)\)$/, '$1')})`,
        roleArn: scheduler.arn,
        target: {
          ecsTask: {
            clusterArn: cluster.arn,
            taskDefinitionArn: release.arn,
            ...network,
            capacityProvider,
            containerName: WEB_CONTAINER,
            command: ['python', 'manage.py', ...words(s.command)],
          },
        },
      });
    }
  }
  return out;
}
