// Where a release's image comes from: an ECR repository (any account, any region), whose ARN the execution role
// must be allowed to pull from, or a public registry pulled anonymously. A malformed reference is refused
// before anything changes, with what a good one looks like.
import { ConfigError } from '../../core/errors.js';

export interface ImageSource {
  uri: string;
  /** Set for an image in a private ECR repository: the repository the execution role pulls from. */
  ecr?: { account: string; region: string; repository: string; repositoryArn: string };
}

// https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html (registry URI) and
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html (repository name pattern)
const REPOSITORY = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = 'sha256:[a-f0-9]{64}';
const REFERENCE = `(?::(${TAG}))?(?:@(${DIGEST}))?`;
const ECR = new RegExp(
  `^(\\d{12})\\.dkr\\.ecr(?:-fips)?\\.([a-z]{2}(?:-[a-z]+)+-\\d)\\.amazonaws\\.com(\\.cn)?/(${REPOSITORY})${REFERENCE}$`,
);
// Docker's reference grammar: an optional registry host (with a dot or a port, or localhost), then the path.
const OTHER = new RegExp(
  `^(?:((?:[a-zA-Z0-9-]+\\.)+[a-zA-Z0-9-]+(?::\\d+)?|localhost(?::\\d+)?)/)?(${REPOSITORY})${REFERENCE}$`,
);

const EXAMPLE =
  '123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:v1 or public.ecr.aws/docker/library/python:3.12';

/** The image's source, or a ConfigError saying what is wrong with the reference. */
export function imageSource(uri: string): ImageSource {
  const refuse = (why: string) => new ConfigError(`image "${uri}": ${why}; write it like ${EXAMPLE}`);
  // ECS takes up to 255 characters: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
  if (uri.length > 255) throw refuse(`${uri.length} characters, and ECS takes 255 at most`);
  const ecr = ECR.exec(uri);
  if (ecr) {
    const [, account, region, china, repository] = ecr as unknown as [
      string,
      string,
      string,
      string | undefined,
      string,
    ];
    if (repository.length > 256) throw refuse('an ECR repository name has 256 characters at most');
    const partition = china ? 'aws-cn' : 'aws';
    return {
      uri,
      ecr: {
        account,
        region,
        repository,
        repositoryArn: `arn:${partition}:ecr:${region}:${account}:repository/${repository}`,
      },
    };
  }
  if (/\.dkr\.ecr[.-]/.test(uri)) {
    throw refuse(
      'not an ECR image: <12-digit account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@sha256:digest]',
    );
  }
  if (!OTHER.test(uri)) {
    throw refuse('not an image reference: [registry/]repository[:tag][@sha256:digest], in lower case');
  }
  // public.ecr.aws, Docker Hub, ghcr.io, quay.io...: pulled without credentials, so no grant to add.
  return { uri };
}
