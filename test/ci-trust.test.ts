// What `ci:` in touchdown.yml gives the stack, as boto3 reads it on the local AWS: the CI service's OIDC
// provider and a deploy role only the repository's branch may assume (GitHub, CircleCI), or a CodeBuild project
// with its own role; the role's policy is what deploy --image does, with no grant IAM would never apply.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseManifest } from '../src/config/load-manifest.js';
import { ConfigError } from '../src/core/errors.js';
import { awsBlueprint } from '../src/django/blueprint/index.js';
import { copyOfExample } from './support/cli.js';
import { assertNoChanges, useLocalAws } from './support/harness.js';
import { grantsThatCannotApply } from './support/iam-grants.js';

const t = useLocalAws();
const ACCOUNT = '123456789012';
const ROLE = 'blog-production-ci-deploy';
// IAM names are account-wide: the role declared as ROLE is named with its region.
const ROLE_NAME = `${ROLE}-us-east-1`;
const ORG = '0b3e7c1a-9f4d-4e2b-8a6c-5d1f2e3a4b5c';
const PROJECT = '7c9d2e1f-3a4b-4c5d-8e6f-0a1b2c3d4e5f';

// biome-ignore lint/suspicious/noExplicitAny: a YAML document edited in place
async function blog(edit: (doc: any) => void) {
  const dir = await copyOfExample('blog', ['touchdown.yml']);
  const path = join(dir, 'touchdown.yml');
  const doc = parse(await readFile(path, 'utf8'));
  edit(doc);
  await writeFile(path, stringify(doc));
  return parseManifest(await readFile(path, 'utf8'), path);
}

const blueprint = (loaded: Awaited<ReturnType<typeof blog>>) =>
  awsBlueprint(loaded, { region: 'us-east-1', account: ACCOUNT, zones: ['us-east-1a', 'us-east-1b'] });

/** Applies only what ci: adds (and what it references), as the next deploy would. */
async function applyTrust(loaded: Awaited<ReturnType<typeof blog>>, addresses: string[]) {
  const { report } = await t.engine(blueprint(loaded)).apply({ only: (a) => addresses.includes(a) });
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
}

// biome-ignore lint/suspicious/noExplicitAny: IAM documents as boto3 reads them
async function role(): Promise<{ trust: any; policies: Record<string, any> }> {
  const { Role } = await t.boto.call('iam', 'GetRole', { RoleName: ROLE_NAME });
  const { PolicyNames } = await t.boto.call('iam', 'ListRolePolicies', { RoleName: ROLE_NAME });
  const policies: Record<string, unknown> = {};
  for (const name of PolicyNames) {
    const { PolicyDocument } = await t.boto.call('iam', 'GetRolePolicy', {
      RoleName: ROLE_NAME,
      PolicyName: name,
    });
    policies[`${ROLE}/${name}`] = PolicyDocument;
  }
  return { trust: Role.AssumeRolePolicyDocument, policies };
}

describe('ci: gives the stack the trust its pipeline needs', () => {
  it('github: the account’s GitHub provider, and a role only the repository’s branch may assume', async () => {
    const loaded = await blog((doc) => {
      doc.ci = { provider: 'github', repo: 'octo-org/blog', branch: 'release' };
    });
    const trust = ['oidc-provider.github', `role.${ROLE}`];
    await applyTrust(loaded, trust);

    const arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const provider = await t.boto.call('iam', 'GetOpenIDConnectProvider', { OpenIDConnectProviderArn: arn });
    assert.equal(provider.Url, 'token.actions.githubusercontent.com');
    assert.deepEqual(provider.ClientIDList, ['sts.amazonaws.com']);

    const { trust: doc, policies } = await role();
    assert.deepEqual(doc.Statement, [
      {
        Effect: 'Allow',
        Principal: { Federated: arn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            'token.actions.githubusercontent.com:sub': 'repo:octo-org/blog:ref:refs/heads/release',
          },
        },
      },
    ]);
    const deploy = policies[`${ROLE}/deploy`];
    const sid = (name: string) => deploy.Statement.find((s: { Sid: string }) => s.Sid === name);
    assert.equal(
      sid('PushTheImage').Resource,
      `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/blog-production-app`,
    );
    assert.deepEqual(sid('ChangeTaggedResources').Condition, {
      StringEquals: { 'aws:ResourceTag/touchdown:stack': 'blog-production' },
    });
    assert.equal(sid('NeverTheData').Effect, 'Deny');
    assert.equal(sid('NeverItsOwnTrust').Resource, `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`);
    // IAM takes at most 10,240 characters of inline policy per role.
    assert.ok(JSON.stringify(deploy).length < 10_240, `${JSON.stringify(deploy).length} characters`);
    assert.deepEqual(await grantsThatCannotApply(policies), []);

    const { plan } = await t.engine(blueprint(loaded)).plan();
    assertNoChanges({ ...plan, resources: plan.resources.filter((r) => trust.includes(r.address)) });
  });

  it('circleci: the organization’s provider with its ID as audience, and the project’s branch as subject', async () => {
    const loaded = await blog((doc) => {
      doc.ci = { provider: 'circleci', repo: 'octo-org/blog', circleci: { org: ORG, project: PROJECT } };
    });
    await applyTrust(loaded, ['oidc-provider.circleci', `role.${ROLE}`]);
    const arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.circleci.com/org/${ORG}`;
    const provider = await t.boto.call('iam', 'GetOpenIDConnectProvider', { OpenIDConnectProviderArn: arn });
    assert.deepEqual(provider.ClientIDList, [ORG]);
    const { trust } = await role();
    assert.deepEqual(trust.Statement[0].Condition, {
      StringEquals: { [`oidc.circleci.com/org/${ORG}:aud`]: ORG },
      StringLike: {
        [`oidc.circleci.com/org/${ORG}:sub`]: `org/${ORG}/project/${PROJECT}/user/*/vcs-origin/*/vcs-ref/refs/heads/main`,
      },
    });
  });

  it('codebuild: a privileged project of the stack, running as a role only CodeBuild may assume', async () => {
    const loaded = await blog((doc) => {
      doc.ci = { provider: 'codebuild', repo: 'octo-org/blog' };
    });
    await applyTrust(loaded, [
      'ecr-repository.app',
      'log-group.ci-build',
      `role.${ROLE}`,
      'codebuild-project.ci',
    ]);
    const { projects } = await t.boto.call('codebuild', 'BatchGetProjects', {
      names: ['blog-production-ci'],
    });
    const project = projects[0];
    assert.equal(project.serviceRole, `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`);
    assert.equal(project.environment.privilegedMode, true);
    assert.deepEqual(
      Object.fromEntries(
        project.environment.environmentVariables.map((v: { name: string; value: string }) => [
          v.name,
          v.value,
        ]),
      ),
      {
        TOUCHDOWN_STAGE: 'production',
        REPOSITORY_URI: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/blog-production-app`,
      },
    );
    assert.deepEqual(project.source, {
      type: 'GITHUB',
      location: 'https://github.com/octo-org/blog.git',
      buildspec: 'buildspec.yml',
    });
    assert.equal(project.sourceVersion, 'main');
    assert.equal(project.logsConfig.cloudWatchLogs.groupName, '/blog-production/ci-build');
    const { trust, policies } = await role();
    assert.deepEqual(trust.Statement[0].Principal, { Service: 'codebuild.amazonaws.com' });
    assert.deepEqual(trust.Statement[0].Condition.StringEquals, { 'aws:SourceAccount': ACCOUNT });
    assert.deepEqual(Object.keys(policies).sort(), [`${ROLE}/build`, `${ROLE}/deploy`]);
    assert.deepEqual(await grantsThatCannotApply(policies), []);
  });

  it('codebuild: an arm64 build machine when the app runs on Graviton instances', async () => {
    const loaded = await blog((doc) => {
      doc.ci = { provider: 'codebuild', repo: 'octo-org/blog' };
      doc.web = { ...doc.web, compute: 'ec2', instanceType: 't4g.small' };
      doc.network = { nat: 'instance' };
    });
    const project = blueprint(loaded).resources.find((r) => r.address === 'codebuild-project.ci');
    assert.equal(project?.args.environmentType, 'ARM_CONTAINER');
    assert.match(String(project?.args.image), /aarch64/);
  });

  it('refuses ci: where it cannot work, naming the field and the fix, before any AWS call', async () => {
    await assert.rejects(
      blog((doc) => {
        doc.ci = { provider: 'circleci', repo: 'octo-org/blog' };
      }),
      (err: ConfigError) => err instanceof ConfigError && /ci\.circleci.*organization ID/s.test(err.message),
    );
    await assert.rejects(
      blog((doc) => {
        doc.ci = { provider: 'github', repo: 'not a repo' };
      }),
      (err: ConfigError) => err instanceof ConfigError && /ci\.repo.*owner\/name/s.test(err.message),
    );
  });
});
