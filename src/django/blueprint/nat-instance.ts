// network.nat: instance: one small instance in a public subnet that forwards what the private subnets send to the
// internet (as fck-nat does), for a few dollars a month instead of a NAT gateway per zone. A plain instance, not a
// group of one: a route names its network interface, which a replaced group member would not keep.
import type { AwsStack, SubnetHandle, VpcHandle } from '../../aws/stack.js';

/** Graviton's smallest: forwarding a small app's traffic needs little more than a network interface. */
export const NAT_INSTANCE_TYPE = 't4g.nano';
/** AWS's public parameter naming the newest Amazon Linux 2023 image for arm64. */
const NAT_IMAGE = 'resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

/** Turns the instance into a router: forward IPv4, and masquerade the VPC's traffic as its own address. */
export function natScript(vpcCidr: string): string {
  return `#!/bin/bash
set -euo pipefail
dnf install -y iptables-services
echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-touchdown-nat.conf
sysctl --system
systemctl enable --now iptables
out=$(ip route show default | awk '{print $5; exit}')
# The service's stock rules reject forwarded packets; the security group already admits the VPC alone.
iptables -F FORWARD
iptables -t nat -A POSTROUTING -o "$out" -s ${vpcCidr} -j MASQUERADE
iptables-save > /etc/sysconfig/iptables
`;
}

/** The NAT instance in `subnet` (public), and the network interface private routes send to. */
export function natInstance(aws: AwsStack, vpc: VpcHandle, subnet: SubnetHandle, vpcCidr: string) {
  const group = vpc.addSecurityGroup({
    name: 'nat',
    description: 'NAT instance: any traffic from inside the VPC',
    ingress: [{ protocol: '-1', cidrIpv4: vpcCidr, description: 'the VPC' }],
  });
  const instance = aws.addInstance({
    name: 'nat',
    imageId: NAT_IMAGE,
    instanceType: NAT_INSTANCE_TYPE,
    subnetId: subnet.id,
    securityGroupIds: [group.id],
    // It forwards packets addressed to others: EC2 would drop them otherwise.
    sourceDestCheck: false,
    userData: natScript(vpcCidr),
    // The image's own size, stated: enough for the OS and the firewall's packages.
    rootVolume: { sizeGiB: 8 },
  });
  return instance.networkInterfaceId;
}
