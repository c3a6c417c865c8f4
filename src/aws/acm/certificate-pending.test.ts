import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, useLocalAws } from '../../../test/support/harness.js';
import { HostedZone } from '../route53/hosted-zone.js';
import { AwsStack } from '../stack.js';
import { Certificate } from './certificate.js';

// The emulator keeps certificates PENDING_VALIDATION for an hour, as AWS does when it cannot see the records.
const t = useLocalAws({ declaredTypesOnly: true, env: { MOTO_ACM_VALIDATION_WAIT: '3600' } });

function site() {
  const aws = new AwsStack('pending-test');
  const zone = aws.add(HostedZone, { name: 'public', domain: 'example.com', adopt: false });
  aws.add(Certificate, { name: 'web', domainName: 'example.com', zoneId: zone.id });
  return aws;
}

describe('Certificate that ACM does not issue', () => {
  it('makes apply give up after the issue timeout with advice, and plans to wait again next time', async () => {
    // 75 minutes scaled down to about two seconds.
    const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 30_000, timeoutFactor: 0.0005 };
    const { report } = await t.engine(site(), { timing }).apply();
    const [failed, ...others] = report!.failed;
    assert.equal(others.length, 0);
    assert.equal(failed!.address, 'certificate.web');
    assert.match(
      failed!.error!,
      /^waiting for certificate "web": gave up waiting for certificate "web" to be issued after \d+s; it was still "PENDING_VALIDATION"/,
    );
    const { HostedZones } = await t.boto.call('route53', 'ListHostedZonesByName', { DNSName: 'example.com' });
    const zone = await t.boto.call('route53', 'GetHostedZone', { Id: HostedZones[0].Id });
    assert.match(failed!.hint!, /authoritative/);
    assert.ok(
      failed!.hint!.includes(zone.DelegationSet.NameServers[0]),
      "the hint names the zone's name servers",
    );

    // The records are in place; ACM just has not looked yet.
    const { CertificateSummaryList } = await t.boto.call('acm', 'ListCertificates', {});
    const { Certificate: cert } = await t.boto.call('acm', 'DescribeCertificate', {
      CertificateArn: CertificateSummaryList[0].CertificateArn,
    });
    assert.equal(cert.Status, 'PENDING_VALIDATION');
    const { ResourceRecordSets } = await t.boto.call('route53', 'ListResourceRecordSets', {
      HostedZoneId: HostedZones[0].Id,
    });
    const record = cert.DomainValidationOptions[0].ResourceRecord;
    assert.ok(
      ResourceRecordSets.some(
        (s: { Name: string; Type: string }) => s.Name === record.Name && s.Type === 'CNAME',
      ),
    );

    // The next plan keeps the certificate and shows that apply will wait for it again.
    const plan = await t.plan(site());
    assert.equal(actions(plan)['certificate.web'], 'update');
    assert.deepEqual(plan.resources.find((r) => r.address === 'certificate.web')!.changes, [
      { name: 'validation', before: 'DNS (pending validation)', after: 'DNS' },
    ]);
  });
});
