// Everything about a run that can be checked without changing AWS, checked before the first change: the
// region, the stack as the release will build it (secrets typed into environment, sizes AWS refuses), the
// image given with --image, and a container builder when deploy has to build one.
import { basename } from 'node:path';
import type { LoadedManifest } from '../config/load-manifest.js';
import { regionProblem } from '../config/regions.js';
import { ConfigError } from '../core/errors.js';
import { awsBlueprint, UNASKED_ZONES } from './blueprint/index.js';
import { findBuilder, NoImageBuilder } from './image.js';
import { packageLocation } from './lambda-package.js';

export interface PreflightOptions {
  command: string;
  region: string;
  /** Where the region came from, as the user set it: "--region", "AWS_REGION", "touchdown.yml region". */
  regionFrom: string;
  /** deploy --image. */
  image?: string;
}

/** What stands for the release's image (a zip package on Lambda) while the stack is checked; never sent anywhere. */
const PLACEHOLDER_IMAGE = '000000000000.dkr.ecr.us-east-1.amazonaws.com/preflight:check';
const PLACEHOLDER_PACKAGE = 's3://touchdown-preflight/lambda/check.zip';

/**
 * Commands that change nothing: what the release would refuse is for plan and deploy to say, and building the
 * release's stack here took a tenth of `outputs` and `status` (the stack they read is still checked).
 */
const READ_ONLY = new Set(['outputs', 'status', 'releases', 'logs']);

/** Throws one ConfigError naming every problem found; changes nothing and calls no AWS API. */
export async function preflight(loaded: LoadedManifest | undefined, o: PreflightOptions): Promise<void> {
  checkRegion(o.region, o.regionFrom);
  if (!loaded || READ_ONLY.has(o.command)) return;
  const file = basename(loaded.path);
  // The release's task definitions and function exist only once there is an image: build the stack as
  // the release will, so what they refuse is refused now, not after the infrastructure changed.
  const lambda = loaded.manifest.web.compute === 'lambda';
  try {
    awsBlueprint(loaded, {
      region: o.region,
      account: '000000000000',
      // Which zones AWS offers is asked later, with the account's credentials; their names do not change the checks.
      zones: UNASKED_ZONES,
      image: lambda ? PLACEHOLDER_PACKAGE : PLACEHOLDER_IMAGE,
      version: '1',
    }).check();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => `${file} (stage ${loaded.stage}): ${p}`);
    throw new ConfigError(
      problems.length === 1 ? problems[0]! : `${problems.length} problems in ${file}`,
      problems,
    );
  }
  if (o.command !== 'deploy') return;
  if (o.image !== undefined) {
    const problem = lambda
      ? packageLocation(o.image)
        ? undefined
        : 'web.compute lambda runs a zip package: pass s3://<bucket>/<key>.zip, or leave --image out and deploy builds it'
      : imageProblem(o.image);
    if (problem) throw new ConfigError(`--image ${o.image}: ${problem}`);
    return;
  }
  if (lambda) return;
  try {
    await findBuilder();
  } catch (err) {
    if (err instanceof NoImageBuilder) throw new ConfigError(err.message);
    throw err;
  }
}

export function checkRegion(region: string, from: string): void {
  const problem = regionProblem(region);
  if (problem) throw new ConfigError(`${from}: ${problem}`);
}

// Docker's reference grammar: [registry[:port]/]path[:tag][@sha256:digest], path components in lower case.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html (image)
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\\d+)?/)';
const IMAGE = new RegExp(
  `^${REGISTRY}?${COMPONENT}(?:/${COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`,
);

/** Why this is not an image a task can pull, exactly; undefined when it is one. */
export function imageProblem(image: string): string | undefined {
  const example = 'e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v42';
  if (/^[a-z]+:\/\//i.test(image)) return `drop the ${image.split('://')[0]}:// in front: ${example}`;
  if (!IMAGE.test(image)) {
    const why = /\s/.test(image)
      ? 'it holds a space'
      : /[A-Z]/.test(image.split('/').slice(1).join('/') || image)
        ? 'repository names are lower case'
        : 'it is not an image reference';
    return `${why}; write registry/repository:tag or registry/repository@sha256:<digest>, ${example}`;
  }
  const last = image.split('/').at(-1)!;
  if (!last.includes(':') && !last.includes('@')) {
    return `name an exact image with a tag or digest (${image}:v42): without one the release follows "latest" and rollback cannot return to it`;
  }
  return undefined;
}
