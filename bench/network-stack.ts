// The stack plan-scale and plan-trace plan: one VPC, then subnets, security groups and route tables (6:3:1).
import { AwsStack } from '../src/aws/stack.js';

/** A network of n resources. */
export function network(n: number): AwsStack {
  const aws = new AwsStack(`scale-${n}`);
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.0.0.0/16' });
  const rest = n - 1;
  const subnets = Math.round(rest * 0.6);
  const groups = Math.round(rest * 0.3);
  const tables = rest - subnets - groups;
  for (let i = 0; i < subnets; i++) {
    vpc.addSubnet({ name: `s${i}`, cidrBlock: `10.0.${Math.floor(i / 16)}.${(i % 16) * 16}/28` });
  }
  for (let i = 0; i < groups; i++) {
    vpc.addSecurityGroup({
      name: `g${i}`,
      ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '10.0.0.0/16' }],
    });
  }
  for (let i = 0; i < tables; i++) vpc.addRouteTable({ name: `t${i}` });
  return aws;
}
