// The pipeline files `touchdown ci` writes: each tests the project, builds its image, pushes it to the stack's
// ECR repository and runs `touchdown deploy --image`, with credentials from the CI service's own identity
// (an OIDC token, or CodeBuild's role): no AWS key is stored anywhere.
import { stringify } from 'yaml';
import type { CiProvider } from './manifest.js';

export interface PipelineInput {
  provider: CiProvider;
  app: string;
  stage: string;
  region: string;
  branch: string;
  /** The deploy role the pipeline assumes (GitHub, CircleCI). */
  roleArn: string;
  /** The stack's ECR repository: `<account>.dkr.ecr.<region>.amazonaws.com/<name>` (CodeBuild: its project's). */
  repositoryUri: string;
  /** touchdown.yml's folder, from the repository's root ('' when it is the root). */
  dir: string;
  dockerfile: string;
  platform: 'linux/amd64' | 'linux/arm64';
  python: string;
  requirements: string;
  /** The test command and the folder it runs in, from touchdown.yml's folder. */
  test: { command: string; dir: string };
  /** Services the tests get, as the stack's database and cache. */
  postgres?: string;
  redis: boolean;
  /**
   * How the job gets Touchdown: an npm install spec (a git URL or tarball of the release you use), or the
   * project's own package.json, which lists it.
   */
  touchdown: { spec: string } | { projectPackage: true };
}

export interface PipelineFile {
  /** From the repository's root. */
  path: string;
  content: string;
}

const TEST_DATABASE_URL = 'postgres://postgres:postgres@localhost:5432/postgres';
const TEST_REDIS_URL = 'redis://localhost:6379/1';

export function pipelineFile(p: PipelineInput): PipelineFile {
  switch (p.provider) {
    case 'github':
      return { path: `.github/workflows/touchdown-${p.stage}.yml`, content: github(p) };
    case 'circleci':
      return { path: '.circleci/config.yml', content: circleci(p) };
    case 'codebuild':
      return { path: 'buildspec.yml', content: codebuild(p) };
  }
}

const header = (p: PipelineInput) =>
  `# Written by touchdown ci ${p.provider}: tests, builds the image, pushes it to the stack's ECR repository and\n` +
  `# deploys it to the ${p.stage} stage of ${p.app} when ${p.branch} changes. No AWS key is stored: the job\n` +
  `# assumes ${p.roleArn.split('/').pop()}, which trusts only this repository's ${p.branch} branch.\n`;

const registryOf = (uri: string) => (uri.startsWith('$') ? `"\${REPOSITORY_URI%%/*}"` : uri.split('/')[0]!);
const inDir = (dir: string, command: string) => (dir ? `cd ${dir} && ${command}` : command);
const join = (...parts: string[]) => parts.filter(Boolean).join('/') || '.';

/** The commands that build and push "$IMAGE", from the repository's root. */
function buildCommands(p: PipelineInput): string {
  const context = join(p.dir);
  const dockerfile = join(p.dir, p.dockerfile);
  // GitHub's hosted runners are x86: an arm64 image is built through QEMU there; CircleCI and CodeBuild build
  // it on an arm64 machine of their own.
  const cross =
    p.platform === 'linux/arm64' && p.provider === 'github' ? 'docker buildx build --load' : 'docker build';
  return [
    `aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin ${registryOf(p.repositoryUri)}`,
    `${cross} --platform ${p.platform} --file ${dockerfile} --tag "$IMAGE" ${context}`,
    'docker push "$IMAGE"',
  ].join('\n');
}

// A second deploy of the stage waits for the first (Touchdown's lock) rather than failing.
const deployCommand = (p: PipelineInput, stage = p.stage) =>
  inDir(
    p.dir,
    `${'spec' in p.touchdown ? 'touchdown' : 'npx --no-install touchdown'} deploy --image "$IMAGE" --stage ${stage} --yes --lock-timeout 30m`,
  );

const installTouchdown = (p: PipelineInput) =>
  'spec' in p.touchdown ? `npm install --global ${p.touchdown.spec}` : inDir(p.dir, 'npm ci');

function testEnvironment(p: PipelineInput): Record<string, string> {
  return {
    ...(p.postgres ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
    ...(p.redis ? { REDIS_URL: TEST_REDIS_URL } : {}),
  };
}

function github(p: PipelineInput): string {
  const testDir = join(p.dir, p.test.dir);
  const services: Record<string, unknown> = {};
  if (p.postgres) {
    services.postgres = {
      image: `postgres:${p.postgres}`,
      env: { POSTGRES_PASSWORD: 'postgres' },
      ports: ['5432:5432'],
      options: '--health-cmd pg_isready --health-interval 5s --health-timeout 5s --health-retries 20',
    };
  }
  if (p.redis) services.redis = { image: 'redis:7', ports: ['6379:6379'] };
  const checkout = { uses: 'actions/checkout@v4' };
  const workflow = {
    name: `Deploy ${p.app} (${p.stage})`,
    on: { push: { branches: [p.branch] }, workflow_dispatch: {} },
    permissions: { contents: 'read' },
    // One deploy of a stage at a time, never cancelled half-way.
    concurrency: { group: `touchdown-${p.app}-${p.stage}`, 'cancel-in-progress': false },
    env: { AWS_REGION: p.region },
    jobs: {
      test: {
        'runs-on': 'ubuntu-latest',
        ...(Object.keys(services).length > 0 ? { services } : {}),
        ...(Object.keys(testEnvironment(p)).length > 0 ? { env: testEnvironment(p) } : {}),
        steps: [
          checkout,
          {
            uses: 'actions/setup-python@v5',
            with: {
              'python-version': p.python,
              cache: 'pip',
              'cache-dependency-path': join(p.dir, p.requirements),
            },
          },
          { name: 'Install requirements', run: `python -m pip install -r ${join(p.dir, p.requirements)}` },
          { name: 'Test', 'working-directory': testDir, run: p.test.command },
        ],
      },
      deploy: {
        needs: 'test',
        'runs-on': 'ubuntu-latest',
        // id-token: write lets the job ask GitHub for the OIDC token the deploy role trusts.
        permissions: { contents: 'read', 'id-token': 'write' },
        env: { IMAGE: `${p.repositoryUri}:\${{ github.sha }}-\${{ github.run_attempt }}` },
        steps: [
          checkout,
          {
            uses: 'aws-actions/configure-aws-credentials@v4',
            with: { 'role-to-assume': p.roleArn, 'aws-region': p.region },
          },
          ...(p.platform === 'linux/arm64'
            ? [{ uses: 'docker/setup-qemu-action@v3' }, { uses: 'docker/setup-buildx-action@v3' }]
            : []),
          { name: 'Build and push the image', run: buildCommands(p) },
          { uses: 'actions/setup-node@v4', with: { 'node-version': '20' } },
          { name: 'Install Touchdown', run: installTouchdown(p) },
          { name: 'Deploy', run: deployCommand(p) },
        ],
      },
    },
  };
  return header(p) + stringify(workflow, { lineWidth: 0, aliasDuplicateObjects: false });
}

function circleci(p: PipelineInput): string {
  const testDir = join(p.dir, p.test.dir);
  const images: Record<string, unknown>[] = [{ image: `cimg/python:${p.python}` }];
  if (p.postgres) {
    images.push({ image: `postgres:${p.postgres}`, environment: { POSTGRES_PASSWORD: 'postgres' } });
  }
  if (p.redis) images.push({ image: 'redis:7' });
  const deployJob = `deploy-${p.stage}`;
  const config = {
    version: 2.1,
    jobs: {
      test: {
        docker: images,
        ...(Object.keys(testEnvironment(p)).length > 0 ? { environment: testEnvironment(p) } : {}),
        steps: [
          'checkout',
          {
            run: {
              name: 'Install requirements',
              command: `python -m pip install -r ${join(p.dir, p.requirements)}`,
            },
          },
          ...(p.postgres
            ? [
                {
                  run: {
                    name: 'Wait for PostgreSQL',
                    command: 'until (echo > /dev/tcp/localhost/5432) 2> /dev/null; do sleep 1; done',
                  },
                },
              ]
            : []),
          { run: { name: 'Test', command: inDir(testDir === '.' ? '' : testDir, p.test.command) } },
        ],
      },
      [deployJob]: {
        machine: { image: 'ubuntu-2204:current' },
        // https://circleci.com/docs/using-arm/
        ...(p.platform === 'linux/arm64' ? { resource_class: 'arm.medium' } : {}),
        environment: {
          AWS_REGION: p.region,
          // The AWS CLI and SDKs (Touchdown's too) assume this role with the token in this file themselves.
          AWS_ROLE_ARN: p.roleArn,
          AWS_WEB_IDENTITY_TOKEN_FILE: '/tmp/circleci-oidc-token',
        },
        steps: [
          'checkout',
          {
            run: {
              name: "AWS credentials from CircleCI's OIDC token",
              // The V2 token's subject names the branch, which the deploy role's trust checks.
              command: 'echo "$CIRCLE_OIDC_TOKEN_V2" > "$AWS_WEB_IDENTITY_TOKEN_FILE"',
            },
          },
          {
            run: {
              name: 'Build and push the image',
              command: `IMAGE="${p.repositoryUri}:$CIRCLE_SHA1-$CIRCLE_BUILD_NUM"\necho "export IMAGE=$IMAGE" >> "$BASH_ENV"\n${buildCommands(p)}`,
            },
          },
          {
            run: {
              name: 'Deploy',
              command: `${installTouchdown(p)}\n${deployCommand(p)}`,
            },
          },
        ],
      },
    },
    workflows: {
      [`${p.app}-${p.stage}`]: {
        jobs: ['test', { [deployJob]: { requires: ['test'], filters: { branches: { only: p.branch } } } }],
      },
    },
  };
  return header(p) + stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
}

function codebuild(p: PipelineInput): string {
  const testDir = join(p.dir, p.test.dir);
  const preBuild: string[] = [];
  if (p.postgres) {
    // CodeBuild has no service containers: the tests' database runs beside the build in its Docker daemon.
    preBuild.push(
      `docker run --detach --name test-postgres --publish 5432:5432 --env POSTGRES_PASSWORD=postgres postgres:${p.postgres}`,
      'until docker exec test-postgres pg_isready --username postgres; do sleep 1; done',
    );
  }
  if (p.redis) preBuild.push('docker run --detach --publish 6379:6379 redis:7');
  preBuild.push(inDir(testDir === '.' ? '' : testDir, p.test.command));
  const spec = {
    version: 0.2,
    env: {
      shell: 'bash',
      // TOUCHDOWN_STAGE and REPOSITORY_URI come from the stage's CodeBuild project: one buildspec serves every stage.
      ...(p.postgres || p.redis ? { variables: testEnvironment(p) } : {}),
    },
    phases: {
      install: {
        'runtime-versions': { python: p.python, nodejs: 20 },
        commands: [`python -m pip install -r ${join(p.dir, p.requirements)}`, installTouchdown(p)],
      },
      pre_build: { commands: preBuild },
      build: {
        commands: [
          `export IMAGE="$REPOSITORY_URI:$CODEBUILD_RESOLVED_SOURCE_VERSION-$CODEBUILD_BUILD_NUMBER"\n${buildCommands({ ...p, repositoryUri: '$REPOSITORY_URI' })}`,
          deployCommand(p, '"$TOUCHDOWN_STAGE"'),
        ],
      },
    },
  };
  return header(p) + stringify(spec, { lineWidth: 0, aliasDuplicateObjects: false });
}
