// web.architecture reaches what runs the app: the Lambda function (and its package's wheels, lambda-package.ts),
// or every Fargate task definition, which share one image built for that processor.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseManifest } from '../../config/load-manifest.js';
import { imagePlatform } from '../image.js';
import { awsBlueprint, handlesOf } from './index.js';
import { lambdaArchitecture } from './lambda.js';

const xkcdPath = join(import.meta.dirname, '..', '..', '..', 'examples', 'xkcd', 'touchdown.yml');
const options = { region: 'us-east-1', account: '123456789012', zones: ['us-east-1a', 'us-east-1b'] };

async function xkcd(web: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const doc = { ...parse(await readFile(xkcdPath, 'utf8')), ...extra };
  doc.web = { ...doc.web, ...web };
  delete doc.stages;
  return parseManifest(stringify(doc), xkcdPath);
}

describe('web.architecture', () => {
  it('runs every Fargate task on Graviton, from an arm64 image; x86_64 by default', async () => {
    const arm = await xkcd(
      { architecture: 'arm64' },
      { workers: { default: { command: 'celery -A x worker' } } },
    );
    assert.equal(imagePlatform(arm.manifest), 'linux/arm64');
    const tasks = handlesOf(awsBlueprint(arm, { ...options, image: 'x/app:1' })).containers!.taskDefinitions;
    assert.deepEqual(Object.keys(tasks).sort(), ['release', 'web', 'worker-default']);
    for (const [name, task] of Object.entries(tasks)) {
      assert.deepEqual(task.args.runtimePlatform, { cpuArchitecture: 'ARM64' }, name);
    }
    const plain = await xkcd({});
    assert.equal(imagePlatform(plain.manifest), 'linux/amd64');
    const web = handlesOf(awsBlueprint(plain, { ...options, image: 'x/app:1' })).containers!.taskDefinitions
      .web!;
    assert.deepEqual(web.args.runtimePlatform, { cpuArchitecture: 'X86_64' });
  });

  it('runs the Lambda function on arm64 by default, on x86_64 when asked', async () => {
    const lambda = {
      compute: 'lambda',
      cpu: undefined,
      count: undefined,
      autoscaling: undefined,
      healthCheck: undefined,
    };
    const release = { image: 's3://xkcd-artifacts/lambda/abc.zip', version: '1' };
    for (const [architecture, expected] of [
      [undefined, 'arm64'],
      ['x86_64', 'x86_64'],
    ] as const) {
      const loaded = await xkcd({ ...lambda, architecture }, { network: { nat: 'gateway' } });
      assert.equal(lambdaArchitecture(loaded.manifest), expected);
      const fn = handlesOf(awsBlueprint(loaded, { ...options, ...release })).lambda!.fn!;
      assert.equal(fn.args.architecture, expected);
    }
  });
});
