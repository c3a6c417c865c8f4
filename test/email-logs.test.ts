// Email through SES and `touchdown logs`, on the xkcd app deployed to the local AWS from the command line.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { copyOfExample, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const run = promisify(execFile);
const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', LOCAL_AWS_ECS_SERVICES_START: 'true' } });
// After the harness's reset: the release's one-off task stops at its first look, as in test/reliability/app.ts.
beforeEach(() => t.aws.setTransition('ecs::task', { progression: 'immediate' }));
const cwd = await copyOfExample('xkcd', ['touchdown.yml']);
await appendFile(join(cwd, 'touchdown.yml'), '\nemail:\n  from: comics@xkcd.example.com\n');
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:v1';
const cli = (...args: string[]) => runCli(args, { cwd, aws: t.aws });

/** The web container's plain environment, as ECS would start it. */
async function webEnvironment(): Promise<Record<string, string>> {
  const { services } = await t.boto.call('ecs', 'DescribeServices', {
    cluster: 'xkcd-production-main',
    services: ['xkcd-production-web'],
  });
  const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
    taskDefinition: services[0].taskDefinition,
  });
  const env = taskDefinition.containerDefinitions[0].environment as { name: string; value: string }[];
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}

describe('email and logs of a deployed app', () => {
  it('verifies the sender domain with DKIM records, Django sends through SES with what the task gets; logs prints the web and release lines, filtered', async () => {
    const deployed = await cli('deploy', '--image', IMAGE, '--yes');
    assert.equal(deployed.code, 0, deployed.stderr);

    const { DkimAttributes } = await t.boto.call('ses', 'GetIdentityDkimAttributes', {
      Identities: ['xkcd.example.com'],
    });
    const tokens = DkimAttributes['xkcd.example.com'].DkimTokens as string[];
    assert.equal(tokens.length, 3);
    const { HostedZones } = await t.boto.call('route53', 'ListHostedZonesByName', { DNSName: 'example.com' });
    const { ResourceRecordSets } = await t.boto.call('route53', 'ListResourceRecordSets', {
      HostedZoneId: HostedZones[0].Id,
    });
    const dkim = (
      ResourceRecordSets as { Name: string; Type: string; ResourceRecords?: { Value: string }[] }[]
    )
      .filter((r) => r.Type === 'CNAME' && r.Name.includes('._domainkey.'))
      .map((r) => [r.Name.split('.')[0], r.ResourceRecords![0]!.Value]);
    assert.deepEqual(
      dkim.sort(),
      tokens.map((tk) => [tk, `${tk}.dkim.amazonses.com`]).sort(),
      'one CNAME per DKIM token in the zone',
    );

    const env = await webEnvironment();
    assert.equal(env.EMAIL_BACKEND, 'ses');
    assert.equal(env.DEFAULT_FROM_EMAIL, 'comics@xkcd.example.com');
    const { Role } = await t.boto.call('iam', 'GetRole', { RoleName: 'xkcd-production-app-us-east-1' });
    const { PolicyDocument } = await t.boto.call('iam', 'GetRolePolicy', {
      RoleName: Role.RoleName,
      PolicyName: 'app',
    });
    assert.ok(
      JSON.stringify(PolicyDocument).includes('ses:SendRawEmail'),
      'the app may send mail, and its role says so',
    );

    // Django, given the task's environment (endpoint aside), really sends through the SES API.
    const before = await t.boto.call('ses', 'GetSendQuota');
    await run(
      join(repoRoot, '.venv', 'bin', 'python'),
      ['manage.py', 'sendtestemail', 'reader@example.org'],
      {
        cwd: join(repoRoot, 'examples', 'xkcd'),
        env: {
          ...process.env,
          ...t.aws.env,
          ...env,
          DJANGO_SECRET_KEY: 'test-only',
          DATABASE_PASSWORD: 'unused',
        },
      },
    );
    const after = await t.boto.call('ses', 'GetSendQuota');
    // The emulator counts a raw message's recipient twice (given, and read from its To header).
    assert.ok(after.SentLast24Hours > before.SentLast24Hours, 'the message went through SES');

    // touchdown logs on the same deployed stack (one deploy shows both): the web and release processes' lines,
    // filtered, from their log groups.
    const now = Date.now();
    const write = async (group: string, stream: string, messages: string[]) => {
      await t.boto.call('logs', 'CreateLogStream', { logGroupName: group, logStreamName: stream });
      await t.boto.call('logs', 'PutLogEvents', {
        logGroupName: group,
        logStreamName: stream,
        logEvents: messages.map((message, i) => ({ timestamp: now - 1000 + i, message })),
      });
    };
    await write('/xkcd-production/web', 'web/django/task1', ['GET / 200', 'ERROR boom in view']);
    await write('/xkcd-production/release', 'release/django/task2', ['Applying comics.0001_initial... OK']);

    const all = await cli('logs', '--since', '5m');
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.split(' ').slice(1).join(' ')).sort(), [
      'release Applying comics.0001_initial... OK',
      'web ERROR boom in view',
      'web GET / 200',
    ]);
    const web = await cli('logs', '--process', 'web', '--since', '5m');
    assert.equal(web.stdout.trim().split('\n').length, 2);
    const errors = await cli('logs', '--filter', 'ERROR', '--since', '5m');
    assert.match(errors.stdout.trim(), /^\S+ web ERROR boom in view$/);
  });
});
