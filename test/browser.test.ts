// Both examples under `touchdown up`, used in headless Chromium as a person would: the xkcd page and its view
// count, the blog's admin with an image upload and the worker's thumbnail. Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../src/local/local-aws.js';
import { Boto } from './support/boto.js';
import { screenshot, useBrowser } from './support/browser.js';
import {
  copyOfProject,
  createEditor,
  png,
  processesOf,
  psql,
  stateOf,
  touchdown,
  userEnv,
  venvPython,
} from './support/local-stack.js';
import { ensureServices } from './support/services.js';

const browser = await useBrowser();

/** What an <img> knows once the browser has loaded it (a broken image has no natural width). */
type Loaded = { src: string; naturalWidth: number };

/** `touchdown up --detach` of a private copy of an example; `down --volumes` after the file. */
function upFor(example: string, app: string) {
  const stack = `${app}-local`;
  const s = {
    dir: '',
    url: '',
    stack,
    database: stack.replaceAll('-', '_'),
    boto: undefined as Boto | undefined,
  };
  before(async () => {
    await ensureServices('postgres', 'redis', 'rabbitmq');
    s.dir = await copyOfProject(example, app);
    const port = await freePort();
    s.url = `http://localhost:${port}`;
    const r = await touchdown(['up', '--detach', '--port', String(port), '--python', venvPython], s.dir);
    assert.equal(r.code, 0, `up --detach failed:\n${r.stderr}`);
    s.boto = new Boto((await stateOf(s.dir, stack)).localAws!.endpoint);
  });
  after(async () => {
    s.boto?.close();
    await touchdown(['down', '--volumes'], s.dir, userEnv(), 120_000);
    for (const pid of await processesOf(stack)) process.kill(pid, 'SIGKILL');
  });
  return s;
}

describe('the xkcd app in a browser', () => {
  const s = upFor('xkcd', `xkbr${process.pid % 100000}`);

  it('shows a comic, loaded from the media bucket, whose view count rises on reload', {
    timeout: 300_000,
  }, async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.goto(`${s.url}/?comic=1`);
    const title = (await page.textContent('#title'))!;
    assert.match(title, /^#1 \| /);
    // The browser really loaded the picture (a broken image has no natural width).
    const width = await page.$eval('#comic', (img) => (img as unknown as Loaded).naturalWidth);
    assert.ok(width > 0, 'the comic image loaded');
    const first = Number(await page.textContent('#views'));
    await screenshot(page, 'xkcd-first-view');

    await page.reload();
    const second = Number(await page.textContent('#views'));
    assert.equal(second, first + 1, 'a reload counts one more view');
    await screenshot(page, 'xkcd-reload');
    assert.deepEqual(failed, [], 'every request of the page succeeded');

    const stored = await psql(
      'SELECT view_count FROM xkcd_app_xkcdcomicviews WHERE comic_number = 1',
      s.database,
    );
    assert.equal(Number(stored), second, 'the count on the page is the row in PostgreSQL');
    const src = (await page.getAttribute('#comic', 'src'))!;
    const state = await stateOf(s.dir, s.stack);
    const object = await s.boto!.call('s3', 'HeadObject', {
      Bucket: state.buckets!.media!,
      Key: new URL(src).pathname.slice(1),
    });
    assert.equal(object.ContentType, 'image/svg+xml', 'the image is the object in the media bucket');
  });
});

describe('the blog admin in a browser', () => {
  const s = upFor('blog', `blbr${process.pid % 100000}`);

  it('creates a post with an image; the worker writes its thumbnail, and the post shows it', {
    timeout: 300_000,
  }, async () => {
    await createEditor(s.database, 'editor', 'a-long-password');
    const page = await browser.newPage();
    await page.goto(`${s.url}/admin/`);
    await page.fill('#id_username', 'editor');
    await page.fill('#id_password', 'a-long-password');
    await Promise.all([page.waitForURL(`${s.url}/admin/`), page.click('input[type=submit]')]);

    await page.goto(`${s.url}/admin/posts/post/add/`);
    await page.locator('#id_title').pressSequentially('Seen in Chromium');
    // The admin's own script (served from the static bucket) fills the slug in as the title is typed.
    assert.equal(await page.inputValue('#id_slug'), 'seen-in-chromium');
    await page.fill('#id_body', 'Uploaded through the admin.');
    await page.fill('#id_published_at_0', '2026-01-01');
    await page.fill('#id_published_at_1', '10:00:00');
    await page.setInputFiles('#id_image', { name: 'photo.png', mimeType: 'image/png', buffer: await png() });
    await screenshot(page, 'blog-admin-add');
    await Promise.all([page.waitForURL(`${s.url}/admin/posts/post/`), page.click('input[name=_save]')]);

    // The worker reads the upload back from the bucket and writes the thumbnail beside it.
    const bucket = (await stateOf(s.dir, s.stack)).buckets!.media!;
    let thumbnails: { Key: string }[] = [];
    for (let i = 0; i < 120 && thumbnails.length === 0; i++) {
      thumbnails =
        (await s.boto!.call('s3', 'ListObjectsV2', { Bucket: bucket, Prefix: 'media/thumbnails/' }))
          .Contents ?? [];
      if (thumbnails.length === 0) await delay(500);
    }
    assert.equal(thumbnails.length, 1, 'the thumbnail is in the media bucket');
    const uploads = (await s.boto!.call('s3', 'ListObjectsV2', { Bucket: bucket, Prefix: 'media/posts/' }))
      .Contents;
    assert.equal(uploads?.length, 1, 'the uploaded image is in the media bucket');

    await page.goto(`${s.url}/seen-in-chromium/`);
    const shown = await page.$eval('#thumbnail', (img) => ({
      src: (img as unknown as Loaded).src,
      width: (img as unknown as Loaded).naturalWidth,
    }));
    assert.ok(shown.width > 0, 'the browser loaded the thumbnail');
    assert.equal(new URL(shown.src).pathname.slice(1), thumbnails[0]!.Key, 'from the media bucket');
    await screenshot(page, 'blog-post-with-thumbnail');
  });
});
