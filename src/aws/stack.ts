// The TypeScript API platform engineers write stacks with, in the spirit of seed 000:
// aws.addVpc(...), vpc.addSubnet(...), aws.addBucket(...), aws.addRole(...).
import type { ArgsInput, Fields } from '../core/args.js';
import { ConfigError } from '../core/errors.js';
import { collectSources } from '../core/ref.js';
import { type Handle, type Outputs, Resource, type ResourceType } from '../core/resource.js';
import { Stack } from '../core/stack.js';
import { Certificate, type CertificateOutputs } from './acm/certificate.js';
import { HttpApiDomain, type HttpApiDomainOutputs } from './apigateway/domain.js';
import { HttpApi, type HttpApiOutputs } from './apigateway/http-api.js';
import { LambdaProxyRoute, type LambdaProxyRouteOutputs } from './apigateway/lambda-integration.js';
import { HttpApiStage, type HttpApiStageOutputs } from './apigateway/stage.js';
import { AutoScalingGroup, type AutoScalingGroupOutputs } from './autoscaling/group.js';
import { ScalableTarget, type ScalableTargetOutputs } from './autoscaling/scalable-target.js';
import { type ScalingPolicyOutputs, TargetTrackingPolicy } from './autoscaling/scaling-policy.js';
import { Distribution, type DistributionOutputs } from './cloudfront/distribution.js';
import { OriginAccessControl, type OriginAccessControlOutputs } from './cloudfront/origin-access-control.js';
import { ElasticIp, type ElasticIpOutputs } from './ec2/elastic-ip.js';
import { Instance, type InstanceOutputs } from './ec2/instance.js';
import { InternetGateway, type InternetGatewayOutputs } from './ec2/internet-gateway.js';
import { LaunchTemplate, type LaunchTemplateOutputs } from './ec2/launch-template.js';
import { NatGateway, type NatGatewayOutputs } from './ec2/nat-gateway.js';
import { RouteTable, type RouteTableOutputs } from './ec2/route-table.js';
import { SecurityGroup, type SecurityGroupOutputs } from './ec2/security-group.js';
import { Subnet, type SubnetOutputs } from './ec2/subnet.js';
import { Vpc, type VpcOutputs } from './ec2/vpc.js';
import { GatewayEndpoint, type GatewayEndpointOutputs } from './ec2/vpc-endpoint.js';
import { EcrRepository, type EcrRepositoryOutputs } from './ecr/repository.js';
import { EcsCapacityProvider, type EcsCapacityProviderOutputs } from './ecs/capacity-provider.js';
import { EcsCluster, type EcsClusterOutputs } from './ecs/cluster.js';
import { EcsService, type EcsServiceOutputs } from './ecs/service.js';
import { TaskDefinition, type TaskDefinitionOutputs } from './ecs/task-definition.js';
import { MemcachedCluster, type MemcachedClusterOutputs } from './elasticache/memcached.js';
import { CacheReplicationGroup, type CacheReplicationGroupOutputs } from './elasticache/replication-group.js';
import { CacheSubnetGroup, type CacheSubnetGroupOutputs } from './elasticache/subnet-group.js';
import { Listener, type ListenerOutputs } from './elbv2/listener.js';
import { ListenerRule, type ListenerRuleOutputs } from './elbv2/listener-rule.js';
import { LoadBalancer, type LoadBalancerOutputs } from './elbv2/load-balancer.js';
import { TargetGroup, type TargetGroupOutputs } from './elbv2/target-group.js';
import { InstanceProfile, type InstanceProfileOutputs } from './iam/instance-profile.js';
import { Role, type RoleOutputs } from './iam/role.js';
import { KmsAlias, type KmsAliasOutputs } from './kms/alias.js';
import { KmsKey, type KmsKeyOutputs } from './kms/key.js';
import { LambdaAlias, type LambdaAliasOutputs } from './lambda/alias.js';
import { LambdaFunction, type LambdaFunctionOutputs } from './lambda/function.js';
import { LambdaPermission, type LambdaPermissionOutputs } from './lambda/permission.js';
import { LogGroup, type LogGroupOutputs } from './logs/log-group.js';
import { DbInstance, type DbInstanceOutputs } from './rds/instance.js';
import { DbParameterGroup, type DbParameterGroupOutputs } from './rds/parameter-group.js';
import { DbSubnetGroup, type DbSubnetGroupOutputs } from './rds/subnet-group.js';
import { HostedZone, type HostedZoneOutputs } from './route53/hosted-zone.js';
import { DnsRecord, type DnsRecordOutputs } from './route53/record.js';
import { Bucket, type BucketOutputs } from './s3/bucket.js';
import { BucketPolicy, type BucketPolicyOutputs } from './s3/bucket-policy.js';
import { Schedule, type ScheduleOutputs } from './scheduler/schedule.js';
import { Secret, type SecretOutputs } from './secretsmanager/secret.js';
import { EmailDomain, type EmailDomainOutputs } from './ses/domain-identity.js';
import { Queue, type QueueOutputs } from './sqs/queue.js';
import { SsmParameter, type SsmParameterOutputs } from './ssm/parameter.js';

type Args<T extends { fields: Fields }> = ArgsInput<T['fields']>;
/** Arguments of a child resource, without the parent's id that the parent fills in. */
type ChildArgs<T extends { fields: Fields }, K extends string> = Omit<Args<T>, K>;

export interface VpcHandle extends Handle<VpcOutputs> {
  addSubnet(args: ChildArgs<typeof Subnet, 'vpcId'>): SubnetHandle;
  addInternetGateway(args: ChildArgs<typeof InternetGateway, 'vpcId'>): Handle<InternetGatewayOutputs>;
  addRouteTable(args: ChildArgs<typeof RouteTable, 'vpcId'>): Handle<RouteTableOutputs>;
  addSecurityGroup(args: ChildArgs<typeof SecurityGroup, 'vpcId'>): Handle<SecurityGroupOutputs>;
  /** An S3 or DynamoDB gateway endpoint: traffic to the service stays inside AWS and costs nothing. */
  addGatewayEndpoint(args: ChildArgs<typeof GatewayEndpoint, 'vpcId'>): Handle<GatewayEndpointOutputs>;
}

export interface SubnetHandle extends Handle<SubnetOutputs> {
  /** A NAT gateway in this (public) subnet; an elastic IP is allocated for it unless one is given. */
  addNatGateway(args: ChildArgs<typeof NatGateway, 'subnetId'>): Handle<NatGatewayOutputs>;
}

export interface HostedZoneHandle extends Handle<HostedZoneOutputs> {
  /** A record in this zone, labelled `<name>-<type>` (so an A and an AAAA for one name can coexist). */
  addRecord(args: ChildArgs<typeof DnsRecord, 'zoneId' | 'name'>): Handle<DnsRecordOutputs>;
}

export interface KmsKeyHandle extends Handle<KmsKeyOutputs> {
  addAlias(name: string): Handle<KmsAliasOutputs>;
}

export class AwsStack extends Stack {
  /**
   * The region this stack is being deployed in (--region, AWS_REGION, or the definition's own), for names that
   * are global in AWS and must differ per region: `aws.addBucket({ name: `radpress-${aws.region}` })`.
   */
  get region(): string {
    const region = this.options.region;
    if (region === undefined || region === '') {
      throw new ConfigError(
        `stack "${this.name}": aws.region is not known here; create the stack with a region (new AwsStack(name, { region }))`,
      );
    }
    return region;
  }

  addVpc(args: Args<typeof Vpc>): VpcHandle {
    const vpc = this.add(Vpc, args);
    const child = <F extends Fields, O extends Outputs>(type: ResourceType<F, O>, a: object) =>
      this.add(type, { ...a, vpcId: vpc.id } as unknown as ArgsInput<F>, vpc);
    return Object.assign(vpc, {
      addSubnet: (a: ChildArgs<typeof Subnet, 'vpcId'>) => this.subnet(child(Subnet, a)),
      addInternetGateway: (a: ChildArgs<typeof InternetGateway, 'vpcId'>) => child(InternetGateway, a),
      addRouteTable: (a: ChildArgs<typeof RouteTable, 'vpcId'>) => child(RouteTable, a),
      addSecurityGroup: (a: ChildArgs<typeof SecurityGroup, 'vpcId'>) => child(SecurityGroup, a),
      addGatewayEndpoint: (a: ChildArgs<typeof GatewayEndpoint, 'vpcId'>) => child(GatewayEndpoint, a),
    });
  }

  addElasticIp(args: Args<typeof ElasticIp>): Handle<ElasticIpOutputs> {
    return this.add(ElasticIp, args);
  }

  addBucket(args: Args<typeof Bucket>): Handle<BucketOutputs> {
    return this.add(Bucket, args);
  }

  /** A bucket's policy apart from the bucket, for policies naming what names the bucket (a distribution). */
  addBucketPolicy = (args: Args<typeof BucketPolicy>): Handle<BucketPolicyOutputs> =>
    this.add(BucketPolicy, args);

  addRole(args: Args<typeof Role>): Handle<RoleOutputs> {
    return this.add(Role, args);
  }

  addInstanceProfile(args: Args<typeof InstanceProfile>): Handle<InstanceProfileOutputs> {
    return this.add(InstanceProfile, args);
  }

  addKmsKey(args: Args<typeof KmsKey>): KmsKeyHandle {
    const key = this.add(KmsKey, args);
    return Object.assign(key, {
      addAlias: (name: string) => this.add(KmsAlias, { name, targetKeyId: key.arn }),
    });
  }

  addKmsAlias(args: Args<typeof KmsAlias>): Handle<KmsAliasOutputs> {
    return this.add(KmsAlias, args);
  }

  addSsmParameter(args: Args<typeof SsmParameter>): Handle<SsmParameterOutputs> {
    return this.add(SsmParameter, args);
  }

  addSecret(args: Args<typeof Secret>): Handle<SecretOutputs> {
    return this.add(Secret, args);
  }

  // Databases and caches
  addDbSubnetGroup = (args: Args<typeof DbSubnetGroup>): Handle<DbSubnetGroupOutputs> =>
    this.add(DbSubnetGroup, args);
  addDbParameterGroup = (args: Args<typeof DbParameterGroup>): Handle<DbParameterGroupOutputs> =>
    this.add(DbParameterGroup, args);
  addDatabase = (args: Args<typeof DbInstance>): Handle<DbInstanceOutputs> => this.add(DbInstance, args);
  addCacheSubnetGroup = (args: Args<typeof CacheSubnetGroup>): Handle<CacheSubnetGroupOutputs> =>
    this.add(CacheSubnetGroup, args);
  addRedis = (args: Args<typeof CacheReplicationGroup>): Handle<CacheReplicationGroupOutputs> =>
    this.add(CacheReplicationGroup, args);
  addMemcached = (args: Args<typeof MemcachedCluster>): Handle<MemcachedClusterOutputs> =>
    this.add(MemcachedCluster, args);
  addQueue = (args: Args<typeof Queue>): Handle<QueueOutputs> => this.add(Queue, args);

  // Containers
  addEcrRepository = (args: Args<typeof EcrRepository>): Handle<EcrRepositoryOutputs> =>
    this.add(EcrRepository, args);
  addEcsCluster = (args: Args<typeof EcsCluster>): Handle<EcsClusterOutputs> => this.add(EcsCluster, args);
  addTaskDefinition = (args: Args<typeof TaskDefinition>): Handle<TaskDefinitionOutputs> =>
    this.add(TaskDefinition, args);
  addEcsService = (args: Args<typeof EcsService>): Handle<EcsServiceOutputs> => this.add(EcsService, args);
  addLogGroup = (args: Args<typeof LogGroup>): Handle<LogGroupOutputs> => this.add(LogGroup, args);

  addScalableTarget = (args: Args<typeof ScalableTarget>): Handle<ScalableTargetOutputs> =>
    this.add(ScalableTarget, args);
  addScalingPolicy = (args: Args<typeof TargetTrackingPolicy>): Handle<ScalingPolicyOutputs> =>
    this.add(TargetTrackingPolicy, args);
  addSchedule = (args: Args<typeof Schedule>): Handle<ScheduleOutputs> => this.add(Schedule, args);

  // Instances (seed 000's path)
  addLaunchTemplate = (args: Args<typeof LaunchTemplate>): Handle<LaunchTemplateOutputs> =>
    this.add(LaunchTemplate, args);
  addAutoScalingGroup = (args: Args<typeof AutoScalingGroup>): Handle<AutoScalingGroupOutputs> =>
    this.add(AutoScalingGroup, args);
  /** An auto scaling group as a cluster's capacity; the cluster's own list of providers is then left to them. */
  addEcsCapacityProvider = (args: Args<typeof EcsCapacityProvider>): Handle<EcsCapacityProviderOutputs> => {
    for (const source of collectSources(args.cluster)) {
      if (source instanceof Resource && source.type === EcsCluster) source.ignoreChanges('capacityProviders');
    }
    return this.add(EcsCapacityProvider, args);
  };
  /** One instance of its own (a NAT instance); an auto scaling group keeps a number of them instead. */
  addInstance = (args: Args<typeof Instance>): Handle<InstanceOutputs> => this.add(Instance, args);

  // Names and certificates
  addHostedZone(args: Args<typeof HostedZone>): HostedZoneHandle {
    const zone = this.add(HostedZone, args);
    return Object.assign(zone, {
      addRecord: (a: ChildArgs<typeof DnsRecord, 'zoneId' | 'name'>) =>
        this.add(DnsRecord, {
          ...a,
          name: `${a.recordName}-${a.type.toLowerCase()}`,
          zoneId: zone.id,
        } as Args<typeof DnsRecord>),
    });
  }
  addCertificate = (args: Args<typeof Certificate>): Handle<CertificateOutputs> =>
    this.add(Certificate, args);
  addEmailDomain = (args: Args<typeof EmailDomain>): Handle<EmailDomainOutputs> =>
    this.add(EmailDomain, args);

  // Serverless (seed 002's path)
  addFunction = (args: Args<typeof LambdaFunction>): Handle<LambdaFunctionOutputs> =>
    this.add(LambdaFunction, args);
  addLambdaPermission = (args: Args<typeof LambdaPermission>): Handle<LambdaPermissionOutputs> =>
    this.add(LambdaPermission, args);
  /** A stable name for one published version of a function (`live`), which releases move. */
  addLambdaAlias = (args: Args<typeof LambdaAlias>): Handle<LambdaAliasOutputs> =>
    this.add(LambdaAlias, args);
  addHttpApi = (args: Args<typeof HttpApi>): Handle<HttpApiOutputs> => this.add(HttpApi, args);
  addLambdaProxyRoute = (args: Args<typeof LambdaProxyRoute>): Handle<LambdaProxyRouteOutputs> =>
    this.add(LambdaProxyRoute, args);
  addHttpApiStage = (args: Args<typeof HttpApiStage>): Handle<HttpApiStageOutputs> =>
    this.add(HttpApiStage, args);
  addHttpApiDomain = (args: Args<typeof HttpApiDomain>): Handle<HttpApiDomainOutputs> =>
    this.add(HttpApiDomain, args);

  // Traffic
  addLoadBalancer = (args: Args<typeof LoadBalancer>): Handle<LoadBalancerOutputs> =>
    this.add(LoadBalancer, args);
  addTargetGroup = (args: Args<typeof TargetGroup>): Handle<TargetGroupOutputs> =>
    this.add(TargetGroup, args);
  addListener = (args: Args<typeof Listener>): Handle<ListenerOutputs> => this.add(Listener, args);
  addListenerRule = (args: Args<typeof ListenerRule>): Handle<ListenerRuleOutputs> =>
    this.add(ListenerRule, args);
  addOriginAccessControl = (args: Args<typeof OriginAccessControl>): Handle<OriginAccessControlOutputs> =>
    this.add(OriginAccessControl, args);
  addDistribution = (args: Args<typeof Distribution>): Handle<DistributionOutputs> =>
    this.add(Distribution, args);

  private subnet(subnet: Handle<SubnetOutputs>): SubnetHandle {
    return Object.assign(subnet, {
      addNatGateway: (a: ChildArgs<typeof NatGateway, 'subnetId'>) => {
        const allocationId = a.allocationId ?? this.add(ElasticIp, { name: `${a.name}-ip` }, subnet).id;
        return this.add(
          NatGateway,
          { ...a, subnetId: subnet.id, allocationId } as Args<typeof NatGateway>,
          subnet,
        );
      },
    });
  }
}
