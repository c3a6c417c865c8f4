// `touchdown deploy` of examples/blog on a local AWS that runs the app: the web service behind the load balancer
// and the Celery worker on SQS run as processes; an editor's upload through the load balancer gets its thumbnail
// from the worker, written to the media bucket.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { parseManifest } from '../src/config/load-manifest.js';
import { deploy } from '../src/django/deploy.js';
import { Browser, listenerUrl } from './support/app-http.js';
import { useLocalAws } from './support/harness.js';
import { addBlogPost, createEditor } from './support/local-stack.js';
import { repoRoot, venvPython } from './support/paths.js';

const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 120_000 };
const blog = join(repoRoot, 'examples', 'blog');

describe('touchdown deploy of the blog, with the app running', () => {
  const t = useLocalAws({
    apps: {
      images: { '*/blog-production-app:*': { dir: blog, python: venvPython, env: { WEB_CONCURRENCY: '1' } } },
    },
  });

  it("serves the blog through the load balancer; the worker makes an upload's thumbnail", async () => {
    const path = join(blog, 'touchdown.yml');
    const loaded = parseManifest(await readFile(path, 'utf8'), path);
    loaded.manifest.web.count = 1;
    const result = await deploy({
      loaded,
      aws: t.aws.clients(),
      events: () => {},
      signal: new AbortController().signal,
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/blog-production-app:v1',
      timing,
    });
    assert.equal(result.status, 'deployed', `${result.message}\n${(result.logs ?? []).join('\n')}`);

    const browser = new Browser(await listenerUrl(t.aws, 'blog', 80));
    assert.equal((await browser.request('/')).status, 200);
    const database = Object.values(await t.aws.databases())[0]!;
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
    assert.equal(login.status, 302, (await login.text()).slice(0, 2000));

    const added = await addBlogPost(browser, 'Hello from the load balancer', 'Made on a deployed blog.');
    assert.equal(added.status, 302, (await added.text()).slice(0, 2000));

    const { Buckets } = await t.boto.call('s3', 'ListBuckets', {});
    const bucket = Buckets.find((b: { Name: string }) => b.Name.startsWith('blog-production-media')).Name;
    const thumbnails = async () =>
      ((await t.boto.call('s3', 'ListObjectsV2', { Bucket: bucket, Prefix: 'media/thumbnails/' })).Contents ??
        []) as { Key: string }[];
    const deadline = Date.now() + 60_000;
    while ((await thumbnails()).length === 0 && Date.now() < deadline) await delay(250);
    const made = await thumbnails();
    assert.equal(made.length, 1, 'the worker wrote one thumbnail to the media bucket');
    const head = await t.boto.call('s3', 'HeadObject', { Bucket: bucket, Key: made[0]!.Key });
    assert.equal(head.ContentType, 'image/jpeg');
    const page = await (await browser.request('/hello-from-the-load-balancer/')).text();
    assert.match(page, /Hello from the load balancer/);
  });
});
