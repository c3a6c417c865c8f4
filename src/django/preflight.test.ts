import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { regionProblem } from '../config/regions.js';
import { imageProblem } from './preflight.js';

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
