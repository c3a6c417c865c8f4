// touchdown ci, run as a user runs it in a copy of examples/blog: the pipeline file and the ci: section it
// writes, what it reads from git and AWS, and what it refuses (before writing anything).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { copyOfExample, runCli } from './support/cli.js';
import { useLocalAws } from './support/harness.js';

const t = useLocalAws();
const git = promisify(execFile);
const ORG = '0b3e7c1a-9f4d-4e2b-8a6c-5d1f2e3a4b5c';
const PROJECT = '7c9d2e1f-3a4b-4c5d-8e6f-0a1b2c3d4e5f';
const RELEASE = 'github:octo-org/touchdown#v0.1.0';

async function blogCheckout(remote?: string) {
  const dir = await copyOfExample('blog', ['touchdown.yml', 'manage.py', 'requirements.txt', 'Dockerfile']);
  await git('git', ['init', '--quiet', '--initial-branch', 'trunk'], { cwd: dir });
  if (remote) await git('git', ['remote', 'add', 'origin', remote], { cwd: dir });
  return dir;
}

const ci = (dir: string, ...args: string[]) =>
  runCli(['ci', ...args, '--region', 'us-east-1', '--yes'], { cwd: dir, aws: t.aws });

describe('touchdown ci', () => {
  it('github: writes the stage’s workflow and ci:, with the repository from git and the account from AWS', async () => {
    const dir = await blogCheckout('git@github.com:octo-org/blog.git');
    const before = await readFile(join(dir, 'touchdown.yml'), 'utf8');
    const run = await ci(dir, 'github', '--branch', 'main', '--touchdown-package', RELEASE);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /wrote \.github\/workflows\/touchdown-production\.yml/);
    assert.match(run.stdout, /wrote touchdown\.yml/);
    assert.match(run.stdout, /touchdown deploy, from your machine.*role blog-production-ci-deploy-us-east-1/);
    assert.match(run.stdout, /commit .*and push to main/);

    const workflow = parse(await readFile(join(dir, '.github/workflows/touchdown-production.yml'), 'utf8'));
    const credentials = workflow.jobs.deploy.steps.find((s: { uses?: string }) =>
      s.uses?.startsWith('aws-actions/configure-aws-credentials'),
    );
    assert.equal(
      credentials.with['role-to-assume'],
      'arn:aws:iam::123456789012:role/blog-production-ci-deploy-us-east-1',
    );
    assert.match(
      workflow.jobs.deploy.env.IMAGE,
      /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/blog-production-app:/,
    );
    assert.equal(workflow.jobs.test.steps.at(-1).run, 'python manage.py test');

    const after = await readFile(join(dir, 'touchdown.yml'), 'utf8');
    assert.ok(after.startsWith(before.trimEnd().split('\n')[0]!), 'the file keeps its first line');
    assert.match(after, /seed 001 ran Celery with RabbitMQ/, 'its comments are kept');
    assert.deepEqual(parse(after).ci, {
      provider: 'github',
      repo: 'octo-org/blog',
      branch: 'main',
      touchdown: RELEASE,
    });
    assert.equal(
      workflow.jobs.deploy.steps.find((s: { name?: string }) => s.name === 'Install Touchdown').run,
      `npm install --global ${RELEASE}`,
    );

    // Run again: nothing to write.
    const again = await ci(dir, 'github');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /are up to date/);
  });

  it('without --yes and no terminal to ask, writes the new pipeline and says what to add to touchdown.yml', async () => {
    const dir = await blogCheckout('git@github.com:octo-org/blog.git');
    const before = await readFile(join(dir, 'touchdown.yml'), 'utf8');
    const run = await runCli(['ci', 'github', '--region', 'us-east-1', '--touchdown-package', RELEASE], {
      cwd: dir,
      aws: t.aws,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await readFile(join(dir, 'touchdown.yml'), 'utf8'), before, 'touchdown.yml untouched');
    assert.match(run.stdout, /touchdown\.yml left as it is; it needs:\n\s+ci:\n\s+provider: github/);
    assert.match(run.stdout, /1\. add the ci: section above to touchdown\.yml/);
    assert.match(run.stdout, /wrote \.github\/workflows\/touchdown-production\.yml/);
  });

  it('never replaces a pipeline file that differs without --force, and writes nothing then', async () => {
    const dir = await blogCheckout('https://github.com/octo-org/blog');
    await mkdir(join(dir, '.github', 'workflows'), { recursive: true });
    await writeFile(join(dir, '.github/workflows/touchdown-production.yml'), 'name: mine\n');
    const before = await readFile(join(dir, 'touchdown.yml'), 'utf8');
    const refused = await ci(dir, 'github', '--touchdown-package', RELEASE);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /touchdown-production\.yml exists and differs.*pass --force/);
    assert.equal(await readFile(join(dir, 'touchdown.yml'), 'utf8'), before, 'touchdown.yml untouched');
    assert.equal(
      await readFile(join(dir, '.github/workflows/touchdown-production.yml'), 'utf8'),
      'name: mine\n',
    );

    const forced = await ci(dir, 'github', '--force', '--touchdown-package', RELEASE);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(
      await readFile(join(dir, '.github/workflows/touchdown-production.yml'), 'utf8'),
      /touchdown deploy/,
    );
  });

  it('without a GitHub remote, asks for --repo; circleci asks for its IDs', async () => {
    const dir = await blogCheckout();
    const noRepo = await ci(dir, 'github');
    assert.equal(noRepo.code, 1);
    assert.match(noRepo.stderr, /no GitHub repository found.*pass --repo owner\/name/);

    const noIds = await ci(dir, 'circleci', '--repo', 'octo-org/blog');
    assert.equal(noIds.code, 1);
    assert.match(noIds.stderr, /--circleci-org .*--circleci-project/);

    // Never the npm registry's "touchdown", which is another project.
    const noRelease = await ci(
      dir,
      'circleci',
      '--repo',
      'octo-org/blog',
      '--circleci-org',
      ORG,
      '--circleci-project',
      PROJECT,
    );
    assert.equal(noRelease.code, 1);
    assert.match(noRelease.stderr, /say how the pipeline installs Touchdown: pass --touchdown-package/);

    const ok = await ci(
      dir,
      '--touchdown-package',
      RELEASE,
      'circleci',
      '--repo',
      'octo-org/blog',
      '--circleci-org',
      ORG,
      '--circleci-project',
      PROJECT,
      '--stage',
      'production',
    );
    assert.equal(ok.code, 0, ok.stderr);
    const config = parse(await readFile(join(dir, '.circleci/config.yml'), 'utf8'));
    assert.equal(
      config.jobs['deploy-production'].environment.AWS_ROLE_ARN.split('/')[1],
      'blog-production-ci-deploy-us-east-1',
    );
    assert.deepEqual(parse(await readFile(join(dir, 'touchdown.yml'), 'utf8')).ci.circleci, {
      org: ORG,
      project: PROJECT,
    });

    // Another provider for the same stage only with --force.
    const other = await ci(dir, 'codebuild');
    assert.equal(other.code, 1);
    assert.match(other.stderr, /deploys from circleci \(octo-org\/blog\) already; pass --force/);
  });

  it('codebuild: one buildspec for every stage, and the commands that connect CodeBuild to GitHub', async () => {
    const dir = await blogCheckout('git@github.com:octo-org/blog.git');
    // A project whose package.json lists Touchdown: the build installs that release.
    await writeFile(join(dir, 'package.json'), JSON.stringify({ devDependencies: { touchdown: RELEASE } }));
    const run = await ci(dir, 'codebuild');
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /branch main/,
      "origin's default branch is unknown here: main, not the checkout's trunk",
    );
    const spec = parse(await readFile(join(dir, 'buildspec.yml'), 'utf8'));
    assert.match(
      spec.phases.build.commands.at(-1),
      /npx --no-install touchdown deploy .*--stage "\$TOUCHDOWN_STAGE"/,
    );
    assert.ok(spec.phases.install.commands.includes('npm ci'));
    assert.match(run.stdout, /aws codebuild import-source-credentials/);
    assert.match(run.stdout, /aws codebuild create-webhook --project-name blog-production-ci/);
  });
});
