// The xkcd and blog stacks deployed in us-east-1, ap-northeast-1 and ca-central-1 on one local AWS
// that runs the apps (issue 11): the three regions deploy at once, and each region's app answers through its own
// load balancer's local port with its own database (xkcd's view count starts at 1 in each region and rises on
// reload; the blog's worker makes a thumbnail in that region's media bucket). The walkthrough's three regions:
// test/regions-walkthrough.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { AwsClients } from '../src/aws/clients.js';
import { parseManifest } from '../src/config/load-manifest.js';
import { deploy } from '../src/django/deploy.js';
import { Browser, get } from './support/app-http.js';
import { Boto } from './support/boto.js';
import { useLocalAws } from './support/harness.js';
import { addBlogPost, createEditor } from './support/local-stack.js';
import { repoRoot, venvPython } from './support/paths.js';

const REGIONS = ['us-east-1', 'ap-northeast-1', 'ca-central-1'];
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 180_000 };
const app = (name: string) => ({
  dir: join(repoRoot, 'examples', name),
  python: venvPython,
  env: { WEB_CONCURRENCY: '1' },
});

const t = useLocalAws({
  env: { MOTO_ACM_VALIDATION_WAIT: '0' },
  apps: { images: { '*/xkcd-production-app:*': app('xkcd'), '*/blog-production-app:*': app('blog') } },
});

/** Deploys an example's manifest in every region at once, one web task each; fails with the task's last logs. */
async function deployEverywhere(example: string): Promise<void> {
  const path = join(repoRoot, 'examples', example, 'touchdown.yml');
  // Every region's deploy ends before any is judged, so none runs on after the test: once, after one region's
  // deploy threw, the file's process never exited (idle, timers pending), likely the others' waits.
  const settled = await Promise.allSettled(
    REGIONS.map(async (region) => {
      const loaded = parseManifest(await readFile(path, 'utf8'), path);
      loaded.manifest.web.count = 1;
      if (loaded.manifest.web.autoscaling) loaded.manifest.web.autoscaling.min = 1;
      return deploy({
        loaded,
        aws: new AwsClients({ region, endpoint: t.aws.endpoint, maxAttempts: 3 }),
        events: () => {},
        signal: new AbortController().signal,
        image: `123456789012.dkr.ecr.${region}.amazonaws.com/${example}-production-app:v1`,
        timing,
      });
    }),
  );
  for (const [i, r] of settled.entries()) {
    if (r.status === 'rejected') assert.fail(`${REGIONS[i]}: ${(r.reason as Error).stack ?? r.reason}`);
    const { status, message, logs } = r.value;
    assert.equal(status, 'deployed', `${REGIONS[i]}: ${message}\n${(logs ?? []).join('\n')}`);
  }
}

/** The local URL of one region's load balancer listener for a stack. */
async function listener(stack: string, region: string, port: number): Promise<string> {
  const all = await t.aws.loadBalancers();
  const lb = all.find((l) => l.dnsName.startsWith(stack) && l.dnsName.includes(`.${region}.`));
  const url = lb?.listeners[String(port)];
  assert.ok(
    url,
    `a ${stack} listener on ${port} in ${region} (have: ${all.map((l) => l.dnsName).join(', ')})`,
  );
  return url;
}

describe('one stack in three regions, with the apps running', () => {
  it('xkcd answers in each region through its own load balancer, counting views in its own database', async () => {
    await deployEverywhere('xkcd');
    for (const region of REGIONS) {
      const https = await listener('xkcd', region, 443);
      const views = async () => {
        const page = await get(`${https}/?comic=1`);
        assert.equal(page.status, 200, `${region}: ${page.body.slice(0, 500)}`);
        return Number(/<strong id="views">(\d+)<\/strong>/.exec(page.body)?.[1]);
      };
      assert.equal(await views(), 1, `${region}: a database of its own, where comic 1 was never seen`);
      assert.equal(await views(), 2, `${region}: the count rises on reload`);
    }
    assert.equal(Object.keys(await t.aws.databases()).length, REGIONS.length, 'one database per region');
  });

  it("the blog's worker makes an upload's thumbnail in each region's own media bucket", async () => {
    await deployEverywhere('blog');
    const databases = await t.aws.databases();
    for (const region of REGIONS) {
      const browser = new Browser(await listener('blog', region, 80));
      assert.equal((await browser.request('/')).status, 200);
      const database = Object.entries(databases).find(([k]) => k.startsWith(`${region}/blog`))?.[1];
      assert.ok(database, `${region}: the blog's database (have: ${Object.keys(databases).join(', ')})`);
      await createEditor(database, 'editor', 'a-long-password');
      const login = await browser.request('/admin/login/?next=/admin/', {
        method: 'POST',
        body: new URLSearchParams({
          csrfmiddlewaretoken: await browser.csrf('/admin/login/?next=/admin/'),
          username: 'editor',
          password: 'a-long-password',
          next: '/admin/',
        }),
      });
      assert.equal(login.status, 302, `${region}: ${(await login.text()).slice(0, 2000)}`);
      const added = await addBlogPost(browser, `Hello from ${region}`, 'Made on a deployed blog.');
      assert.equal(added.status, 302, `${region}: ${(await added.text()).slice(0, 2000)}`);

      const boto = new Boto(t.aws.endpoint, region);
      try {
        const { Buckets } = await boto.call('s3', 'ListBuckets', {});
        const media: { Name: string }[] = [];
        for (const bucket of Buckets as { Name: string }[]) {
          if (!bucket.Name.startsWith('blog-production-media')) continue;
          // GetBucketLocation answers no constraint for us-east-1.
          const { LocationConstraint } = await boto.call('s3', 'GetBucketLocation', { Bucket: bucket.Name });
          if ((LocationConstraint ?? 'us-east-1') === region) media.push(bucket);
        }
        assert.equal(media.length, 1, `${region}: one media bucket of its own`);
        const thumbnails = async () => {
          const made: string[] = [];
          for (const b of media) {
            const listed = await boto.call('s3', 'ListObjectsV2', {
              Bucket: b.Name,
              Prefix: 'media/thumbnails/',
            });
            for (const o of listed.Contents ?? []) made.push(`${b.Name}/${o.Key}`);
          }
          return made;
        };
        const deadline = Date.now() + 90_000;
        while ((await thumbnails()).length === 0 && Date.now() < deadline) await delay(250);
        assert.equal(
          (await thumbnails()).length,
          1,
          `${region}: the worker wrote one thumbnail to its bucket`,
        );
      } finally {
        boto.close();
      }
    }
  });
});
