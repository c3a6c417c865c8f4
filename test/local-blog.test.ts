// `touchdown up` with examples/blog: Celery with RabbitMQ (local.broker: rabbitmq, seed 001), image uploads
// to the media bucket on the local AWS the test harness runs, thumbnails made by the worker, and the schedule.
// An editor works through the admin over HTTP, as a browser would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '../src/local/local-aws.js';
import { Browser } from './support/app-http.js';
import { Boto } from './support/boto.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';
import {
  addBlogPost,
  copyOfProject,
  createEditor,
  processesOf,
  psql,
  stateOf,
  touchdown,
  userEnv,
  venvPython,
} from './support/local-stack.js';
import { ensureServices } from './support/services.js';

const run = promisify(execFile);
let aws: LocalAws;
let boto: Boto;
let url: string;

before(async () => {
  await ensureServices('postgres', 'redis', 'rabbitmq');
  aws = await startLocalAws();
  boto = new Boto(aws.endpoint, aws.region);
});

after(async () => {
  boto?.close();
  await aws?.stop();
});

for (const broker of ['rabbitmq', 'sqs'] as const)
  describe(`touchdown up: examples/blog with Celery on ${broker}`, () => {
    const app = `blog${broker}${process.pid % 100000}`;
    const stack = `${app}-local`;
    const database = stack.replaceAll('-', '_');
    let dir: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      dir = await copyOfProject('blog', app);
      // The schedule every minute, so that the test sees it run (the example's runs every 15).
      const manifest = join(dir, 'touchdown.yml');
      const yml = (await readFile(manifest, 'utf8')).replace('"0/15 * * * ? *"', '"* * * * ? *"');
      const local = yml.replace('broker: rabbitmq', `broker: ${broker}`);
      // With RabbitMQ, also as AWS's broker (Amazon MQ, issue 14): up still uses this machine's RabbitMQ.
      const declared =
        broker === 'rabbitmq' ? local.replace('\nworkers:\n', '\nworkers:\n  broker: rabbitmq\n') : local;
      assert.equal(declared.includes('  broker: rabbitmq\n'), broker === 'rabbitmq');
      await writeFile(manifest, declared);
      const port = await freePort();
      url = `http://localhost:${port}`;
      env = userEnv({ TOUCHDOWN_LOCAL_AWS: aws.endpoint });
      const r = await touchdown(['up', '--detach', '--port', String(port), '--python', venvPython], dir, env);
      assert.equal(r.code, 0, `up --detach failed:\n${r.stderr}`);
    });

    after(async () => {
      await touchdown(['down', '--volumes'], dir, env, 120_000);
      for (const pid of await processesOf(stack)) process.kill(pid, 'SIGKILL');
    });

    it(`runs a Celery worker on ${broker} that writes the thumbnail of an uploaded image to the media bucket`, {
      timeout: 240_000,
    }, async () => {
      const state = await stateOf(dir, stack);
      assert.equal(state.localAws?.startedByTouchdown, false, 'the harness local AWS (TOUCHDOWN_LOCAL_AWS)');
      assert.equal(state.processes['worker-default-1']?.state, 'running');

      await createEditor(database, 'editor', 'a-long-password');
      const browser = new Browser(url);
      const login = await browser.request('/admin/login/?next=/admin/', {
        method: 'POST',
        body: new URLSearchParams({
          csrfmiddlewaretoken: await browser.csrf('/admin/login/?next=/admin/'),
          username: 'editor',
          password: 'a-long-password',
          next: '/admin/',
        }),
      });
      assert.equal(login.status, 302, await login.text());

      const added = await addBlogPost(browser, 'Hello from up', 'Made on this machine.');
      assert.equal(added.status, 302, (await added.text()).slice(0, 2000));

      // The request stored the image; the worker, reading it back from the bucket, writes the thumbnail.
      const bucket = state.buckets!.media!;
      let thumbnails: { Key: string; Size: number }[] = [];
      for (let i = 0; i < 120 && thumbnails.length === 0; i++) {
        thumbnails =
          (await boto.call('s3', 'ListObjectsV2', { Bucket: bucket, Prefix: 'media/thumbnails/' }))
            .Contents ?? [];
        if (thumbnails.length === 0) await delay(500);
      }
      assert.equal(thumbnails.length, 1, 'one thumbnail in the media bucket');
      const uploads =
        (await boto.call('s3', 'ListObjectsV2', { Bucket: bucket, Prefix: 'media/posts/' })).Contents ?? [];
      assert.equal(uploads.length, 1, 'the uploaded image in the media bucket');
      const head = await boto.call('s3', 'HeadObject', { Bucket: bucket, Key: thumbnails[0]!.Key });
      assert.equal(head.ContentType, 'image/jpeg');
      const column = await psql(`SELECT thumbnail FROM posts_post WHERE slug = 'hello-from-up'`, database);
      assert.equal(`media/${column}`, thumbnails[0]!.Key, 'the post points at the thumbnail');

      // The page shows it, served from the bucket by the entry point.
      const html = await (await fetch(`${url}/hello-from-up/`)).text();
      const src = /id="thumbnail"[^>]*src="([^"]+)"|src="([^"]+)"[^>]*id="thumbnail"/.exec(html);
      const link = src?.[1] ?? src?.[2];
      assert.ok(link, `the post shows its thumbnail:\n${html}`);
      const image = await fetch(link!);
      assert.equal(image.status, 200);
      assert.equal(image.headers.get('content-type'), 'image/jpeg');
      assert.equal((await image.arrayBuffer()).byteLength, thumbnails[0]!.Size);

      const { stdout: queues } = await run('rabbitmqctl', ['list_queues', '-q', 'name']);
      const inRabbitMq = queues.split('\n').map((q) => q.trim());
      if (broker === 'rabbitmq') {
        // The task went through this stack's own queue on the local RabbitMQ.
        assert.ok(inRabbitMq.includes(stack), `queue ${stack} in RabbitMQ:\n${queues}`);
      } else {
        // Through the stack's SQS queue on the local AWS, as on AWS; nothing is left waiting in it.
        assert.ok(!inRabbitMq.includes(stack), 'RabbitMQ is not used');
        const { QueueUrl } = await boto.call('sqs', 'GetQueueUrl', { QueueName: `${stack}-celery` });
        const queue = await boto.call('sqs', 'GetQueueAttributes', { QueueUrl, AttributeNames: ['All'] });
        assert.equal(queue.Attributes.ApproximateNumberOfMessages, '0');
        assert.equal(queue.Attributes.ApproximateNumberOfMessagesNotVisible, '0', 'the message was deleted');
      }
    });

    // The schedule runs the same way whatever the broker: once is enough.
    if (broker === 'rabbitmq')
      it('runs the scheduled command when its time comes', { timeout: 150_000 }, async () => {
        await psql(
          `INSERT INTO posts_post (title, slug, body, image, thumbnail, publish_at, created_at)
       VALUES ('Scheduled', 'scheduled', 'x', '', '', now() - interval '1 minute', now())`,
          database,
        );
        assert.equal((await fetch(`${url}/scheduled/`)).status, 404, 'not published yet');
        let published = '';
        for (let i = 0; i < 140 && !published; i++) {
          published = await psql(`SELECT published_at FROM posts_post WHERE slug = 'scheduled'`, database);
          if (!published) await delay(500);
        }
        assert.ok(published, 'publish_scheduled ran within 70 seconds (it runs every minute)');
        assert.equal((await fetch(`${url}/scheduled/`)).status, 200);
      });

    it('down --volumes removes the database, the Redis database and the broker queue', {
      timeout: 120_000,
    }, async () => {
      const r = await touchdown(['down', '--volumes'], dir, env);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.deepEqual(await processesOf(stack), []);
      assert.equal(await psql(`SELECT count(*) FROM pg_database WHERE datname = '${database}'`), '0');
      if (broker === 'rabbitmq') {
        const { stdout: queues } = await run('rabbitmqctl', ['list_queues', '-q', 'name']);
        assert.ok(
          !queues
            .split('\n')
            .map((q) => q.trim())
            .includes(stack),
          `no queue ${stack} left in RabbitMQ`,
        );
      } else {
        const gone = await boto.errorOf('sqs', 'GetQueueUrl', { QueueName: `${stack}-celery` });
        assert.match(gone ?? 'still there', /NonExistentQueue|QueueDoesNotExist/);
      }
      const { Buckets } = await boto.call('s3', 'ListBuckets', {});
      assert.deepEqual(
        (Buckets ?? []).filter((b: { Name: string }) => b.Name.startsWith(stack)),
        [],
        'no bucket of the stack on the local AWS',
      );
    });
  });
