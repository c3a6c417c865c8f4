// `touchdown deploy` of examples/xkcd on a local AWS that runs the app: migrate and collectstatic run for real,
// the web tasks are gunicorn processes behind the load balancer's health checks, and the app answers there.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseManifest } from '../src/config/load-manifest.js';
import type { EngineEvent } from '../src/core/events.js';
import { deploy } from '../src/django/deploy.js';
import { get, listenerUrl } from './support/app-http.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot, venvPython } from './support/paths.js';

const IMAGE = (tag: string) => `123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd-production-app:${tag}`;
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 120_000 };

describe('touchdown deploy of xkcd, with the app running', () => {
  const t = useLocalAws({
    env: { MOTO_ACM_VALIDATION_WAIT: '0' },
    apps: {
      images: { '*/xkcd-production-app:*': { dir: join(repoRoot, 'examples', 'xkcd'), python: venvPython } },
    },
  });

  it('serves the app through the load balancer: the view count rises on reload', async () => {
    const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
    const loaded = parseManifest(await readFile(path, 'utf8'), path);
    // One gunicorn is enough to prove it and costs least.
    loaded.manifest.web.count = 1;
    loaded.manifest.web.autoscaling = { ...loaded.manifest.web.autoscaling!, min: 1, max: 1 };
    const events: EngineEvent[] = [];
    const result = await deploy({
      loaded,
      aws: t.aws.clients(),
      events: (e) => events.push(e),
      signal: new AbortController().signal,
      image: IMAGE('v1'),
      timing,
    });
    assert.equal(result.status, 'deployed', `${result.message}\n${(result.logs ?? []).join('\n')}`);

    // The HTTP listener redirects to HTTPS, as the ALB's redirect action does.
    const http = await get(`${await listenerUrl(t.aws, 'xkcd', 80)}/?comic=1`);
    assert.equal(http.status, 301);
    assert.match(String(http.headers.location), /^https:\/\/[^/]+\/\?comic=1$/);

    const https = await listenerUrl(t.aws, 'xkcd', 443);
    const jar: string[] = [];
    const views = async () => {
      const page = await get(`${https}/?comic=1`, jar);
      assert.equal(page.status, 200, page.body.slice(0, 500));
      return Number(/<strong id="views">(\d+)<\/strong>/.exec(page.body)?.[1]);
    };
    const first = await views();
    assert.equal(await views(), first + 1, 'the count is kept in PostgreSQL');
    assert.equal((await get(`${https}/healthz`)).body, 'ok');

    // The target is the task's own address, found healthy by the load balancer's checks (read with boto3).
    const { TargetGroups } = await t.boto.call('elbv2', 'DescribeTargetGroups', {});
    const web = TargetGroups.find((g: { TargetGroupName: string }) => g.TargetGroupName.includes('web'));
    const { TargetHealthDescriptions } = await t.boto.call('elbv2', 'DescribeTargetHealth', {
      TargetGroupArn: web.TargetGroupArn,
    });
    assert.deepEqual(
      TargetHealthDescriptions.map((d: { TargetHealth: { State: string } }) => d.TargetHealth.State),
      ['healthy'],
    );
  });
});
