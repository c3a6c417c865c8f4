// Every resource type Touchdown manages. Plans look for all of them, so that resources of a type
// no longer declared in a stack are still found and deleted.
import type { AnyResourceType } from '../core/resource.js';
import { ElasticIp } from './ec2/elastic-ip.js';
import { InternetGateway } from './ec2/internet-gateway.js';
import { NatGateway } from './ec2/nat-gateway.js';
import { RouteTable } from './ec2/route-table.js';
import { SecurityGroup } from './ec2/security-group.js';
import { Subnet } from './ec2/subnet.js';
import { Vpc } from './ec2/vpc.js';
import { GatewayEndpoint } from './ec2/vpc-endpoint.js';
import { InstanceProfile } from './iam/instance-profile.js';
import { Role } from './iam/role.js';
import { KmsAlias } from './kms/alias.js';
import { KmsKey } from './kms/key.js';
import { Bucket } from './s3/bucket.js';
import { Secret } from './secretsmanager/secret.js';
import { SsmParameter } from './ssm/parameter.js';

export const resourceTypes: readonly AnyResourceType[] = [
  Vpc,
  Subnet,
  InternetGateway,
  ElasticIp,
  NatGateway,
  RouteTable,
  SecurityGroup,
  GatewayEndpoint,
  Bucket,
  Role,
  InstanceProfile,
  KmsKey,
  KmsAlias,
  SsmParameter,
  Secret,
];
