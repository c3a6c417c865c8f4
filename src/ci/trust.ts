// The blueprint's part for `ci:`: what the stack needs to trust its pipeline without long-lived keys.
// GitHub Actions and CircleCI: the account's OIDC provider for the CI service, and a deploy role only tokens of
// the repository's branch may assume. CodeBuild: a project of the stack's own, running as that role.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
import { CodeBuildProject } from '../aws/codebuild/project.js';
import { issuerOf, OidcProvider } from '../aws/iam/oidc-provider.js';
import type { AwsStack } from '../aws/stack.js';
import { type Input, interpolate } from '../core/ref.js';
import { deployPolicy, deployRoleName } from './deploy-policy.js';
import type { CiSection } from './manifest.js';

export interface CiNames {
  app: string;
  stage: string;
  stack: string;
  region: string;
  account: string;
  domain?: string;
}

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
/** The audience aws-actions/configure-aws-credentials asks GitHub for. */
export const GITHUB_AUDIENCE = 'sts.amazonaws.com';
export const circleciIssuer = (org: string) => `https://oidc.circleci.com/org/${org}`;

/** The CodeBuild project's label: in CodeBuild it is `<stack>-ci`. */
export const CODEBUILD_PROJECT = 'ci';

export function ciTrust(
  aws: AwsStack,
  ci: CiSection,
  n: CiNames,
  image: { repositoryUri: Input<string>; platform: 'linux/amd64' | 'linux/arm64' },
) {
  const policies: Record<string, Record<string, unknown>> = { deploy: deployPolicy(n) };
  const roleArgs = {
    name: deployRoleName(n.stack),
    description: `${n.stack}: deploys from ${ci.provider} (${ci.repo}, branch ${ci.branch})`,
  };
  if (ci.provider === 'codebuild') {
    const logs = aws.addLogGroup({ name: 'ci-build', retentionDays: 30 });
    policies.build = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: interpolate`${logs.arn}:*`,
        },
      ],
    };
    const role = aws.addRole({
      ...roleArgs,
      // Only CodeBuild, and only for this account's projects (confused deputy):
      // https://docs.aws.amazon.com/codebuild/latest/userguide/cross-service-confused-deputy-prevention.html
      assumeRolePolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'codebuild.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: {
              StringEquals: { 'aws:SourceAccount': n.account },
              ArnLike: {
                'aws:SourceArn': `arn:aws:codebuild:${n.region}:${n.account}:project/${n.stack}-${CODEBUILD_PROJECT}`,
              },
            },
          },
        ],
      },
      policies,
    });
    const project = aws.add(CodeBuildProject, {
      name: CODEBUILD_PROJECT,
      description: `${n.stack}: tests, builds, pushes and deploys ${ci.repo} (${ci.branch})`,
      sourceType: 'GITHUB',
      sourceLocation: `https://github.com/${ci.repo}.git`,
      sourceVersion: ci.branch,
      buildspec: 'buildspec.yml',
      // Docker builds the image inside the build: it needs its daemon.
      privilegedMode: true,
      // An arm64 image (Graviton instances) is built on an arm64 build machine:
      // https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-available.html
      ...(image.platform === 'linux/arm64'
        ? {
            environmentType: 'ARM_CONTAINER' as const,
            image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0',
          }
        : {}),
      environment: { TOUCHDOWN_STAGE: n.stage, REPOSITORY_URI: image.repositoryUri },
      serviceRole: role.arn,
      logGroupName: logs.name,
    });
    aws.output('ciProject', project.name);
    aws.output('ciRole', role.arn);
    return;
  }

  const github = ci.provider === 'github';
  const url = github ? GITHUB_ISSUER : circleciIssuer(ci.circleci!.org);
  const audience = github ? GITHUB_AUDIENCE : ci.circleci!.org;
  const provider = aws.add(OidcProvider, { name: ci.provider, url, clientIds: [audience] });
  const issuer = issuerOf(url);
  // GitHub: the subject names repository and branch. https://docs.github.com/en/actions/reference/security/oidc
  // CircleCI's V2 token: org/<org>/project/<project>/user/<user>/vcs-origin/<origin>/vcs-ref/<ref>; the project
  // ID pins the repository. https://circleci.com/docs/openid-connect-tokens/
  const subject = github
    ? { StringEquals: { [`${issuer}:sub`]: `repo:${ci.repo}:ref:refs/heads/${ci.branch}` } }
    : {
        StringLike: {
          [`${issuer}:sub`]: `org/${ci.circleci!.org}/project/${ci.circleci!.project}/user/*/vcs-origin/*/vcs-ref/refs/heads/${ci.branch}`,
        },
      };
  const role = aws.addRole({
    ...roleArgs,
    assumeRolePolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: provider.arn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            ...subject,
            StringEquals: {
              [`${issuer}:aud`]: audience,
              ...('StringEquals' in subject ? subject.StringEquals : {}),
            },
          },
        },
      ],
    },
    policies,
  });
  aws.output('ciRole', role.arn);
}
