// The app on ECS Fargate: image repository, cluster, least-privilege roles, logs, the web service behind the
// load balancer, Celery workers, the release task (migrate, collectstatic, manage) and scheduled commands.
import type { AwsStack } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import { type Input, interpolate } from '../../core/ref.js';
import type { Contract, Data, Names } from './data.js';
import type { BlueGreen } from './edge.js';
import type { Network } from './network.js';

export const WEB_CONTAINER = 'django';

export interface Fargate {
  repository: ReturnType<AwsStack['addEcrRepository']>;
  cluster: ReturnType<AwsStack['addEcsCluster']>;
  /** The task definition one-off commands run with (migrate, collectstatic, manage). */
  release?: ReturnType<AwsStack['addTaskDefinition']>;
  web?: ReturnType<AwsStack['addEcsService']>;
  logGroups: Record<string, ReturnType<AwsStack['addLogGroup']>>;
}

const trust = (service: string) => ({
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
  traffic: { targetGroupArn?: Input<string>; blueGreen?: BlueGreen },
  image: string | undefined,
): Fargate {
  const repository = aws.addEcrRepository({ name: 'app', keepLastImages: 30 });
  const cluster = aws.addEcsCluster({ name: 'main' });
  const logGroups: Fargate['logGroups'] = {};
  for (const name of ['web', 'release', ...Object.keys(m.workers).map((w) => `worker-${w}`)]) {
    logGroups[name] = aws.addLogGroup({ name, retentionDays: 30 });
  }

  // The role ECS uses to start tasks: pull this image, write these logs, read this stage's parameters.
  const execution = aws.addRole({
    name: `${n.stack}-ecs-execution`,
    assumeRolePolicy: trust('ecs-tasks.amazonaws.com'),
    policies: {
      start: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
          {
            Effect: 'Allow',
            Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
            Resource: repository.arn,
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
  ];
  const buckets = Object.values(d.buckets).filter((b) => b !== undefined);
  if (buckets.length > 0) {
    appStatements.push(
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: buckets.map((b) => b.arn) },
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        Resource: buckets.map((b) => interpolate`${b.arn}/*`),
      },
    );
  }
  if (d.queue) {
    appStatements.push({
      Effect: 'Allow',
      Action: [
        'sqs:SendMessage',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
      ],
      Resource: d.queue.arn,
    });
  }
  if (m.email)
    appStatements.push({ Effect: 'Allow', Action: ['ses:SendEmail', 'ses:SendRawEmail'], Resource: '*' });
  const task = aws.addRole({
    name: `${n.stack}-app`,
    assumeRolePolicy: trust('ecs-tasks.amazonaws.com'),
    policies: { app: { Version: '2012-10-17', Statement: appStatements } },
  });

  const out: Fargate = { repository, cluster, logGroups };
  // Before the first image exists there is nothing to run: the release adds what follows.
  if (!image) return out;

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
    executionRoleArn: execution.arn,
    taskRoleArn: task.arn,
    containers: [container('release')],
  });
  out.release = release;

  const webTask = aws.addTaskDefinition({
    name: 'web',
    ...size(m.web),
    executionRoleArn: execution.arn,
    taskRoleArn: task.arn,
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
  if (m.web.autoscaling) {
    // Autoscaling owns the running count from here on: plans leave it alone.
    web.ignoreChanges('desiredCount');
    const a = m.web.autoscaling;
    const resourceId = interpolate`service/${cluster.name}/${web.name}`;
    const target = aws.addScalableTarget({ name: 'web', resourceId, minCapacity: a.min, maxCapacity: a.max });
    aws
      .addScalingPolicy({
        name: 'web-cpu',
        resourceId,
        metric: 'cpu',
        targetValue: a.cpu ?? 60,
      })
      .dependsOn(target);
  }

  for (const [name, worker] of Object.entries(m.workers)) {
    const workerTask = aws.addTaskDefinition({
      name: `worker-${name}`,
      ...size(worker),
      executionRoleArn: execution.arn,
      taskRoleArn: task.arn,
      containers: [container(`worker-${name}`, { command: words(worker.command) })],
    });
    aws.addEcsService({
      name: `worker-${name}`,
      cluster: cluster.arn,
      taskDefinition: workerTask.arn,
      desiredCount: worker.count,
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
            {
              Effect: 'Allow',
              Action: 'ecs:RunTask',
              Resource: interpolate`${release.arn.apply((a) => a.replace(/:\d+$/, ''))}:*`,
            },
            { Effect: 'Allow', Action: 'iam:PassRole', Resource: [execution.arn, task.arn] },
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
            containerName: WEB_CONTAINER,
            command: ['python', 'manage.py', ...words(s.command)],
          },
        },
      });
    }
  }
  return out;
}
