// What a release does differently where the app runs (web.compute): how its code is built and shipped, what
// one-off commands run with, and where. `touchdown deploy` walks the same steps for each.
import { dirname, join } from 'node:path';
import type { AwsClients } from '../aws/clients.js';
import type { OperationOptions } from '../aws/ecs/run-task.js';
import { publishVersion } from '../aws/lambda/version.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import { ConfigError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import type { World } from '../core/plan.js';
import type { Resource } from '../core/resource.js';
import { type AppHandles, outputsOf } from './blueprint/index.js';
import { lambdaArchitecture } from './blueprint/lambda.js';
import { buildAndPush, imagePlatform, releaseTag } from './image.js';
import { buildLambdaPackage, uploadLambdaPackage } from './lambda-package.js';
import { ecsRunner, lambdaRunner, type OneOffRunner, oneOffTask } from './one-off.js';
import type { Release } from './releases.js';

export interface ReleaseCompute {
  /** The step that builds and ships the release's code; what it returns is the release's `image`. */
  build: { step: string; run(world: World, handles: AppHandles): Promise<string> };
  /** The step that makes, from the new code, what one-off commands run with (nothing serves it yet). */
  definition: { step: string; resources(handles: AppHandles): (Resource | undefined)[] };
  /** Where the release's one-off commands run, once its definition exists. */
  prepare(world: World, handles: AppHandles, context: PrepareContext): Promise<PreparedRelease>;
}

export interface PrepareContext {
  step: <T>(name: string, run: () => Promise<T>) => Promise<T>;
  rollbackTo?: Release;
}

export interface PreparedRelease {
  runner: OneOffRunner;
  /** What the record of a release that fails from here on keeps. */
  recorded: Pick<Release, 'taskDefinitions' | 'functionVersion'>;
  /** The published function version the traffic step serves (lambda). */
  version?: string;
}

export interface ComputeContext {
  aws: AwsClients;
  loaded: LoadedManifest;
  events: EventSink;
  options: OperationOptions;
}

export function releaseCompute(c: ComputeContext): ReleaseCompute {
  return c.loaded.manifest.web.compute === 'lambda' ? lambdaCompute(c) : containerCompute(c);
}

/** An image built here and pushed to ECR; one-off commands as Fargate tasks of the release task definition. */
function containerCompute({ aws, loaded, events, options }: ComputeContext): ReleaseCompute {
  const m = loaded.manifest;
  return {
    build: {
      step: 'image',
      async run(world, h) {
        const built = await buildAndPush(aws, {
          // The Dockerfile and its context are touchdown.yml's folder, which may hold the dependency files
          // above django.project (netbox/manage.py beside a top-level requirements.txt).
          context: dirname(loaded.path),
          dockerfile: join(dirname(loaded.path), m.django.dockerfile),
          platform: imagePlatform(m),
          repositoryUri: String(outputsOf(world, h.containers?.repository)?.uri ?? ''),
          tag: await releaseTag(dirname(loaded.path)),
          log: (line) => events({ type: 'output', step: 'image', line }),
        });
        return built.digestUri;
      },
    },
    // The execution role too: its pull grant follows an image from another repository before migrate pulls it.
    definition: {
      step: 'release task',
      resources: (h) => [h.containers?.taskDefinitions.release, h.containers?.execution],
    },
    async prepare(world, h) {
      const task = oneOffTask(world, h);
      return {
        runner: ecsRunner(aws, task, options),
        recorded: { taskDefinitions: { release: task.taskDefinition } },
      };
    },
  };
}

/**
 * A zip uploaded to the artifacts bucket; the function's $LATEST takes it (nothing invokes $LATEST), a
 * version is published from it, and one-off commands invoke that version.
 */
function lambdaCompute({ aws, loaded, events, options }: ComputeContext): ReleaseCompute {
  const m = loaded.manifest;
  const root = dirname(loaded.path);
  return {
    build: {
      step: 'package',
      async run(world, h) {
        const log = (line: string) => events({ type: 'output', step: 'package', line });
        const pkg = await buildLambdaPackage({
          project: join(root, m.django.project),
          requirements: m.django.requirements,
          python: m.django.python,
          architecture: lambdaArchitecture(m),
          cacheDir: join(root, '.touchdown', 'lambda'),
          log,
        });
        const bucket = String(outputsOf(world, h.lambda?.artifacts)?.name ?? '');
        return uploadLambdaPackage(aws, bucket, pkg, log);
      },
    },
    definition: { step: 'release function', resources: (h) => [h.lambda?.fn] },
    async prepare(world, h, { step, rollbackTo }) {
      const functionName = String(outputsOf(world, h.lambda?.fn)?.name ?? '');
      let version = rollbackTo?.functionVersion;
      if (rollbackTo && !version) {
        throw new ConfigError(
          `release ${rollbackTo.number} ran on Fargate, not Lambda: roll back to a Lambda release`,
        );
      }
      // A rollback serves the earlier version again as it was published.
      version ??= await step('version', () => publishVersion(aws, functionName, options));
      return {
        runner: lambdaRunner(aws, functionName, version, options),
        recorded: { taskDefinitions: {}, functionVersion: version },
        version,
      };
    },
  };
}
