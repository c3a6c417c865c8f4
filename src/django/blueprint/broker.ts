// Celery on RabbitMQ (seed 001), with workers.broker: rabbitmq: an Amazon MQ broker in the private subnets
// behind its own security group (AMQPS from the app only). Celery reads CELERY_BROKER_URL as a secret: the URL
// holds the broker's password, so it lives in Parameter Store and never in the task definition.
import { MqBroker } from '../../aws/mq/broker.js';
import type { AwsStack } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import { type Contract, type Names, parameterArn, secretPath } from './data.js';
import type { Network } from './network.js';

export function rabbitBroker(aws: AwsStack, m: Manifest, n: Names, net: Network, contract: Contract): void {
  const b = typeof m.broker === 'object' ? m.broker : { instance: 'mq.t3.micro', cluster: false };
  const group = net.vpc.addSecurityGroup({
    name: 'broker',
    description: 'Celery broker: AMQPS from the app only',
    ingress: [
      {
        protocol: 'tcp',
        fromPort: 5671,
        toPort: 5671,
        sourceSecurityGroupId: net.groups.app.id,
        description: 'AMQPS',
      },
    ],
    egress: [],
  });
  const path = secretPath(n);
  const broker = aws.add(MqBroker, {
    name: 'broker',
    instanceType: b.instance,
    deploymentMode: b.cluster ? 'CLUSTER_MULTI_AZ' : 'SINGLE_INSTANCE',
    // A cluster's three nodes spread over the zones; one node lives in the first.
    subnetIds: (b.cluster ? net.subnets.db : net.subnets.db.slice(0, 1)).map((s) => s.id),
    securityGroupIds: [group.id],
    passwordParameter: `${path}BROKER_PASSWORD`,
    urlParameter: `${path}CELERY_BROKER_URL`,
  });
  // By reference to the broker's output: tasks are defined once the broker has written the URL.
  contract.secrets.CELERY_BROKER_URL = parameterArn(n, broker.urlParameter);
}
