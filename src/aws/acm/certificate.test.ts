import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Boto } from '../../../test/support/boto.js';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { HostedZone } from '../route53/hosted-zone.js';
import { AwsStack } from '../stack.js';
import { Certificate } from './certificate.js';

// The emulator issues a certificate as soon as it is looked at again (AWS: once it sees the records).
const t = useLocalAws({ declaredTypesOnly: true, env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
const ADDRESS = 'certificate.web';

interface Options {
  sans?: string[];
  tags?: Record<string, string>;
  region?: string;
  withZone?: boolean;
}

function site(o: Options = {}) {
  const aws = new AwsStack('cert-test');
  const zone = aws.add(HostedZone, { name: 'public', domain: 'example.com', adopt: false });
  aws.add(Certificate, {
    name: 'web',
    domainName: 'example.com',
    subjectAlternativeNames: o.sans ?? ['*.example.com', 'www.example.com'],
    zoneId: o.withZone === false ? undefined : zone.id,
    region: o.region,
    tags: o.tags,
  });
  return aws;
}

interface BotoCert {
  CertificateArn: string;
  DomainName: string;
  Status: string;
  SubjectAlternativeNames: string[];
  DomainValidationOptions: { ResourceRecord: { Name: string; Value: string } }[];
}

async function stackCertificates(boto: Boto = t.boto): Promise<BotoCert[]> {
  const { ResourceTagMappingList } = await boto.call('resourcegroupstaggingapi', 'GetResources', {
    ResourceTypeFilters: ['acm:certificate'],
    TagFilters: [{ Key: 'touchdown:stack', Values: ['cert-test'] }],
  });
  return Promise.all(
    (ResourceTagMappingList as { ResourceARN: string }[]).map(
      async (r) =>
        (await boto.call('acm', 'DescribeCertificate', { CertificateArn: r.ResourceARN })).Certificate,
    ),
  );
}

async function certTags(arn: string, boto: Boto = t.boto): Promise<Record<string, string>> {
  const { Tags } = await boto.call('acm', 'ListTagsForCertificate', { CertificateArn: arn });
  return Object.fromEntries((Tags as { Key: string; Value?: string }[]).map((x) => [x.Key, x.Value ?? '']));
}

async function zoneCnames(): Promise<Map<string, string>> {
  const { HostedZones } = await t.boto.call('route53', 'ListHostedZonesByName', { DNSName: 'example.com' });
  if (HostedZones.length === 0) return new Map();
  const { ResourceRecordSets } = await t.boto.call('route53', 'ListResourceRecordSets', {
    HostedZoneId: HostedZones[0].Id,
  });
  return new Map(
    (ResourceRecordSets as { Name: string; Type: string; ResourceRecords: { Value: string }[] }[])
      .filter((s) => s.Type === 'CNAME')
      .map((s) => [s.Name, s.ResourceRecords[0]!.Value]),
  );
}

describe('Certificate', () => {
  it('writes its validation records to the zone, waits until ISSUED, and re-plans to no changes', async () => {
    const plan = await t.apply(site({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    const [cert, ...others] = await stackCertificates();
    assert.equal(others.length, 0);
    assert.equal(cert!.Status, 'ISSUED');
    assert.equal(cert!.DomainName, 'example.com');
    assert.deepEqual(cert!.SubjectAlternativeNames.sort(), [
      '*.example.com',
      'example.com',
      'www.example.com',
    ]);
    const zone = (
      await t.boto.call('route53', 'ListHostedZonesByName', { DNSName: 'example.com' })
    ).HostedZones[0].Id.replace('/hostedzone/', '');
    assert.deepEqual(await certTags(cert!.CertificateArn), {
      'touchdown:stack': 'cert-test',
      'touchdown:resource': ADDRESS,
      'touchdown:region': 'us-east-1',
      'touchdown:zone': zone,
      team: 'web',
    });
    // Every record ACM asks for is in the zone (example.com and *.example.com share one).
    const cnames = await zoneCnames();
    for (const o of cert!.DomainValidationOptions) {
      assert.equal(cnames.get(o.ResourceRecord.Name), o.ResourceRecord.Value);
    }
    assertNoChanges(await t.plan(site({ tags: { team: 'web' } })));
  });

  it('changes its tags in place and puts them back after a change outside Touchdown', async () => {
    await t.apply(site({ tags: { team: 'web' } }));
    const [before] = await stackCertificates();
    assert.equal(actions(await t.plan(site({ tags: { env: 'prod' } })))[ADDRESS], 'update');
    await t.apply(site({ tags: { env: 'prod' } }));
    const [after] = await stackCertificates();
    assert.equal(after!.CertificateArn, before!.CertificateArn);
    let tags = await certTags(after!.CertificateArn);
    assert.equal(tags.env, 'prod');
    assert.equal(tags.team, undefined);
    // Tags are the only thing about a certificate that can change outside Touchdown.
    await t.boto.call('acm', 'RemoveTagsFromCertificate', {
      CertificateArn: after!.CertificateArn,
      Tags: [{ Key: 'env' }],
    });
    const plan = await t.plan(site({ tags: { env: 'prod' } }));
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'tags', before: {}, after: { env: 'prod' } },
    ]);
    await t.apply(site({ tags: { env: 'prod' } }));
    tags = await certTags(after!.CertificateArn);
    assert.equal(tags.env, 'prod');
  });

  it('is replaced when its names change, and the plan says why', async () => {
    await t.apply(site());
    const [before] = await stackCertificates();
    const plan = await t.plan(site({ sans: ['www.example.com'] }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['subjectAlternativeNames']);
    await t.apply(site({ sans: ['www.example.com'] }));
    const certs = await stackCertificates();
    assert.equal(certs.length, 1);
    assert.notEqual(certs[0]!.CertificateArn, before!.CertificateArn);
    assert.equal(certs[0]!.Status, 'ISSUED');
  });

  it('is requested again after being deleted outside Touchdown', async () => {
    await t.apply(site());
    const [cert] = await stackCertificates();
    await t.boto.call('acm', 'DeleteCertificate', { CertificateArn: cert!.CertificateArn });
    assert.equal(actions(await t.plan(site()))[ADDRESS], 'create');
    await t.apply(site());
    const certs = await stackCertificates();
    assert.equal(certs.length, 1);
    assert.notEqual(certs[0]!.CertificateArn, cert!.CertificateArn);
  });

  it('is deleted by destroy, and its validation records leave the zone', async () => {
    await t.apply(site({ withZone: true }));
    const destroyed = await t.destroy(site());
    assert.equal(actions(destroyed)[ADDRESS], 'delete');
    assert.equal((await stackCertificates()).length, 0);
    assert.equal((await t.boto.call('route53', 'ListHostedZones', {})).HostedZones.length, 0);
  });

  it('keeps validation records another certificate for the same name still needs', async () => {
    await t.apply(site());
    const other = await t.boto.call('acm', 'RequestCertificate', {
      DomainName: 'www.example.com',
      ValidationMethod: 'DNS',
    });
    const { report } = await t.engine(site()).destroy();
    assert.equal((await stackCertificates()).length, 0);
    const needed = (await t.boto.call('acm', 'DescribeCertificate', { CertificateArn: other.CertificateArn }))
      .Certificate.DomainValidationOptions[0].ResourceRecord;
    const cnames = await zoneCnames();
    assert.deepEqual([...cnames], [[needed.Name, needed.Value]], 'only the record still needed stays');
    // The zone then holds a record no declared resource manages: destroy leaves it unless forced.
    assert.deepEqual(
      report!.failed.map((f) => f.address),
      ['hosted-zone.public'],
    );
    assert.match(report!.failed[0]!.error!, /1 DNS record/);
  });

  it('is created in another region when asked, and moved by a new certificate', async () => {
    const elsewhere = new Boto(t.aws.endpoint, 'eu-west-1');
    after(() => elsewhere.close());
    await t.apply(site());
    const [home] = await stackCertificates();
    const plan = await t.plan(site({ region: 'eu-west-1' }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    assert.equal(actions(plan)[`${ADDRESS}@us-east-1`], 'delete');
    await t.apply(site({ region: 'eu-west-1' }));
    assert.equal((await stackCertificates()).length, 0);
    const [cert] = await stackCertificates(elsewhere);
    assert.match(cert!.CertificateArn, /^arn:aws:acm:eu-west-1:/);
    assert.notEqual(cert!.CertificateArn, home!.CertificateArn);
    assert.equal(cert!.Status, 'ISSUED');
    assertNoChanges(await t.plan(site({ region: 'eu-west-1' })));
    await t.destroy(site({ region: 'eu-west-1' }));
    assert.equal((await stackCertificates(elsewhere)).length, 0);
  });
});
