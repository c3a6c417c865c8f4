// django-compressor with COMPRESS_OFFLINE behind the settings snippet: `compress` runs in the release task and the
// pages are rendered by web tasks that never see its disk (issue 10, found on healthchecks). Real Django, real
// django-compressor, the local AWS's S3; each step is its own process with its own empty working folder.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Boto } from './support/boto.js';
import { type LocalAws, startLocalAws } from './support/local-aws.js';
import { repoRoot, venvPython } from './support/paths.js';

const run = promisify(execFile);
const SNIPPET = join(repoRoot, 'src', 'django', 'settings', 'touchdown_settings.py');
const BUCKET = 'shop-static-compressor';

// A project as healthchecks has it: compressor installed, offline compression, STATIC_ROOT on the local disk.
const SETTINGS = (extra = '') => `
import os
SECRET_KEY = "compressor-test"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "shop.urls"
INSTALLED_APPS = ["django.contrib.staticfiles", "compressor", "shop"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {}
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(os.getcwd(), "static-root")
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "compressor.finders.CompressorFinder",
]
COMPRESS_OFFLINE = True
${extra}
from .touchdown_settings import *  # noqa
`;

const TEMPLATE = `{% load static compress %}<html><head>
{% compress css %}<link rel="stylesheet" href="{% static 'css/site.css' %}">{% endcompress %}
</head><body>shop</body></html>`;

const URLS = `
from django.shortcuts import render
from django.urls import path
urlpatterns = [path("", lambda request: render(request, "home.html"))]
`;

// A web task: the home page as Django renders it, and where its settings put compressor's files.
const PROBE = `
import json, sys, django
from django.conf import settings
django.setup()
from django.test import Client
from django.core.files.storage import storages
r = Client().get("/") if sys.argv[1:] == ["render"] else None
print(json.dumps({"status": r and r.status_code, "body": r and r.content.decode(), "storages": settings.STORAGES,
                  "compress_url": getattr(settings, "COMPRESS_URL", None),
                  "static_url": storages["staticfiles"].url("css/site.css")}))
`;

describe('django-compressor offline output on the static bucket', () => {
  let project: string;
  let aws: LocalAws;
  let boto: Boto;
  const folders: string[] = [];

  before(async () => {
    project = await mkdtemp(join(tmpdir(), 'compressor-'));
    folders.push(project);
    const shop = join(project, 'shop');
    await mkdir(join(shop, 'static', 'css'), { recursive: true });
    await mkdir(join(shop, 'templates'));
    await writeFile(join(shop, '__init__.py'), '');
    await writeFile(join(shop, 'settings.py'), SETTINGS());
    await writeFile(join(shop, 'urls.py'), URLS);
    await writeFile(join(shop, 'templates', 'home.html'), TEMPLATE);
    // Its image is referred to relatively, as a stylesheet does: compressor rewrites it to where static files are served.
    await writeFile(
      join(shop, 'static', 'css', 'site.css'),
      'body {\n  color: #123456;\n  background: url("../img/dot.png");\n}\n',
    );
    await copyFile(SNIPPET, join(shop, 'touchdown_settings.py'));
    await writeFile(
      join(project, 'manage.py'),
      'import sys\nfrom django.core.management import execute_from_command_line\nexecute_from_command_line(sys.argv)\n',
    );
    aws = await startLocalAws();
    boto = new Boto(aws.endpoint, aws.region);
    await boto.call('s3', 'CreateBucket', { Bucket: BUCKET });
  });
  after(async () => {
    boto?.close();
    await aws?.stop();
    await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** One process of the stack (the release task or a web task), started in a fresh empty folder. */
  async function task(args: string[], env: Record<string, string> = {}) {
    const cwd = await mkdtemp(join(tmpdir(), 'compressor-task-'));
    folders.push(cwd);
    const { stdout } = await run(venvPython, args, {
      cwd,
      env: {
        ...aws.env,
        PATH: process.env.PATH ?? '',
        PYTHONPATH: project,
        DJANGO_SETTINGS_MODULE: 'shop.settings',
        AWS_STATIC_BUCKET_NAME: BUCKET,
        AWS_S3_ENDPOINT_URL: aws.endpoint,
        ...env,
      },
    });
    return { stdout, cwd };
  }
  const release = () => task([join(project, 'manage.py'), 'compress']);
  const page = async (render = true) =>
    JSON.parse((await task(['-c', PROBE, ...(render ? ['render'] : [])])).stdout);
  const keys = async (): Promise<string[]> =>
    ((await boto.call('s3', 'ListObjectsV2', { Bucket: BUCKET })).Contents ?? []).map(
      (o: { Key: string }) => o.Key,
    );

  const stylesheet = async (url: string) =>
    (
      await boto.call('s3', 'GetObject', {
        Bucket: BUCKET,
        Key: url.slice(`${aws.endpoint}/${BUCKET}/`.length),
      })
    ).Body as string;

  it('a web task renders the page from the manifest and files the release task wrote to the bucket', async () => {
    const compressed = await release();
    assert.deepEqual(await readdir(compressed.cwd), [], 'nothing is written to the release task’s disk');
    const stored = await keys();
    assert.ok(stored.includes('static/CACHE/manifest.json'), `manifest in the bucket: ${stored}`);

    const first = await page();
    assert.equal(first.status, 200, first.body);
    const link = first.body.match(/<link rel="stylesheet" href="([^"]+)"/)?.[1];
    assert.ok(link, first.body);
    assert.ok(link.startsWith(`${aws.endpoint}/${BUCKET}/static/CACHE/css/`), link);
    assert.equal(first.compress_url, `${aws.endpoint}/${BUCKET}/static/`);
    // The link names an object of the bucket (private: CloudFront reads it on AWS), the minified stylesheet.
    const css = await stylesheet(link);
    assert.match(css, /body\{color:#123456;/);
    assert.ok(css.includes(`url("${aws.endpoint}/${BUCKET}/static/img/dot.png")`), css);

    // The next release (a changed stylesheet) rewrites manifest.json in place: the web tasks follow it.
    await writeFile(join(project, 'shop', 'static', 'css', 'site.css'), 'body {\n  color: #abcdef;\n}\n');
    await release();
    const second = await page();
    const next = second.body.match(/<link rel="stylesheet" href="([^"]+)"/)?.[1];
    assert.ok(next && next !== link, `a new link after the second release: ${next}`);
    assert.match(await stylesheet(next), /body\{color:#abcdef\}/);
    const manifests = (await keys()).filter((key) => key.includes('manifest'));
    assert.deepEqual(manifests, ['static/CACHE/manifest.json'], 'one manifest, no manifest_<random>.json');
  });

  it('sets COMPRESS_URL to where S3Storage says the static files are, behind CloudFront and on S3 itself', async () => {
    const cases: Record<string, string>[] = [
      { AWS_S3_CUSTOM_DOMAIN: 'd111111abcdef8.cloudfront.net' },
      { AWS_S3_CUSTOM_DOMAIN: 'localhost:8000', AWS_S3_URL_PROTOCOL: 'http:' },
      { AWS_S3_ENDPOINT_URL: '', AWS_ENDPOINT_URL: '' },
    ];
    for (const env of cases) {
      const settings = JSON.parse((await task(['-c', PROBE], env)).stdout);
      assert.equal(`${settings.compress_url}css/site.css`, settings.static_url, JSON.stringify(env));
    }
  });

  it("keeps a project's own compressor storage and URL, and leaves projects without compressor alone", async () => {
    const settings = join(project, 'shop', 'settings.py');
    try {
      await writeFile(
        settings,
        SETTINGS(
          'STORAGES = {"compressor": {"BACKEND": "shop.storage.CdnStorage"}}\nCOMPRESS_URL = "/assets/"',
        ),
      );
      const own = await page(false);
      assert.equal(own.storages.compressor.BACKEND, 'shop.storage.CdnStorage');
      assert.equal(own.storages['compressor-offline'], undefined);
      assert.equal(own.compress_url, '/assets/');
      assert.equal(own.storages.staticfiles.BACKEND, 'storages.backends.s3.S3Storage');

      // compressor's own storages write to the task's disk, which no web task sees: the bucket replaces them,
      // named in STORAGES or in the older COMPRESS_STORAGE (as healthchecks does).
      for (const line of [
        'STORAGES = {"compressor": {"BACKEND": "compressor.storage.CompressorFileStorage"}}',
        'COMPRESS_STORAGE = "compressor.storage.GzipCompressorFileStorage"',
      ]) {
        await writeFile(settings, SETTINGS(`${line}\nCOMPRESS_URL = "/static/"`));
        const disk = await page(false);
        assert.equal(disk.storages.compressor.BACKEND, 'storages.backends.s3.S3Storage', line);
        assert.equal(disk.compress_url, `${aws.endpoint}/${BUCKET}/static/`, line);
      }

      await writeFile(settings, SETTINGS().replace('"compressor", ', ''));
      const without = await page(false);
      assert.deepEqual(Object.keys(without.storages).sort(), ['default', 'staticfiles']);
      assert.equal(without.compress_url, null);
    } finally {
      await writeFile(settings, SETTINGS());
    }
  });
});
