import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadManifest } from '../config/load-manifest.js';
import { regionProblem } from '../config/regions.js';
import { imageProblem, preflight } from './preflight.js';

describe('images deploy --image takes', () => {
  for (const image of [
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-production-app:v1',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:' + 'a'.repeat(64),
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/shop:1.2.3-rc_1@sha256:' + 'b'.repeat(64),
    'public.ecr.aws/docker/library/python:3.12-slim',
    'ghcr.io/acme/shop:main',
    'localhost:5000/shop:dev',
    'nginx:1.27',
  ]) {
    it(`takes ${image}`, () => assert.equal(imageProblem(image), undefined));
  }
  const refused: [string, RegExp][] = [
    ['https://ghcr.io/acme/shop:v1', /^drop the https:\/\/ in front/],
    ['ghcr.io/acme/Shop:v1', /^repository names are lower case/],
    ['shop app:v1', /^it holds a space/],
    ['ghcr.io/acme/shop', /^name an exact image with a tag or digest/],
    ['localhost:5000/shop', /^name an exact image with a tag or digest/],
    ['ghcr.io/acme/shop:v1@sha256:short', /^it is not an image reference/],
    ['ghcr.io//shop:v1', /^it is not an image reference/],
  ];
  for (const [image, why] of refused) {
    it(`refuses ${image}`, () => assert.match(imageProblem(image) ?? '', why));
  }
});

describe('regions', () => {
  it('takes the regions AWS has, in every partition', () => {
    for (const r of [
      'us-east-1',
      'eu-central-2',
      'ap-southeast-7',
      'mx-central-1',
      'cn-north-1',
      'us-gov-west-1',
    ])
      assert.equal(regionProblem(r), undefined, r);
  });
  it('refuses a typo with the nearest region', () => {
    assert.match(regionProblem('us-east-7')!, /^"us-east-7" is not an AWS region; did you mean us-east-1\?/);
    assert.match(regionProblem('eu-west')!, /did you mean eu-west-1\?/);
    assert.match(regionProblem('US-EAST-1')!, /is not an AWS region/);
  });
});

describe('the release checked before the first change', () => {
  it('is refused by plan and deploy, and left to them by commands that change nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'touchdown-preflight-'));
    const path = join(dir, 'touchdown.yml');
    await writeFile(path, 'app: shop\ndjango:\n  settings: shop.settings\n  wsgi: shop.wsgi:application\n');
    const loaded = await loadManifest(path);
    // What touchdown.yml's own checks let through and the release's stack refuses (a task of no CPU).
    loaded.manifest.web.cpu = 3 as never;
    const at = { region: 'us-east-1', regionFrom: 'AWS_REGION' };
    for (const command of ['plan', 'apply', 'deploy'])
      await assert.rejects(preflight(loaded, { command, ...at }), /problems in touchdown\.yml/, command);
    for (const command of ['outputs', 'status', 'releases', 'logs'])
      await preflight(loaded, { command, ...at });
    await assert.rejects(
      preflight(loaded, { command: 'status', region: 'us-east-7', regionFrom: 'AWS_REGION' }),
      /AWS_REGION: "us-east-7" is not an AWS region/,
    );
  });
});
