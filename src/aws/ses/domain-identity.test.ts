import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import { HostedZone } from '../route53/hosted-zone.js';
import { AwsStack } from '../stack.js';
import { EmailDomain, sesSmtpPassword } from './domain-identity.js';

const t = useLocalAws({ declaredTypesOnly: true });
const ADDRESS = 'email-domain.mail';

interface Options {
  domain?: string;
  mailFrom?: string | null;
  tags?: Record<string, string>;
  withZone?: boolean;
}

function site(o: Options = {}) {
  const aws = new AwsStack('ses-test');
  const zone = aws.add(HostedZone, { name: 'public', domain: 'example.com', adopt: false });
  const mail = aws.add(EmailDomain, {
    name: 'mail',
    domain: o.domain ?? 'example.com',
    zoneId: o.withZone === false ? undefined : zone.id,
    mailFromSubdomain: o.mailFrom === null ? undefined : (o.mailFrom ?? 'mail'),
    tags: o.tags,
  });
  aws.output('smtpEndpoint', mail.smtpEndpoint);
  return aws;
}

async function identityTags(domain = 'example.com'): Promise<Record<string, string> | undefined> {
  const { ResourceTagMappingList } = await t.boto.call('resourcegroupstaggingapi', 'GetResources', {
    ResourceTypeFilters: ['ses'],
  });
  const mapping = (
    ResourceTagMappingList as { ResourceARN: string; Tags: { Key: string; Value: string }[] }[]
  ).find((m) => m.ResourceARN.endsWith(`/${domain}`));
  return mapping && Object.fromEntries(mapping.Tags.map((x) => [x.Key, x.Value]));
}

async function identityExists(domain = 'example.com'): Promise<boolean> {
  return (await t.boto.errorOf('sesv2', 'GetEmailIdentity', { EmailIdentity: domain })) === undefined;
}

// moto's SES v2 CreateEmailIdentity and GetEmailIdentity return no DKIM tokens; SES v1 (which Touchdown reads) does.
async function dkimTokens(domain = 'example.com'): Promise<string[]> {
  const r = await t.boto.call('ses', 'GetIdentityDkimAttributes', { Identities: [domain] });
  return r.DkimAttributes[domain].DkimTokens;
}

async function mailFromDomain(domain = 'example.com'): Promise<string | undefined> {
  const r = await t.boto.call('ses', 'GetIdentityMailFromDomainAttributes', { Identities: [domain] });
  return r.MailFromDomainAttributes[domain]?.MailFromDomain;
}

async function zoneRecords(): Promise<Map<string, string[]>> {
  const { HostedZones } = await t.boto.call('route53', 'ListHostedZonesByName', { DNSName: 'example.com' });
  const { ResourceRecordSets } = await t.boto.call('route53', 'ListResourceRecordSets', {
    HostedZoneId: HostedZones[0].Id,
  });
  return new Map(
    (ResourceRecordSets as { Name: string; Type: string; ResourceRecords: { Value: string }[] }[]).map(
      (s) => [`${s.Name} ${s.Type}`, s.ResourceRecords.map((r) => r.Value)],
    ),
  );
}

describe('EmailDomain', () => {
  it('is created with its tags, DKIM and MAIL FROM records in the zone; a second plan shows no changes', async () => {
    const plan = await t.apply(site({ tags: { team: 'web' } }));
    assert.equal(actions(plan)[ADDRESS], 'create');
    assert.ok(await identityExists());
    const tags = await identityTags();
    assert.equal(tags!['touchdown:stack'], 'ses-test');
    assert.equal(tags!['touchdown:resource'], ADDRESS);
    assert.equal(tags!.team, 'web');
    assert.match(tags!['touchdown:zone']!, /^[A-Z0-9]+$/);
    const records = await zoneRecords();
    const tokens = await dkimTokens();
    assert.equal(tokens.length, 3);
    for (const token of tokens) {
      assert.deepEqual(records.get(`${token}._domainkey.example.com. CNAME`), [
        `${token}.dkim.amazonses.com`,
      ]);
    }
    assert.equal(await mailFromDomain(), 'mail.example.com');
    assert.deepEqual(records.get('mail.example.com. MX'), ['10 feedback-smtp.us-east-1.amazonses.com']);
    assert.deepEqual(records.get('mail.example.com. TXT'), ['"v=spf1 include:amazonses.com ~all"']);
    const outputs = await t.engine(site({ tags: { team: 'web' } })).outputs();
    assert.equal(outputs.smtpEndpoint, 'email-smtp.us-east-1.amazonaws.com');
    assertNoChanges(await t.plan(site({ tags: { team: 'web' } })));
  });

  it('changes its tags and MAIL FROM domain in place, moving the records', async () => {
    await t.apply(site({ tags: { team: 'web' } }));
    const plan = await t.plan(site({ mailFrom: 'bounce', tags: { env: 'prod' } }));
    assert.equal(actions(plan)[ADDRESS], 'update');
    await t.apply(site({ mailFrom: 'bounce', tags: { env: 'prod' } }));
    const tags = await identityTags();
    assert.equal(tags!.env, 'prod');
    assert.equal(tags!.team, undefined);
    assert.equal(await mailFromDomain(), 'bounce.example.com');
    const records = await zoneRecords();
    assert.ok(records.has('bounce.example.com. MX'));
    assert.ok(!records.has('mail.example.com. MX'));
    assert.ok(!records.has('mail.example.com. TXT'));
  });

  it('is replaced when its domain changes, and the plan says why', async () => {
    await t.apply(site({ withZone: false, mailFrom: null }));
    const plan = await t.plan(site({ domain: 'example.org', withZone: false, mailFrom: null }));
    const change = plan.resources.find((r) => r.address === ADDRESS)!;
    assert.equal(change.action, 'replace');
    assert.deepEqual(change.replaceBecause, ['domain']);
    await t.apply(site({ domain: 'example.org', withZone: false, mailFrom: null }));
    assert.equal(await identityExists('example.com'), false);
    assert.equal(await identityExists('example.org'), true);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await t.apply(site());
    await t.boto.call('sesv2', 'DeleteEmailIdentity', { EmailIdentity: 'example.com' });
    assert.equal(actions(await t.plan(site()))[ADDRESS], 'create');
    await t.apply(site());
    assert.ok(await identityExists());
    assert.equal(await mailFromDomain(), 'mail.example.com');
  });

  it('puts its MAIL FROM domain back after it is changed outside Touchdown', async () => {
    await t.apply(site());
    await t.boto.call('ses', 'SetIdentityMailFromDomain', {
      Identity: 'example.com',
      MailFromDomain: 'other.example.com',
    });
    const plan = await t.plan(site());
    assert.deepEqual(plan.resources.find((r) => r.address === ADDRESS)!.changes, [
      { name: 'mailFromSubdomain', before: 'other', after: 'mail' },
    ]);
    await t.apply(site());
    assert.equal(await mailFromDomain(), 'mail.example.com');
  });

  it('is deleted by destroy, with its records', async () => {
    await t.apply(site());
    const plan = await t.destroy(site());
    assert.equal(actions(plan)[ADDRESS], 'delete');
    assert.equal(await identityExists(), false);
    // The zone goes too: it would refuse while any record other than its own NS and SOA was left in it.
    assert.equal((await t.boto.call('route53', 'ListHostedZones', {})).HostedZones.length, 0);
  });

  it('derives the SMTP password AWS expects from a secret access key', () => {
    // Vectors from terraform-provider-aws (internal/service/iam/access_key_test.go,
    // TestSESSMTPPasswordFromSecretKeySigV4), whose passwords authenticate against SES.
    assert.equal(
      sesSmtpPassword('some+secret+key', 'eu-central-1'),
      'BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2',
    );
    assert.equal(
      sesSmtpPassword('another+secret+key', 'eu-central-1'),
      'BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh',
    );
    assert.equal(
      sesSmtpPassword('some+secret+key', 'us-west-1'),
      'BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj',
    );
    assert.equal(
      sesSmtpPassword('another+secret+key', 'us-west-1'),
      'BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF',
    );
  });
});
