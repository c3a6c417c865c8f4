// web.compute: ec2: the app's containers on EC2 instances of its own (seed 000's auto scaling group and launch
// template). ECS places the tasks on them through a capacity provider that scales the group, so the release
// phase, rolling deploys, scaling and rollbacks work as on Fargate (fargate.ts declares the tasks themselves).
import type { AwsStack } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import { interpolate } from '../../core/ref.js';
import type { Names } from './data.js';
import { type AppBase, trust } from './fargate.js';
import type { Network } from './network.js';

/** Graviton families (t4g, m7g, c7gn, r8g…) run arm64 images; the rest x86_64. */
const GRAVITON = /^([a-z]+\d+g[a-z]*|a1)\./;
export const isGraviton = (instanceType: string) => GRAVITON.test(instanceType);

/** AWS's public parameter naming the newest ECS-optimized Amazon Linux 2023 image for the instance's CPU. */
export function ecsOptimizedImage(instanceType: string): string {
  const arch = isGraviton(instanceType) ? '/arm64' : '';
  return `resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023${arch}/recommended/image_id`;
}

/** Declares the instances and gives the capacity provider the tasks run through. */
export function ec2(aws: AwsStack, m: Manifest, n: Names, net: Network, app: AppBase) {
  const { cluster } = app;
  // What the ECS agent on each instance does with the instance's role: join this cluster, report, take work.
  // Images and logs go through the tasks' execution role, on EC2 as on Fargate.
  const role = aws.addRole({
    name: `${n.stack}-ecs-instance`,
    assumeRolePolicy: trust('ec2.amazonaws.com'),
    policies: {
      agent: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['ecs:RegisterContainerInstance', 'ecs:DeregisterContainerInstance', 'ecs:Submit*'],
            Resource: cluster.arn,
          },
          {
            // These act on a container instance, never on the cluster itself.
            // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
            Effect: 'Allow',
            Action: ['ecs:Poll', 'ecs:StartTelemetrySession', 'ecs:UpdateContainerInstancesState'],
            Resource: cluster.arn.apply((arn) => `${arn.replace(':cluster/', ':container-instance/')}/*`),
          },
          { Effect: 'Allow', Action: 'ecs:DiscoverPollEndpoint', Resource: '*' },
        ],
      },
    },
  });
  const profile = aws.addInstanceProfile({ name: `${n.stack}-ecs-instance`, roles: [role.name] });

  const template = aws.addLaunchTemplate({
    name: 'instances',
    // Read at each launch: new instances start from the newest image, and a new image changes no plan.
    imageId: ecsOptimizedImage(m.web.instanceType),
    instanceType: m.web.instanceType,
    instanceProfileArn: profile.arn,
    securityGroupIds: [net.groups.app.id],
    // Tasks (awsvpc) have network interfaces of their own and get credentials from their task role, never the
    // instance's: their way to the metadata service is blocked, and a hop limit of 1 keeps it on the host.
    userData: interpolate`#!/bin/bash
cat >> /etc/ecs/ecs.config <<'EOF'
ECS_CLUSTER=${cluster.name}
ECS_AWSVPC_BLOCK_IMDS=true
EOF
`,
    metadataOptions: { httpPutResponseHopLimit: 1 },
    // The ECS-optimized image's own size: images and container layers live there.
    rootVolume: { sizeGiB: 30 },
  });

  // Each task takes a network interface of its instance, so instances hold few tasks: room for a rolling
  // deploy (twice the tasks) and a one-off task. ECS launches only what the tasks need; the rest costs nothing.
  const web = m.web.autoscaling ?? { min: m.web.count, max: m.web.count };
  const workers = Object.values(m.workers).reduce((sum, w) => sum + w.count, 0);
  const group = aws.addAutoScalingGroup({
    name: 'instances',
    launchTemplateId: template.id,
    // A new template version (another instance type) replaces the instances; ECS drains them first.
    launchTemplateVersion: template.latestVersion,
    minSize: web.min,
    maxSize: 2 * (web.max + workers) + 1,
    subnetIds: net.subnets.app.map((s) => s.id),
  });
  const provider = aws.addEcsCapacityProvider({
    name: 'instances',
    cluster: cluster.name,
    autoScalingGroupArn: group.arn,
    // A task started by hand (aws ecs run-task) lands on the instances too.
    default: true,
  });
  return provider;
}
