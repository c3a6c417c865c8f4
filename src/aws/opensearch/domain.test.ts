import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { OpenSearchDomain } from './domain.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'opensearch-domain.search';
const NAME = 'os-test-search';

type Overrides = Partial<{
  instanceType: string;
  instanceCount: number;
  zones: 1 | 2;
  tags: Record<string, string>;
}>;

function stack(overrides: Overrides = {}) {
  const aws = new AwsStack('os-test');
  const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.3.0.0/16' });
  const a = vpc.addSubnet({ name: 'a', cidrBlock: '10.3.1.0/24', availabilityZone: 'us-east-1a' });
  const b = vpc.addSubnet({ name: 'b', cidrBlock: '10.3.2.0/24', availabilityZone: 'us-east-1b' });
  const app = vpc.addSecurityGroup({ name: 'app' });
  const sg = vpc.addSecurityGroup({
    name: 'search',
    ingress: [{ protocol: 'tcp', fromPort: 443, toPort: 443, sourceSecurityGroupId: app.id }],
    egress: [],
  });
  const role = aws.addRole({
    name: 'os-test-app',
    assumeRolePolicy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    },
  });
  const { zones = 1, ...rest } = overrides;
  const domain = aws.add(OpenSearchDomain, {
    name: 'search',
    subnetIds: zones === 1 ? [a.id] : [a.id, b.id],
    securityGroupIds: [sg.id],
    accessRoleArns: [role.arn],
    ...rest,
  });
  aws.output('url', domain.url);
  aws.output('search', sg.id);
  aws.output('subnet', a.id);
  aws.output('vpc', vpc.id);
  return aws;
}

async function domain() {
  try {
    return (await t.boto.call('opensearch', 'DescribeDomain', { DomainName: NAME })).DomainStatus;
  } catch {
    return undefined;
  }
}

describe('OpenSearchDomain', () => {
  it('is created in the VPC, encrypted, HTTPS only, open to the role alone; a second plan shows no changes', async () => {
    const plan = await t.apply(stack({ tags: { team: 'search' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const out = await t.engine(stack({ tags: { team: 'search' } })).outputs();
    const d = await domain();
    assert.equal(d.Processing, false);
    assert.equal(d.EngineVersion, 'OpenSearch_2.19');
    assert.deepEqual(d.VPCOptions.SubnetIds, [out.subnet]);
    assert.deepEqual(d.VPCOptions.SecurityGroupIds, [out.search]);
    assert.equal(d.VPCOptions.VPCId, out.vpc);
    assert.equal(d.Endpoint, undefined, 'no public endpoint');
    assert.equal(out.url, `https://${d.Endpoints.vpc}`);
    assert.equal(d.EncryptionAtRestOptions.Enabled, true);
    assert.equal(d.NodeToNodeEncryptionOptions.Enabled, true);
    assert.equal(d.DomainEndpointOptions.EnforceHTTPS, true);
    assert.equal(d.DomainEndpointOptions.TLSSecurityPolicy, 'Policy-Min-TLS-1-2-2019-07');
    assert.deepEqual(d.ClusterConfig.InstanceType, 't3.small.search');
    assert.equal(d.ClusterConfig.InstanceCount, 1);
    assert.equal(d.ClusterConfig.ZoneAwarenessEnabled, false);
    assert.deepEqual(d.EBSOptions, { EBSEnabled: true, VolumeType: 'gp3', VolumeSize: 10 });
    assert.equal(d.SnapshotOptions.AutomatedSnapshotStartHour, 3);
    const { Role } = await t.boto.call('iam', 'GetRole', { RoleName: 'os-test-app-us-east-1' });
    assert.deepEqual(JSON.parse(d.AccessPolicies), {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: [Role.Arn] },
          Action: 'es:ESHttp*',
          Resource: `${d.ARN}/*`,
        },
      ],
    });
    const { TagList } = await t.boto.call('opensearch', 'ListTags', { ARN: d.ARN });
    assert.deepEqual(
      Object.fromEntries(TagList.map((x: { Key: string; Value: string }) => [x.Key, x.Value])),
      {
        'touchdown:stack': 'os-test',
        'touchdown:resource': ADDRESS,
        'touchdown:region': 'us-east-1',
        team: 'search',
      },
    );
    // A VPC domain needs the account's service-linked role: made when missing.
    const { Role: linked } = await t.boto.call('iam', 'GetRole', {
      RoleName: 'AWSServiceRoleForAmazonOpenSearchService',
    });
    assert.equal(linked.Path, '/aws-service-role/opensearchservice.amazonaws.com/');
    // The create waited through AWS's building state (Processing, no endpoint) rather than reading it as done.
    assert.ok(t.events.some((e) => JSON.stringify(e).includes('processing')));
    assertNoChanges(await t.plan(stack({ tags: { team: 'search' } })));
  });

  it('resizes in place, and puts back an access policy changed behind its back', async () => {
    await t.apply(stack());
    const d = await domain();
    await t.boto.call('opensearch', 'UpdateDomainConfig', {
      DomainName: NAME,
      AccessPolicies: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'es:*', Resource: `${d.ARN}/*` }],
      }),
    });
    const plan = await t.plan(stack({ instanceCount: 2, zones: 2 }));
    const spread = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(spread.action, 'update', 'more zones are a change in place, never a new (empty) domain');
    const inPlace = (await t.plan(stack({ instanceType: 'm6g.large.search' }))).resources.find(
      (r) => r.address === ADDRESS,
    )!;
    assert.equal(inPlace.action, 'update');
    assert.deepEqual(inPlace.changes.map((c) => c.name).sort(), ['accessRoleArns', 'instanceType']);
    await t.apply(stack({ instanceType: 'm6g.large.search' }));
    const after = await domain();
    assert.equal(after.ClusterConfig.InstanceType, 'm6g.large.search');
    assert.equal(
      JSON.parse(after.AccessPolicies).Statement[0].Principal.AWS[0].endsWith(':role/os-test-app-us-east-1'),
      true,
    );
    assertNoChanges(await t.plan(stack({ instanceType: 'm6g.large.search' })));
  });

  it('is created again when deleted behind its back', async () => {
    await t.apply(stack());
    await t.boto.call('opensearch', 'DeleteDomain', { DomainName: NAME });
    await t.boto.call('opensearch', 'DescribeDomain', { DomainName: NAME }).catch(() => undefined);
    assert.equal(actions(await t.plan(stack()))[ADDRESS], 'create');
  });

  it('is not destroyed without --force; with it, is deleted and waited for', async () => {
    await t.apply(stack());
    const refused = await t.engine(stack()).destroy();
    const [failed, ...others] = refused.report!.failed;
    assert.equal(others.length, 0);
    assert.match(
      failed!.error!,
      /deleting OpenSearch domain "search": refused: it holds an OpenSearch domain/,
    );
    assert.match(failed!.hint!, /--force/);
    assert.ok(await domain(), 'the domain is still there');
    const plan = await t.destroy(stack(), { force: true });
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal(await domain(), undefined);
  });

  it('refuses node counts its zones cannot hold, before any change', async () => {
    await assert.rejects(
      t.engine(stack({ instanceCount: 3, zones: 2 })).apply(),
      /opensearch-domain\.search: instanceCount: 3 nodes over 2 zone\(s\).*multiple of their number/,
    );
    assert.equal(await domain(), undefined);
  });
});
