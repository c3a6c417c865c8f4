import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsClients } from '../clients.js';
import { AwsStack } from '../stack.js';
import { HostedZone } from './hosted-zone.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'hosted-zone.public';

function zone(
  overrides: { domain?: string; comment?: string; adopt?: boolean; tags?: Record<string, string> } = {},
  stackName = 'zone-test',
) {
  const aws = new AwsStack(stackName);
  const z = aws.add(HostedZone, { name: 'public', domain: 'example.com', ...overrides });
  aws.output('nameServers', z.nameServers);
  return aws;
}

interface BotoZone {
  Id: string;
  Name: string;
  CallerReference: string;
  Config: { Comment?: string; PrivateZone: boolean };
}

async function zonesNamed(name: string): Promise<BotoZone[]> {
  const { HostedZones } = await t.boto.call('route53', 'ListHostedZones', {});
  return (HostedZones as BotoZone[]).filter((z) => z.Name === `${name}.`);
}

async function zoneTags(id: string): Promise<Record<string, string>> {
  const r = await t.boto.call('route53', 'ListTagsForResource', {
    ResourceType: 'hostedzone',
    ResourceId: id.replace('/hostedzone/', ''),
  });
  return Object.fromEntries(
    (r.ResourceTagSet.Tags as { Key: string; Value: string }[]).map((x) => [x.Key, x.Value]),
  );
}

/** The zone applied, then these tags taken off with boto3, as a run stopped between create and tagging leaves it. */
async function appliedThenUntagged(keys: string[]): Promise<void> {
  await t.apply(zone());
  const [z] = await zonesNamed('example.com');
  await t.boto.call('route53', 'ChangeTagsForResource', {
    ResourceType: 'hostedzone',
    ResourceId: z!.Id.replace('/hostedzone/', ''),
    RemoveTagKeys: keys,
  });
}

describe('HostedZone', () => {
  it('is created and tagged, gives its name servers, and a second plan shows no changes', async () => {
    const plan = await t.apply(zone({ comment: 'web', tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [z, ...others] = await zonesNamed('example.com');
    assert.equal(others.length, 0);
    assert.equal(z!.Config.Comment, 'web');
    assert.equal(z!.Config.PrivateZone, false);
    assert.match(z!.CallerReference, /^touchdown:[0-9a-f]{12}:us-east-1:[0-9a-f]{16}:/);
    assert.deepEqual(await zoneTags(z!.Id), {
      'touchdown:stack': 'zone-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      team: 'web',
    });
    const detail = await t.boto.call('route53', 'GetHostedZone', { Id: z!.Id });
    const outputs = await t.engine(zone({ comment: 'web', tags: { team: 'web' } })).outputs();
    assert.deepEqual(outputs.nameServers, detail.DelegationSet.NameServers);
    assertNoChanges(await t.plan(zone({ comment: 'web', tags: { team: 'web' } })));
  });

  it('updates its comment and tags in place', async () => {
    await t.apply(zone({ comment: 'web', tags: { team: 'web' } }));
    const [before] = await zonesNamed('example.com');
    const plan = await t.plan(zone({ comment: 'site', tags: { env: 'prod' } }));
    assert.equal(actions(plan)[ADDRESS], 'update');
    await t.apply(zone({ comment: 'site', tags: { env: 'prod' } }));
    const [after] = await zonesNamed('example.com');
    assert.equal(after!.Id, before!.Id);
    assert.equal(after!.Config.Comment, 'site');
    const tags = await zoneTags(after!.Id);
    assert.equal(tags.env, 'prod');
    assert.equal(tags.team, undefined);
  });

  it('is replaced when its domain changes, and the plan says why', async () => {
    await t.apply(zone());
    const plan = await t.plan(zone({ domain: 'example.org' }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['domain']);
    await t.apply(zone({ domain: 'example.org' }));
    assert.equal((await zonesNamed('example.com')).length, 0);
    assert.equal((await zonesNamed('example.org')).length, 1);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(zone());
    const [z] = await zonesNamed('example.com');
    await t.boto.call('route53', 'DeleteHostedZone', { Id: z!.Id });
    assert.equal(actions(await t.plan(zone()))[ADDRESS], 'create');
    await t.apply(zone());
    const [again, ...others] = await zonesNamed('example.com');
    assert.equal(others.length, 0);
    assert.notEqual(again!.Id, z!.Id);
    // A fresh caller reference each time: Route 53 refuses one used before, even by a deleted zone.
    assert.notEqual(again!.CallerReference, z!.CallerReference);
  });

  it('puts its comment back after it is changed outside Touchdown', async () => {
    await t.apply(zone({ comment: 'web' }));
    const [z] = await zonesNamed('example.com');
    await t.boto.call('route53', 'UpdateHostedZoneComment', { Id: z!.Id, Comment: 'changed by hand' });
    const plan = await t.plan(zone({ comment: 'web' }));
    assert.deepEqual(plan.resources[0]!.changes, [
      { name: 'comment', before: 'changed by hand', after: 'web' },
    ]);
    await t.apply(zone({ comment: 'web' }));
    const [after] = await zonesNamed('example.com');
    assert.equal(after!.Config.Comment, 'web');
  });

  it('is deleted by destroy, even when a stopped run left it untagged (its caller reference tells)', async () => {
    await appliedThenUntagged(['touchdown:stack', 'touchdown:resource']);
    assertNoChanges(await t.plan(zone()));
    const plan = await t.destroy(zone());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal((await zonesNamed('example.com')).length, 0);
  });

  it("leaves a zone left untagged by the same stack in another region to that region's stack", async () => {
    // The same stack deploying in two regions at once: us-east-1's zone is untagged between its create and its
    // tags, and ap-northeast-1's plan reads it then.
    await appliedThenUntagged(['touchdown:stack', 'touchdown:resource', 'touchdown:region']);
    const elsewhere = new AwsClients({ region: 'ap-northeast-1', endpoint: t.aws.endpoint });
    const { plan } = await t.engine(zone(), { aws: elsewhere }).plan();
    assert.equal(actions(plan)[ADDRESS], 'create', "a zone of its own, not the other region's");
    // In its own region the zone is still the stack's, recognised by its caller reference.
    assert.notEqual(actions(await t.plan(zone()))[ADDRESS], 'create');
  });

  it('refuses to delete records it does not manage unless forced', async () => {
    await t.apply(zone());
    const [z] = await zonesNamed('example.com');
    await t.boto.call('route53', 'ChangeResourceRecordSets', {
      HostedZoneId: z!.Id,
      ChangeBatch: {
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: 'mail.example.com',
              Type: 'MX',
              TTL: 300,
              ResourceRecords: [{ Value: '10 mx.example.net' }],
            },
          },
        ],
      },
    });
    const { report } = await t.engine(zone()).destroy();
    assert.equal(report!.failed.length, 1);
    assert.match(report!.failed[0]!.error!, /1 DNS record \(mail\.example\.com MX\)/);
    assert.equal((await zonesNamed('example.com')).length, 1);
    await t.destroy(zone(), { force: true });
    assert.equal((await zonesNamed('example.com')).length, 0);
  });

  it('adopts an existing public zone nobody owns, and destroy leaves it in place', async () => {
    const made = await t.boto.call('route53', 'CreateHostedZone', {
      Name: 'example.com',
      CallerReference: 'made-by-hand',
      HostedZoneConfig: { Comment: 'the registrar points here' },
    });
    const id = made.HostedZone.Id as string;
    const plan = await t.apply(zone({ comment: 'ignored for an adopted zone', tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [z, ...others] = await zonesNamed('example.com');
    assert.equal(others.length, 0, 'no second zone');
    assert.equal(z!.Id, id);
    assert.equal(z!.Config.Comment, 'the registrar points here');
    assert.deepEqual(await zoneTags(id), {
      'touchdown:stack': 'zone-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      'touchdown:adopted': 'true',
    });
    assertNoChanges(await t.plan(zone({ comment: 'ignored for an adopted zone', tags: { team: 'web' } })));
    await t.destroy(zone());
    assert.equal((await zonesNamed('example.com'))[0]?.Id, id, 'the adopted zone stays');
    assert.deepEqual(await zoneTags(id), {});
    // Once another stack has adopted it, this one may not: it says so, and adopt: false makes a second zone.
    await t.apply(zone({}, 'other-stack'));
    const { report } = await t.engine(zone()).apply();
    assert.match(report!.failed[0]!.error!, /belongs to the stack "other-stack".*adopt: false/);
    await t.apply(zone({ adopt: false }));
    assert.equal((await zonesNamed('example.com')).length, 2);
  });

  it('is private to a VPC when given one', async () => {
    const aws = new AwsStack('zone-test');
    const vpc = aws.addVpc({ name: 'main', cidrBlock: '10.1.0.0/16' });
    aws.add(HostedZone, { name: 'internal', domain: 'internal.example', vpcId: vpc.id });
    await t.apply(aws);
    const [z] = await zonesNamed('internal.example');
    assert.equal(z!.Config.PrivateZone, true);
    const detail = await t.boto.call('route53', 'GetHostedZone', { Id: z!.Id });
    const { Vpcs } = await t.boto.call('ec2', 'DescribeVpcs', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: ['zone-test'] }],
    });
    assert.equal(detail.VPCs[0].VPCId, Vpcs[0].VpcId);
    assertNoChanges(await t.plan(aws));
  });
});
