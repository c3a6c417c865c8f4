// touchdown ci github|circleci|codebuild: writes the pipeline file and touchdown.yml's `ci:` section; the next
// deploy gives the stack the trust the pipeline needs (src/ci/trust.ts). Everything is checked before any write.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import pc from 'picocolors';
import { stringify } from 'yaml';
import { AwsClients } from '../../aws/clients.js';
import { repositoryName } from '../../aws/ecr/repository.js';
import { roleArn } from '../../aws/iam/role.js';
import { deployRoleName } from '../../ci/deploy-policy.js';
import type { CiProvider, CiSection } from '../../ci/manifest.js';
import { pipelineFile } from '../../ci/pipelines.js';
import { declaredCi, detectTestCommand, gitFacts, withCiSection } from '../../ci/setup.js';
import { CODEBUILD_PROJECT } from '../../ci/trust.js';
import { findConfig } from '../../config/load.js';
import { DEFAULT_STAGE, parseManifest } from '../../config/load-manifest.js';
import { ConfigError } from '../../core/errors.js';
import { imagePlatform } from '../../django/image.js';
import { confirm } from '../confirm.js';
import type { GlobalOptions } from '../session.js';
import { streams } from '../streams.js';

export interface CiOptions extends GlobalOptions {
  branch?: string;
  repo?: string;
  force?: boolean;
  account?: string;
  circleciOrg?: string;
  circleciProject?: string;
  test?: string;
  touchdownPackage?: string;
}

export async function ciCommand(provider: CiProvider, options: CiOptions): Promise<number> {
  const c = pc.createColors(pc.isColorSupported && streams.stdout.isTTY && !options.json);
  const path = await findConfig(options.config);
  if (!/\.ya?ml$/.test(path)) {
    throw new ConfigError(`touchdown ci works on a Django app's touchdown.yml, not ${relative('.', path)}`);
  }
  const text = await readFile(path, 'utf8');
  const loaded = parseManifest(text, path, options.stage);
  const { stage, stackName: stack, manifest: m } = loaded;
  const home = dirname(path);
  const git = await gitFacts(home);
  const before = m.ci;

  const repo = options.repo ?? before?.repo ?? git.repo;
  if (!repo) {
    throw new ConfigError(
      `touchdown ci ${provider}: no GitHub repository found (${git.root ? 'the git remote "origin" is not on github.com' : 'this folder is not a git checkout'}): pass --repo owner/name`,
    );
  }
  const org = options.circleciOrg ?? before?.circleci?.org;
  const project = options.circleciProject ?? before?.circleci?.project;
  if (provider === 'circleci' && (!org || !project)) {
    throw new ConfigError(
      'touchdown ci circleci: CircleCI trusts by organization and project: pass --circleci-org <organization ID> (Organization Settings) and --circleci-project <project ID> (Project Settings > Overview)',
    );
  }
  const ci: CiSection = {
    provider,
    repo,
    branch: options.branch ?? before?.branch ?? git.defaultBranch ?? 'main',
    ...(provider === 'circleci' ? { circleci: { org: org!, project: project! } } : {}),
    ...((options.touchdownPackage ?? before?.touchdown)
      ? { touchdown: options.touchdownPackage ?? before?.touchdown }
      : {}),
    ...((options.test ?? before?.test) ? { test: options.test ?? before?.test } : {}),
  };
  const touchdown = ci.touchdown ? { spec: ci.touchdown } : await projectPackage(home);
  const declared = declaredCi(text, stage);
  const file = relative('.', path) || path;
  if (declared && !options.force && (declared.provider !== ci.provider || declared.repo !== ci.repo)) {
    throw new ConfigError(
      `${file}: ci: the ${stage} stage deploys from ${String(declared.provider)} (${String(declared.repo)}) already; pass --force to make it ${ci.provider} (${ci.repo})`,
    );
  }
  const newText = withCiSection(text, stage, ci);
  // The manifest as it will be: refused here (lambda compute, a bad repo name) before anything is written.
  parseManifest(newText ?? text, path, stage);

  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? m.region;
  if (!region) {
    throw new ConfigError(`touchdown ci: no AWS region: set region in ${file}, or pass --region`);
  }
  const account = options.account ?? (await accountOf(region));
  const test = ci.test
    ? { command: ci.test, dir: '', why: `${file} ci.test` }
    : await detectTestCommand(home, m.django.project);
  const root = git.root ?? home;
  const pipeline = pipelineFile({
    provider,
    app: m.app,
    stage,
    region,
    branch: ci.branch,
    roleArn: roleArn(account, region, deployRoleName(stack)),
    repositoryUri: `${account}.dkr.ecr.${region}.amazonaws.com/${repositoryName(stack, 'app')}`,
    dir: relative(root, home),
    dockerfile: m.django.dockerfile,
    platform: imagePlatform(m),
    python: m.django.python,
    requirements: m.django.requirements,
    test,
    postgres: m.database ? m.database.version.split('.')[0] : undefined,
    redis: m.cache !== undefined && m.cache.engine !== 'memcached',
    touchdown,
  });
  const target = join(root, pipeline.path);
  const shown = relative('.', target) || target;
  const existing = await readFile(target, 'utf8').catch(() => undefined);
  if (existing !== undefined && existing !== pipeline.content && !options.force) {
    throw new ConfigError(
      `${shown} exists and differs from the pipeline touchdown ci ${provider} writes: pass --force to replace it, or remove it`,
    );
  }

  // touchdown.yml is the user's file: changed on --yes or a "yes" at the terminal; otherwise they are told what to add.
  const out = (s: string) => streams.stdout.write(`${s}\n`);
  let pending: string | undefined;
  if (newText !== undefined && !options.yes) {
    const snippet = stringify(stage === DEFAULT_STAGE ? { ci } : { stages: { [stage]: { ci } } });
    const asked = streams.stdin.isTTY === true && !options.json;
    if (asked) out(`${file} gains:\n${snippet.replace(/^/gm, '  ')}`);
    if (!asked || !(await confirm(`Write it to ${file}?`, {}))) pending = snippet;
  }

  const wrote: string[] = [];
  if (existing !== pipeline.content) {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, pipeline.content);
    wrote.push(shown);
  }
  if (newText !== undefined && pending === undefined) {
    await writeFile(path, newText);
    wrote.push(file);
  }
  const role = roleArn(account, region, deployRoleName(stack)).split('/').pop()!;
  const next = nextSteps(provider, { stage, stack, role, branch: ci.branch, files: [shown, file] });
  if (pending) next.unshift(`add the ci: section above to ${file} (or run touchdown ci again with --yes)`);
  if (options.json) {
    streams.stdout.write(
      `${JSON.stringify({ wrote, unchanged: wrote.length === 0, toAdd: pending, test, next }, null, 2)}\n`,
    );
    return 0;
  }
  out(`${c.bold(`${provider}`)} deploys ${c.bold(stack)} from ${repo}, branch ${ci.branch}`);
  out(`  tests: ${test.command} ${c.dim(`(${test.why})`)}`);
  if (wrote.length === 0) out(`${c.dim('=')} ${shown} and ${file} are up to date`);
  for (const w of wrote) out(`${c.green('+')} wrote ${w}`);
  if (pending) out(`${c.yellow('!')} ${file} left as it is; it needs:\n${pending.replace(/^/gm, '    ')}`);
  out('');
  out('Next:');
  next.forEach((step, i) => {
    out(`  ${i + 1}. ${step}`);
  });
  return 0;
}

function nextSteps(
  provider: CiProvider,
  s: { stage: string; stack: string; role: string; branch: string; files: string[] },
): string[] {
  const stageFlag = s.stage === 'production' ? '' : ` --stage ${s.stage}`;
  const trust =
    provider === 'codebuild'
      ? `the CodeBuild project ${s.stack}-${CODEBUILD_PROJECT} and its role`
      : `the ${provider === 'github' ? 'GitHub' : 'CircleCI'} OIDC provider and the role ${s.role}`;
  const steps = [
    `touchdown deploy${stageFlag}, from your machine with rights to create IAM roles: the stack gains ${trust}`,
  ];
  if (provider === 'codebuild') {
    steps.push(
      'let CodeBuild read the repository, once per account and region: aws codebuild import-source-credentials --server-type GITHUB --auth-type PERSONAL_ACCESS_TOKEN --token <token>',
      `build on every push to ${s.branch}: aws codebuild create-webhook --project-name ${s.stack}-${CODEBUILD_PROJECT} --filter-groups '[[{"type":"EVENT","pattern":"PUSH"},{"type":"HEAD_REF","pattern":"^refs/heads/${s.branch}$"}]]'`,
    );
  }
  if (provider === 'circleci')
    steps.push('follow the project on CircleCI (Projects > Set Up Project) if it is not yet');
  steps.push(`commit ${s.files.join(' and ')}, and push to ${s.branch}: each push there deploys ${s.stage}`);
  return steps;
}

async function accountOf(region: string): Promise<string> {
  try {
    return await new AwsClients({ region }).account();
  } catch (err) {
    throw new ConfigError(
      `touchdown ci: reading your AWS account failed (${(err as Error).message}): sign in to AWS, or pass --account <12 digits>`,
    );
  }
}

/** The project's package.json lists touchdown: the pipeline installs that release with `npm ci`. */
async function projectPackage(home: string): Promise<{ projectPackage: true }> {
  const text = await readFile(join(home, 'package.json'), 'utf8').catch(() => '{}');
  const pkg = JSON.parse(text) as Record<string, Record<string, string> | undefined>;
  if (pkg.dependencies?.touchdown || pkg.devDependencies?.touchdown) return { projectPackage: true };
  // The npm registry's package named "touchdown" is another project: never install it by that name.
  throw new ConfigError(
    'touchdown ci: say how the pipeline installs Touchdown: pass --touchdown-package <npm install spec> (the git URL or tarball of the release you use, e.g. github:<owner>/touchdown#v0.1.0), or list touchdown in the package.json beside touchdown.yml',
  );
}
