// CodeBuild project: builds in AWS from the repository (seed 003's pipeline): runs the tests, builds the image
// with Docker (privileged mode), pushes it and runs `touchdown deploy --image`, as its buildspec says.
// https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateProject.html
import type { Project as AwsProject, ProjectEnvironment } from '@aws-sdk/client-codebuild';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found, type OpContext } from '../../core/resource.js';
import { ignoreNotFound } from '../errors.js';
import { afterIamPropagation } from '../iam/propagation.js';
import { physicalName } from '../names.js';
import { allPages } from '../pages.js';
import { RESOURCE_TAG, STACK_TAG, type TagMap, userTags } from '../tags.js';

const fields = {
  /** The project's label; in CodeBuild it is `<stack>-<name>`. Changing it means a new project. */
  name: field(z.string().min(1).max(200), { replace: true }),
  description: field(z.string().max(255).optional()),
  /** Where the source comes from: GITHUB, BITBUCKET, GITLAB, CODECOMMIT, S3 (or NO_SOURCE). */
  sourceType: field(z.enum(['GITHUB', 'BITBUCKET', 'GITLAB', 'CODECOMMIT', 'S3', 'NO_SOURCE'])),
  /** The repository's clone URL, e.g. `https://github.com/owner/name.git`. */
  sourceLocation: field(z.string().min(1).optional()),
  /** The buildspec file in the repository. @default 'buildspec.yml' */
  buildspec: field(z.string().min(1).default('buildspec.yml')),
  /** What a build checks out when none is named: a branch, e.g. `main`. */
  sourceVersion: field(z.string().min(1).optional()),
  /** The build image. @default 'aws/codebuild/amazonlinux-x86_64-standard:5.0' (Docker, Python 3.11+, Node) */
  image: field(z.string().min(1).default('aws/codebuild/amazonlinux-x86_64-standard:5.0')),
  /** @default 'LINUX_CONTAINER' */
  environmentType: field(z.enum(['LINUX_CONTAINER', 'ARM_CONTAINER']).default('LINUX_CONTAINER')),
  /** @default 'BUILD_GENERAL1_SMALL' (3 GB, 2 vCPUs) */
  computeType: field(
    z
      .enum(['BUILD_GENERAL1_SMALL', 'BUILD_GENERAL1_MEDIUM', 'BUILD_GENERAL1_LARGE'])
      .default('BUILD_GENERAL1_SMALL'),
  ),
  /** Runs a Docker daemon in the build, which building images needs. @default false */
  privilegedMode: field(z.boolean().default(false)),
  /** Plain settings for the build (never secrets: the project shows them to anyone who can read it). @default {} */
  environment: field(z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), input(z.string())).default({})),
  /** The role builds run as (its ARN). */
  serviceRole: field(input(z.string().startsWith('arn:'))),
  /** The CloudWatch log group builds write to; CodeBuild's own `/aws/codebuild/<project>` when absent. */
  logGroupName: field(input(z.string().min(1)).optional()),
  /** Minutes a build may take (5 to 2160). @default 60 */
  timeoutInMinutes: field(z.number().int().min(5).max(2160).default(60)),
  tags: field(tags()),
};

export interface CodeBuildProjectOutputs {
  name: string;
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type ProjectFound = Found<Args, CodeBuildProjectOutputs>;

const projectName = (stack: string, label: string) =>
  physicalName(stack, label, { max: 255, allowed: /[A-Za-z0-9_-]/ });

export const CodeBuildProject = defineResourceType({
  kind: 'codebuild-project',
  noun: 'CodeBuild project',
  fields,
  outputs: ['name', 'arn'],
  defaultOutput: 'name',
  identity: { by: 'address' },

  async find(ctx) {
    const codebuild = await ctx.aws.codebuild();
    // ListProjects gives names only (100 a page); BatchGetProjects reads up to 100 with their tags.
    const names = await allPages(
      (nextToken) => codebuild.listProjects({ nextToken }),
      (p) => p.projects,
      (p) => p.nextToken,
    );
    const candidates = names.filter((n) => n.startsWith(`${ctx.stack}-`));
    const found: ProjectFound[] = [];
    for (let i = 0; i < candidates.length; i += 100) {
      const { projects = [] } = await codebuild.batchGetProjects({ names: candidates.slice(i, i + 100) });
      for (const p of projects) if (tagsOf(p)[STACK_TAG] === ctx.stack) found.push(read(p));
    }
    return found;
  },

  async create(ctx, args) {
    const codebuild = await ctx.aws.codebuild();
    const name = projectName(ctx.stack, ctx.path);
    const made = await send(ctx, args, () =>
      codebuild.createProject({ name, ...request(args), tags: codeBuildTags(ctx.tags(args.tags)) }),
    );
    return read(made);
  },

  async update(ctx, found, args) {
    const codebuild = await ctx.aws.codebuild();
    // UpdateProject replaces what it is given; tags given replace all of the project's tags.
    // https://docs.aws.amazon.com/codebuild/latest/APIReference/API_UpdateProject.html
    const made = await send(ctx, args, () =>
      codebuild.updateProject({ name: found.id, ...request(args), tags: codeBuildTags(ctx.tags(args.tags)) }),
    );
    return read(made);
  },

  async delete(ctx, found) {
    const codebuild = await ctx.aws.codebuild();
    await ignoreNotFound(codebuild.deleteProject({ name: found.id }));
  },
});

/** Sends a create or update, again while IAM has not made a new service role assumable by CodeBuild yet. */
async function send(
  ctx: OpContext,
  args: Args,
  call: () => Promise<{ project?: AwsProject }>,
): Promise<AwsProject> {
  const { project } = await afterIamPropagation(
    ctx,
    { noun: 'CodeBuild project', service: 'CodeBuild', principal: 'codebuild.amazonaws.com' },
    call,
  );
  if (!project) throw new Error(`CodeBuild answered without the project; its role is ${args.serviceRole}`);
  return project;
}

function request(args: Args) {
  const environment: ProjectEnvironment = {
    type: args.environmentType,
    image: args.image,
    computeType: args.computeType,
    privilegedMode: args.privilegedMode,
    environmentVariables: Object.entries(args.environment).map(([name, value]) => ({
      name,
      value,
      type: 'PLAINTEXT' as const,
    })),
  };
  return {
    description: args.description,
    source: { type: args.sourceType, location: args.sourceLocation, buildspec: args.buildspec },
    sourceVersion: args.sourceVersion,
    // The buildspec pushes the image itself: the build leaves no artifact.
    artifacts: { type: 'NO_ARTIFACTS' as const },
    environment,
    serviceRole: args.serviceRole,
    timeoutInMinutes: args.timeoutInMinutes,
    logsConfig: {
      cloudWatchLogs: { status: 'ENABLED' as const, groupName: args.logGroupName },
    },
  };
}

/** CodeBuild spells tags `key` and `value`. */
function codeBuildTags(tags: TagMap) {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

function tagsOf(p: AwsProject): TagMap {
  return Object.fromEntries((p.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
}

function read(p: AwsProject): ProjectFound {
  const tagMap = tagsOf(p);
  const env = p.environment;
  return {
    key: tagMap[RESOURCE_TAG] ?? p.name!,
    id: p.name!,
    args: {
      description: p.description,
      sourceType: p.source?.type as Args['sourceType'],
      sourceLocation: p.source?.location,
      buildspec: p.source?.buildspec,
      sourceVersion: p.sourceVersion,
      image: env?.image,
      environmentType: env?.type as Args['environmentType'],
      computeType: env?.computeType as Args['computeType'],
      privilegedMode: env?.privilegedMode ?? false,
      environment: Object.fromEntries((env?.environmentVariables ?? []).map((v) => [v.name!, v.value ?? ''])),
      serviceRole: p.serviceRole,
      logGroupName: p.logsConfig?.cloudWatchLogs?.groupName,
      timeoutInMinutes: p.timeoutInMinutes,
      tags: userTags(tagMap),
    },
    outputs: { name: p.name!, arn: p.arn! },
  };
}
