// Every resource type Touchdown manages, written by scripts/build-registry.ts from the type files: do
// not edit. Plans look for undeclared types too, so that what a stack no longer declares is deleted.
import type { AnyResourceType } from '../core/resource.js';
import { Certificate } from './acm/certificate.js';
import { HttpApiDomain } from './apigateway/domain.js';
import { HttpApi } from './apigateway/http-api.js';
import { LambdaProxyRoute } from './apigateway/lambda-integration.js';
import { HttpApiStage } from './apigateway/stage.js';
import { AutoScalingGroup } from './autoscaling/group.js';
import { ScalableTarget } from './autoscaling/scalable-target.js';
import { TargetTrackingPolicy } from './autoscaling/scaling-policy.js';
import { Distribution } from './cloudfront/distribution.js';
import { OriginAccessControl } from './cloudfront/origin-access-control.js';
import { ElasticIp } from './ec2/elastic-ip.js';
import { Instance } from './ec2/instance.js';
import { InternetGateway } from './ec2/internet-gateway.js';
import { LaunchTemplate } from './ec2/launch-template.js';
import { NatGateway } from './ec2/nat-gateway.js';
import { RouteTable } from './ec2/route-table.js';
import { SecurityGroup } from './ec2/security-group.js';
import { Subnet } from './ec2/subnet.js';
import { Vpc } from './ec2/vpc.js';
import { GatewayEndpoint } from './ec2/vpc-endpoint.js';
import { EcrRepository } from './ecr/repository.js';
import { EcsCapacityProvider } from './ecs/capacity-provider.js';
import { EcsCluster } from './ecs/cluster.js';
import { EcsService } from './ecs/service.js';
import { TaskDefinition } from './ecs/task-definition.js';
import { MemcachedCluster } from './elasticache/memcached.js';
import { CacheReplicationGroup } from './elasticache/replication-group.js';
import { CacheSubnetGroup } from './elasticache/subnet-group.js';
import { Listener } from './elbv2/listener.js';
import { ListenerRule } from './elbv2/listener-rule.js';
import { LoadBalancer } from './elbv2/load-balancer.js';
import { TargetGroup } from './elbv2/target-group.js';
import { InstanceProfile } from './iam/instance-profile.js';
import { Role } from './iam/role.js';
import { KmsAlias } from './kms/alias.js';
import { KmsKey } from './kms/key.js';
import { LambdaAlias } from './lambda/alias.js';
import { LambdaFunction } from './lambda/function.js';
import { LambdaPermission } from './lambda/permission.js';
import { LogGroup } from './logs/log-group.js';
import { DbInstance } from './rds/instance.js';
import { DbParameterGroup } from './rds/parameter-group.js';
import { DbSubnetGroup } from './rds/subnet-group.js';
import { HostedZone } from './route53/hosted-zone.js';
import { DnsRecord } from './route53/record.js';
import { Bucket } from './s3/bucket.js';
import { BucketPolicy } from './s3/bucket-policy.js';
import { Schedule } from './scheduler/schedule.js';
import { Secret } from './secretsmanager/secret.js';
import { EmailDomain } from './ses/domain-identity.js';
import { Queue } from './sqs/queue.js';
import { SsmParameter } from './ssm/parameter.js';

export const resourceTypes: readonly AnyResourceType[] = [
  Certificate,
  HttpApiDomain,
  HttpApi,
  LambdaProxyRoute,
  HttpApiStage,
  AutoScalingGroup,
  ScalableTarget,
  TargetTrackingPolicy,
  Distribution,
  OriginAccessControl,
  ElasticIp,
  Instance,
  InternetGateway,
  LaunchTemplate,
  NatGateway,
  RouteTable,
  SecurityGroup,
  Subnet,
  Vpc,
  GatewayEndpoint,
  EcrRepository,
  EcsCapacityProvider,
  EcsCluster,
  EcsService,
  TaskDefinition,
  MemcachedCluster,
  CacheReplicationGroup,
  CacheSubnetGroup,
  Listener,
  ListenerRule,
  LoadBalancer,
  TargetGroup,
  InstanceProfile,
  Role,
  KmsAlias,
  KmsKey,
  LambdaAlias,
  LambdaFunction,
  LambdaPermission,
  LogGroup,
  DbInstance,
  DbParameterGroup,
  DbSubnetGroup,
  HostedZone,
  DnsRecord,
  Bucket,
  BucketPolicy,
  Schedule,
  Secret,
  EmailDomain,
  Queue,
  SsmParameter,
];
