// What a pipeline's role may do: what `touchdown deploy --image` does for one stack, and no more than IAM can
// tell apart. Four parts:
//  - read: plans find resources by listing them account-wide (Describe*/List*), which most services authorize
//    only on "*"; reads that would reveal data (objects, parameters, log events) are limited to the stack's names;
//  - release: push to the stack's ECR repository, register task definitions, run the release task in the
//    stack's cluster, move its services, record the release in Parameter Store, take the stack's lock;
//  - the stack's infrastructure: changes allowed only on resources tagged `touchdown:stack=<stack>` (and
//    creates only when the request tags them so), through the aws:ResourceTag and aws:RequestTag keys:
//    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html
//    Services whose resources IAM does not authorize by tag are limited by name instead (IAM roles, S3 buckets,
//    log groups, parameters: the stack's `<stack>-` and `/<stack>/` prefixes), or, for Route 53 records, by
//    the record names of the stack's domain:
//    https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html
//  - what it may never do: delete the data stores (database, buckets, images: deploy never does without
//    --force, which a pipeline does not pass), or change its own role and trust (a person deploys `ci:`).
// The limit IAM leaves: a role that may write the stack's roles' policies may grant those roles anything; only
// a permissions boundary could cap that. Trust the branch as you would trust whoever deploys by hand.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
import { repositoryName } from '../aws/ecr/repository.js';
import { roleArn } from '../aws/iam/role.js';
import { physicalName } from '../aws/names.js';
import { STACK_TAG } from '../aws/tags.js';

export interface PolicyNames {
  app: string;
  stage: string;
  stack: string;
  account: string;
  region: string;
  /** The stack's domain, when it has one: the Route 53 records the pipeline may change. */
  domain?: string;
}

type Statement = Record<string, unknown>;

/** The deploy role's own name, which its policy protects from itself. */
export const deployRoleName = (stack: string) => physicalName(stack, 'ci-deploy', { max: 64 });

// Finding the stack's resources: listing and describing, which IAM authorizes on "*" for these.
const READ = [
  'ec2:Describe*',
  'ecs:Describe*',
  'ecs:List*',
  'ecr:DescribeRepositories',
  'ecr:DescribeImages',
  'ecr:ListImages',
  'ecr:ListTagsForResource',
  'ecr:GetLifecyclePolicy',
  'elasticloadbalancing:Describe*',
  'rds:Describe*',
  'rds:ListTagsForResource',
  'elasticache:Describe*',
  'elasticache:ListTagsForResource',
  'iam:ListRoles',
  'iam:GetRole',
  'iam:ListRolePolicies',
  'iam:GetRolePolicy',
  'iam:ListAttachedRolePolicies',
  'iam:ListInstanceProfiles',
  'iam:ListInstanceProfilesForRole',
  'iam:GetInstanceProfile',
  'iam:ListOpenIDConnectProviders',
  'iam:GetOpenIDConnectProvider',
  's3:ListAllMyBuckets',
  'ssm:DescribeParameters',
  'logs:DescribeLogGroups',
  'logs:DescribeMetricFilters',
  'kms:DescribeKey',
  'kms:ListAliases',
  'kms:ListResourceTags',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'acm:DescribeCertificate',
  'acm:ListCertificates',
  'acm:ListTagsForCertificate',
  'route53:GetHostedZone',
  'route53:GetChange',
  'route53:ListHostedZones',
  'route53:ListHostedZonesByName',
  'route53:ListResourceRecordSets',
  'route53:ListTagsForResources',
  'cloudfront:Get*',
  'cloudfront:List*',
  'application-autoscaling:Describe*',
  'autoscaling:Describe*',
  'scheduler:GetSchedule',
  'scheduler:ListSchedules',
  'sqs:ListQueues',
  'sqs:GetQueueAttributes',
  'sqs:ListQueueTags',
  'ses:GetAccount',
  'ses:GetEmailIdentity',
  'ses:GetIdentityDkimAttributes',
  'ses:GetIdentityMailFromDomainAttributes',
  'ses:GetIdentityVerificationAttributes',
  'tag:GetResources',
  'codebuild:ListProjects',
  'codebuild:BatchGetProjects',
];

// Changes to the stack's own resources: authorized by the stack's tag on the resource or in the request.
const TAGGED = [
  'ec2:Create*',
  'ec2:Delete*',
  'ec2:Modify*',
  'ec2:Associate*',
  'ec2:Disassociate*',
  'ec2:AttachInternetGateway',
  'ec2:DetachInternetGateway',
  'ec2:AuthorizeSecurityGroup*',
  'ec2:RevokeSecurityGroup*',
  'ec2:UpdateSecurityGroupRuleDescriptions*',
  'ec2:ReplaceRoute',
  'ec2:AllocateAddress',
  'ec2:ReleaseAddress',
  'ec2:RunInstances',
  'ec2:TerminateInstances',
  'ecs:Create*',
  'ecs:Delete*',
  'ecs:Update*',
  'ecs:PutClusterCapacityProviders',
  'ecs:TagResource',
  'ecs:UntagResource',
  'ecs:StopTask',
  'elasticloadbalancing:Create*',
  'elasticloadbalancing:Delete*',
  'elasticloadbalancing:Modify*',
  'elasticloadbalancing:Set*',
  'elasticloadbalancing:AddTags',
  'elasticloadbalancing:RemoveTags',
  'rds:CreateDBInstance',
  'rds:CreateDBSubnetGroup',
  'rds:CreateDBParameterGroup',
  'rds:CreateDBSnapshot',
  'rds:ModifyDBInstance',
  'rds:ModifyDBSubnetGroup',
  'rds:ModifyDBParameterGroup',
  'rds:ResetDBParameterGroup',
  'rds:DeleteDBSubnetGroup',
  'rds:DeleteDBParameterGroup',
  'rds:AddTagsToResource',
  'rds:RemoveTagsFromResource',
  'elasticache:Create*',
  'elasticache:Modify*',
  'elasticache:Delete*',
  'elasticache:AddTagsToResource',
  'elasticache:RemoveTagsFromResource',
  'kms:CreateKey',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:PutKeyPolicy',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:UpdateKeyDescription',
  'acm:RequestCertificate',
  'acm:DeleteCertificate',
  'acm:AddTagsToCertificate',
  'acm:RemoveTagsFromCertificate',
  'sqs:CreateQueue',
  'sqs:DeleteQueue',
  'sqs:SetQueueAttributes',
  'sqs:TagQueue',
  'sqs:UntagQueue',
  'autoscaling:CreateAutoScalingGroup',
  'autoscaling:UpdateAutoScalingGroup',
  'autoscaling:DeleteAutoScalingGroup',
  'autoscaling:CreateOrUpdateTags',
  'application-autoscaling:RegisterScalableTarget',
  'application-autoscaling:DeregisterScalableTarget',
  'application-autoscaling:PutScalingPolicy',
  'application-autoscaling:DeleteScalingPolicy',
  'application-autoscaling:TagResource',
  'cloudfront:CreateDistribution',
  'cloudfront:UpdateDistribution',
  'cloudfront:DeleteDistribution',
  'cloudfront:TagResource',
  'cloudfront:UntagResource',
  'ses:CreateEmailIdentity',
  'ses:DeleteEmailIdentity',
  'ses:TagResource',
  'ses:UntagResource',
];

// Never, even on the stack's own resources: what holds data, and what a person deploys.
const NEVER_DATA = [
  'rds:DeleteDBInstance',
  'rds:DeleteDBSnapshot',
  's3:DeleteBucket',
  'ecr:DeleteRepository',
];

export function deployPolicy(n: PolicyNames): Record<string, unknown> {
  const { account, region, stack } = n;
  const arn = (service: string, resource: string, r = region) =>
    `arn:aws:${service}:${r}:${account}:${resource}`;
  const repository = arn('ecr', `repository/${repositoryName(stack, 'app')}`);
  const lockBucket = `touchdown-locks-${account}-${region}`;
  const parameters = [
    arn('ssm', `parameter/${n.app}/${n.stage}/*`),
    arn('ssm', `parameter/touchdown/${stack}/*`),
  ];
  const ownRole = roleArn(account, region, deployRoleName(stack));
  const statements: Statement[] = [
    { Sid: 'FindTheStack', Effect: 'Allow', Action: READ, Resource: '*' },
    // ECR authorizes a registry login only on "*": https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html
    // ECS authorizes RegisterTaskDefinition only on "*": https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
    {
      Sid: 'NotAuthorizedByResource',
      Effect: 'Allow',
      Action: ['ecr:GetAuthorizationToken', 'ecs:RegisterTaskDefinition', 'ecs:DeregisterTaskDefinition'],
      Resource: '*',
    },
    {
      Sid: 'PushTheImage',
      Effect: 'Allow',
      Action: [
        'ecr:BatchCheckLayerAvailability',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        'ecr:CreateRepository',
        'ecr:PutLifecyclePolicy',
        'ecr:PutImageScanningConfiguration',
        'ecr:PutImageTagMutability',
        'ecr:TagResource',
        'ecr:UntagResource',
      ],
      Resource: repository,
    },
    {
      Sid: 'RunTheRelease',
      Effect: 'Allow',
      Action: ['ecs:RunTask'],
      Resource: arn('ecs', `task-definition/${stack}-*`),
      Condition: { ArnLike: { 'ecs:cluster': arn('ecs', `cluster/${stack}-*`) } },
    },
    {
      Sid: 'PassTheStacksRoles',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: `arn:aws:iam::${account}:role/${stack}-*`,
      Condition: {
        StringEquals: {
          'iam:PassedToService': [
            'ecs-tasks.amazonaws.com',
            'ecs.amazonaws.com',
            'ec2.amazonaws.com',
            'scheduler.amazonaws.com',
          ],
        },
      },
    },
    {
      Sid: 'ChangeTheStacksRoles',
      Effect: 'Allow',
      Action: [
        'iam:CreateRole',
        'iam:DeleteRole',
        'iam:UpdateRole',
        'iam:UpdateAssumeRolePolicy',
        'iam:PutRolePolicy',
        'iam:DeleteRolePolicy',
        'iam:AttachRolePolicy',
        'iam:DetachRolePolicy',
        'iam:TagRole',
        'iam:UntagRole',
        'iam:CreateInstanceProfile',
        'iam:DeleteInstanceProfile',
        'iam:AddRoleToInstanceProfile',
        'iam:RemoveRoleFromInstanceProfile',
        'iam:TagInstanceProfile',
        'iam:UntagInstanceProfile',
      ],
      Resource: [
        `arn:aws:iam::${account}:role/${stack}-*`,
        `arn:aws:iam::${account}:instance-profile/${stack}-*`,
      ],
    },
    {
      Sid: 'ReleasesAndSettings',
      Effect: 'Allow',
      Action: [
        'ssm:GetParameter',
        'ssm:GetParameters',
        'ssm:GetParametersByPath',
        'ssm:PutParameter',
        'ssm:DeleteParameter',
        'ssm:DeleteParameters',
        'ssm:AddTagsToResource',
        'ssm:RemoveTagsFromResource',
        'ssm:ListTagsForResource',
      ],
      Resource: parameters,
    },
    {
      Sid: 'TheStacksLogs',
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:DeleteLogGroup',
        'logs:PutRetentionPolicy',
        'logs:DeleteRetentionPolicy',
        'logs:PutMetricFilter',
        'logs:DeleteMetricFilter',
        'logs:TagResource',
        'logs:UntagResource',
        'logs:ListTagsForResource',
        'logs:AssociateKmsKey',
        'logs:DisassociateKmsKey',
        'logs:DescribeLogStreams',
        'logs:GetLogEvents',
        'logs:FilterLogEvents',
      ],
      Resource: arn('logs', `log-group:/${stack}/*`),
    },
    {
      Sid: 'TheStacksBuckets',
      Effect: 'Allow',
      Action: [
        's3:CreateBucket',
        's3:ListBucket',
        's3:GetBucketTagging',
        's3:PutBucketTagging',
        's3:GetEncryptionConfiguration',
        's3:PutEncryptionConfiguration',
        's3:GetBucketVersioning',
        's3:PutBucketVersioning',
        's3:GetLifecycleConfiguration',
        's3:PutLifecycleConfiguration',
        's3:GetBucketPolicy',
        's3:PutBucketPolicy',
        's3:DeleteBucketPolicy',
        's3:GetBucketCORS',
        's3:PutBucketCORS',
        's3:GetBucketPublicAccessBlock',
        's3:PutBucketPublicAccessBlock',
      ],
      Resource: [`arn:aws:s3:::${stack}-*`, `arn:aws:s3:::${lockBucket}`],
    },
    {
      Sid: 'TheStacksLock',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: `arn:aws:s3:::${lockBucket}/touchdown/locks/${stack}/*`,
    },
    {
      Sid: 'ChangeTaggedResources',
      Effect: 'Allow',
      Action: TAGGED,
      Resource: '*',
      Condition: { StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: stack } },
    },
    {
      Sid: 'CreateTaggedResources',
      Effect: 'Allow',
      Action: TAGGED.filter((a) => /:(Create|Run|Allocate|Request|Register|Put|Tag|AddTags)/.test(a)),
      Resource: '*',
      Condition: { StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: stack } },
    },
    { Sid: 'NeverTheData', Effect: 'Deny', Action: NEVER_DATA, Resource: '*' },
    {
      Sid: 'NeverItsOwnTrust',
      Effect: 'Deny',
      Action: ['iam:Put*', 'iam:Attach*', 'iam:Update*', 'iam:Delete*', 'iam:Tag*', 'iam:Untag*'],
      Resource: ownRole,
    },
  ];
  if (n.domain) {
    statements.push({
      Sid: 'TheStacksRecords',
      Effect: 'Allow',
      Action: 'route53:ChangeResourceRecordSets',
      Resource: 'arn:aws:route53:::hostedzone/*',
      Condition: {
        'ForAllValues:StringLike': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [n.domain, `*.${n.domain}`],
        },
      },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}
