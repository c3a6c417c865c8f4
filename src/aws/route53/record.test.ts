import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { AwsStack } from '../stack.js';
import { HostedZone } from './hosted-zone.js';
import { DnsRecord, txtRecordValue, txtText } from './record.js';

const t = useLocalAws({ declaredTypesOnly: true });
const LONG_TEXT = `v=DKIM1; k=rsa; p=${'A'.repeat(300)}`;

interface Options {
  ip?: string;
  ttl?: number;
  wwwName?: string;
  withText?: boolean;
}

/** A zone with an A record, a TXT record longer than one DNS string, and an A + AAAA alias pair on one name. */
function site(o: Options = {}, stackName = 'dns-test') {
  const aws = new AwsStack(stackName);
  const zone = aws.add(HostedZone, { name: 'public', domain: 'example.com', adopt: false });
  aws.add(DnsRecord, {
    name: 'www',
    zoneId: zone.id,
    recordName: o.wwwName ?? 'www.example.com.',
    type: 'A',
    ttl: o.ttl,
    values: [o.ip ?? '203.0.113.10'],
  });
  if (o.withText !== false) {
    aws.add(DnsRecord, {
      name: 'dkim',
      zoneId: zone.id,
      recordName: 'sel._domainkey.example.com',
      type: 'TXT',
      values: [LONG_TEXT],
    });
  }
  for (const type of ['A', 'AAAA'] as const) {
    aws.add(DnsRecord, {
      name: `apex-${type.toLowerCase()}`,
      zoneId: zone.id,
      recordName: 'example.com',
      type,
      alias: { dnsName: 'Web-123.us-east-1.elb.amazonaws.com', hostedZoneId: 'Z35SXDOTRQ7X7K' },
    });
  }
  return aws;
}

interface BotoSet {
  Name: string;
  Type: string;
  TTL?: number;
  ResourceRecords?: { Value: string }[];
  AliasTarget?: { DNSName: string; HostedZoneId: string; EvaluateTargetHealth: boolean };
}

async function zoneId(): Promise<string> {
  const { HostedZones } = await t.boto.call('route53', 'ListHostedZonesByName', { DNSName: 'example.com' });
  return HostedZones[0].Id;
}

async function records(): Promise<Map<string, BotoSet>> {
  const { ResourceRecordSets } = await t.boto.call('route53', 'ListResourceRecordSets', {
    HostedZoneId: await zoneId(),
  });
  return new Map((ResourceRecordSets as BotoSet[]).map((s) => [`${s.Name.toLowerCase()} ${s.Type}`, s]));
}

const values = (s: BotoSet | undefined) => s?.ResourceRecords?.map((r) => r.Value);

async function upsert(set: BotoSet) {
  await t.boto.call('route53', 'ChangeResourceRecordSets', {
    HostedZoneId: await zoneId(),
    ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: set }] },
  });
}

describe('DnsRecord', () => {
  it('writes records with ownership TXT records beside them; a second plan shows no changes', async () => {
    const plan = await t.apply(site());
    assert.equal(actions(plan)['dns-record.www'], 'create');
    const sets = await records();
    assert.deepEqual(values(sets.get('www.example.com. A')), ['203.0.113.10']);
    assert.equal(sets.get('www.example.com. A')!.TTL, 300);
    // TXT text longer than 255 characters goes as several quoted strings.
    const txt = values(sets.get('sel._domainkey.example.com. TXT'))!;
    assert.deepEqual(txt, [`"${LONG_TEXT.slice(0, 255)}" "${LONG_TEXT.slice(255)}"`]);
    for (const type of ['A', 'AAAA']) {
      assert.deepEqual(sets.get(`example.com. ${type}`)!.AliasTarget, {
        DNSName: 'Web-123.us-east-1.elb.amazonaws.com',
        HostedZoneId: 'Z35SXDOTRQ7X7K',
        EvaluateTargetHealth: false,
      });
    }
    assert.deepEqual(values(sets.get('_touchdown-a.www.example.com. TXT')), [
      '"heritage=touchdown,touchdown/stack=dns-test,touchdown/resource=dns-record.www,touchdown/region=us-east-1"',
    ]);
    assert.ok(sets.has('_touchdown-aaaa.example.com. TXT'));
    assertNoChanges(await t.plan(site()));
  });

  it('changes values and TTL in place', async () => {
    await t.apply(site());
    const plan = await t.plan(site({ ip: '203.0.113.20', ttl: 60 }));
    assert.equal(actions(plan)['dns-record.www'], 'update');
    await t.apply(site({ ip: '203.0.113.20', ttl: 60 }));
    const www = (await records()).get('www.example.com. A')!;
    assert.deepEqual(values(www), ['203.0.113.20']);
    assert.equal(www.TTL, 60);
  });

  it('moves to a new name as a new record, deleting the old one and its ownership record', async () => {
    await t.apply(site());
    const plan = await t.plan(site({ wwwName: 'web.example.com' }));
    // A record is found by zone, name and type, so a new name is a different record.
    assert.equal(actions(plan)['dns-record.www'], 'create');
    const old = plan.resources.find((r) => r.action === 'delete')!;
    assert.equal(old.reason, 'no longer declared');
    assert.match(old.address, /www\.example\.com\/A$/);
    await t.apply(site({ wwwName: 'web.example.com' }));
    const sets = await records();
    assert.ok(sets.has('web.example.com. A'));
    assert.ok(!sets.has('www.example.com. A'));
    assert.ok(!sets.has('_touchdown-a.www.example.com. TXT'));
  });

  it('is written again after being deleted outside Touchdown', async () => {
    await t.apply(site());
    const www = (await records()).get('www.example.com. A')!;
    await t.boto.call('route53', 'ChangeResourceRecordSets', {
      HostedZoneId: await zoneId(),
      ChangeBatch: { Changes: [{ Action: 'DELETE', ResourceRecordSet: www }] },
    });
    assert.equal(actions(await t.plan(site()))['dns-record.www'], 'create');
    await t.apply(site());
    assert.deepEqual(values((await records()).get('www.example.com. A')), ['203.0.113.10']);
  });

  it('is put back after its values are changed outside Touchdown', async () => {
    await t.apply(site());
    await upsert({
      Name: 'www.example.com',
      Type: 'A',
      TTL: 300,
      ResourceRecords: [{ Value: '198.51.100.7' }],
    });
    const plan = await t.plan(site());
    const www = plan.resources.find((r) => r.address === 'dns-record.www')!;
    assert.deepEqual(www.changes, [{ name: 'values', before: ['198.51.100.7'], after: ['203.0.113.10'] }]);
    await t.apply(site());
    assert.deepEqual(values((await records()).get('www.example.com. A')), ['203.0.113.10']);
  });

  it('deletes only the records it wrote: undeclared ones with its ownership record, never others', async () => {
    await t.apply(site());
    await upsert({
      Name: 'hand.example.com',
      Type: 'TXT',
      TTL: 300,
      ResourceRecords: [{ Value: '"by hand"' }],
    });
    const plan = await t.apply(site({ withText: false }));
    const deleted = plan.resources.filter((r) => r.action === 'delete').map((r) => r.address);
    assert.equal(deleted.length, 1);
    assert.match(deleted[0]!, /sel\._domainkey\.example\.com\/TXT$/);
    const sets = await records();
    assert.ok(!sets.has('sel._domainkey.example.com. TXT'));
    assert.ok(!sets.has('_touchdown-txt.sel._domainkey.example.com. TXT'));
    assert.ok(sets.has('hand.example.com. TXT'));
  });

  it('refuses a record another stack owns', async () => {
    await t.apply(site());
    const other = new AwsStack('other-stack');
    other.add(DnsRecord, {
      name: 'www',
      zoneId: (await zoneId()).replace('/hostedzone/', ''),
      recordName: 'www.example.com',
      type: 'A',
      values: ['192.0.2.1'],
    });
    await assert.rejects(t.plan(other), /belongs to the stack "dns-test"/);
  });

  it('is deleted by destroy, with its ownership records', async () => {
    await t.apply(site());
    const plan = await t.destroy(site());
    const records = plan.resources.filter((r) => r.kind === 'dns-record');
    assert.deepEqual(
      records.map((r) => r.action),
      ['delete', 'delete', 'delete', 'delete'],
    );
    assert.equal((await t.boto.call('route53', 'ListHostedZones', {})).HostedZones.length, 0);
  });

  it('quotes TXT text for DNS and reads it back', () => {
    assert.equal(txtRecordValue('say "hi"'), '"say \\"hi\\""');
    assert.equal(txtText(txtRecordValue(LONG_TEXT)), LONG_TEXT);
    assert.equal(txtRecordValue('"already quoted"'), '"already quoted"');
  });
});
