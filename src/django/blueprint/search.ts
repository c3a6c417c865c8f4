// Search on OpenSearch Service (seed 002): a domain in the private subnets behind its own security group,
// reachable from the app's group alone, that only the app's role may call (requests signed with SigV4).

import type { OpenSearchDomainOutputs } from '../../aws/opensearch/domain.js';
import { domainNameFor, OpenSearchDomain } from '../../aws/opensearch/domain.js';
import type { AwsStack } from '../../aws/stack.js';
import type { Manifest } from '../../config/manifest.js';
import type { Handle } from '../../core/resource.js';
import type { Contract, Names } from './data.js';
import type { Network } from './network.js';

/** The domain's label in the stack: its name in AWS is `<stack>-search`. */
const LABEL = 'search';

export interface Search {
  domain: Handle<OpenSearchDomainOutputs>;
  /** Its ARN as AWS will spell it, for the app role's policy (a reference would make the role wait for the domain). */
  arn: string;
}

/** `appRole`: the ARN of the role the app's code runs as, the one principal the domain admits. */
export function search(
  aws: AwsStack,
  m: Manifest,
  n: Names,
  net: Network,
  contract: Contract,
  appRole: string,
): Search | undefined {
  if (!m.search) return undefined;
  const s = m.search;
  const group = net.vpc.addSecurityGroup({
    name: 'search',
    description: 'OpenSearch: HTTPS from the app only',
    ingress: [
      {
        protocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        sourceSecurityGroupId: net.groups.app.id,
        description: 'HTTPS',
      },
    ],
    egress: [],
  });
  // One node lives in one zone; more spread over all of the stack's zones (the manifest keeps them a multiple).
  const zones = s.nodes === 1 ? 1 : net.subnets.db.length;
  const domain = aws.add(OpenSearchDomain, {
    name: LABEL,
    engineVersion: `OpenSearch_${s.version}`,
    instanceType: s.instance,
    instanceCount: s.nodes,
    volumeSize: s.storage,
    snapshotHour: s.snapshotHour,
    subnetIds: net.subnets.db.slice(0, zones).map((x) => x.id),
    securityGroupIds: [group.id],
    accessRoleArns: [appRole],
  });
  contract.environment.OPENSEARCH_URL = domain.url;
  const arn = `arn:aws:es:${n.region}:${n.account}:domain/${domainNameFor(n.stack, LABEL)}`;
  return { domain, arn };
}
