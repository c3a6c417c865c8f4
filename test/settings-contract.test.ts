// The settings snippet (touchdown_settings.py) in a project's own settings, loaded by real Django: it sets only
// its part of each setting, and the load balancer's health check passes whatever the project's ALLOWED_HOSTS,
// SECURE_SSL_REDIRECT or URLconf say.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot, venvPython } from './support/paths.js';

const run = promisify(execFile);
const SNIPPET = join(repoRoot, 'src', 'django', 'settings', 'touchdown_settings.py');

// A project that insists on its own choices: a second database, a second cache, its own storages, HTTPS
// redirects, a fixed host, fixed AWS keys, and no view at "/".
const SETTINGS = `
SECRET_KEY = "project"
DEBUG = False
ALLOWED_HOSTS = ["www.example.com"]
SECURE_SSL_REDIRECT = True
ROOT_URLCONF = "shop.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.staticfiles"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3", "ATOMIC_REQUESTS": True, "OPTIONS": {"timeout": 20}},
    "legacy": {"ENGINE": "django.db.backends.sqlite3", "NAME": "legacy.sqlite3"},
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": "shop", "TIMEOUT": 60},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    "exports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": "/tmp/exports"}},
}
AWS_ACCESS_KEY_ID = "AKIAFIXEDFIXEDFIXED0"
from .touchdown_settings import *  # noqa
`;

const URLS = `
from django.http import HttpResponse
from django.urls import path
urlpatterns = [path("api/", lambda request: HttpResponse("api"))]
`;

// Loads the settings as a process of the stack would, then asks the app as the ALB and as a person would.
const PROBE = `
import json, django
from django.conf import settings
django.setup()
from django.test import Client
client = Client()
def ask(path, **headers):
    r = client.get(path, **headers)
    return [r.status_code, r.content.decode()[:40]]
alb = {"HTTP_HOST": "10.0.3.7:8000", "HTTP_USER_AGENT": "ELB-HealthChecker/2.0"}
print(json.dumps({
    "databases": settings.DATABASES,
    "caches": settings.CACHES,
    "storages": settings.STORAGES,
    "session": settings.SESSION_ENGINE,
    "middleware": settings.MIDDLEWARE,
    "apps": settings.INSTALLED_APPS,
    "health": ask("/", **alb),
    "other": ask("/api/", **alb),
    "person": ask("/", HTTP_HOST="www.example.com", HTTP_USER_AGENT="curl/8"),
    "api": ask("/api/", HTTP_HOST="www.example.com"),
    "api_over_https": ask("/api/", HTTP_HOST="www.example.com", HTTP_X_FORWARDED_PROTO="https"),
}, default=str))
`;

describe('the settings contract', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'contract-'));
    await mkdir(join(dir, 'shop'));
    await writeFile(join(dir, 'shop', '__init__.py'), '');
    await writeFile(join(dir, 'shop', 'settings.py'), SETTINGS);
    await writeFile(join(dir, 'shop', 'urls.py'), URLS);
    await copyFile(SNIPPET, join(dir, 'shop', 'touchdown_settings.py'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const load = (env: Record<string, string>) =>
    run(venvPython, ['-c', PROBE], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DJANGO_SETTINGS_MODULE: 'shop.settings', ...env },
    });

  it("sets only its part of the project's settings and answers the health check the way the ALB asks", async () => {
    const { stdout, stderr } = await load({
      DATABASE_URL: 'postgres://shop@db.internal:5432/shop',
      DATABASE_PASSWORD: 'secret',
      REDIS_URL: 'redis://cache.internal:6379/2',
      AWS_STATIC_BUCKET_NAME: 'shop-static',
      TOUCHDOWN_HEALTH_PATH: '/',
    });
    const s = JSON.parse(stdout);
    // The default database moves to PostgreSQL with the project's request atomicity; "legacy" stays.
    assert.equal(s.databases.default.ENGINE, 'django.db.backends.postgresql');
    assert.equal(s.databases.default.HOST, 'db.internal');
    assert.equal(s.databases.default.PASSWORD, 'secret');
    assert.equal(s.databases.default.ATOMIC_REQUESTS, true);
    assert.deepEqual(s.databases.default.OPTIONS, {}, "sqlite's options do not follow to PostgreSQL");
    assert.equal(s.databases.legacy.NAME, 'legacy.sqlite3');
    // Written for SQLite: django.contrib.postgres joins the project's apps, for apps with PostgreSQL fields.
    assert.deepEqual(s.apps.slice(-2), ['django.contrib.staticfiles', 'django.contrib.postgres']);
    // The default cache is Redis with the project's prefix and timeout; "pages" stays.
    assert.equal(s.caches.default.BACKEND, 'django.core.cache.backends.redis.RedisCache');
    assert.equal(s.caches.default.LOCATION, 'redis://cache.internal:6379/2');
    assert.equal(s.caches.default.KEY_PREFIX, 'shop');
    assert.equal(s.caches.pages.LOCATION, 'pages');
    assert.equal(s.session, 'django.contrib.sessions.backends.cache');
    // Static files go to the bucket; media (no bucket declared) and "exports" stay the project's.
    assert.equal(s.storages.staticfiles.BACKEND, 'storages.backends.s3.S3Storage');
    assert.equal(s.storages.staticfiles.OPTIONS.bucket_name, 'shop-static');
    assert.equal(s.storages.default.BACKEND, 'django.core.files.storage.FileSystemStorage');
    assert.equal(s.storages.exports.OPTIONS.location, '/tmp/exports');
    // The health check passes despite ALLOWED_HOSTS, SECURE_SSL_REDIRECT and no view at "/".
    assert.equal(s.middleware[0], 'shop.touchdown_settings.health_check_middleware');
    assert.deepEqual(s.health, [200, 'ok\n']);
    // Anything else the health checker or a person asks goes through the project's own middleware.
    assert.equal(s.other[0], 400, 'the target IP is still not an allowed host for other paths');
    assert.equal(s.person[0], 301, "a person's request to / is redirected to HTTPS as the project says");
    // Behind the load balancer (TOUCHDOWN_BEHIND_PROXY unset here: the project's own rule) plain HTTP is redirected.
    assert.equal(s.api[0], 301);
    // Fixed keys are reported: on AWS the task role must serve.
    assert.match(
      stderr,
      /the settings set AWS_ACCESS_KEY_ID to a fixed value: on AWS the task's role must serve/,
    );
  });

  it("trusts the load balancer's HTTPS header on AWS, and serves plain HTTP under touchdown up", async () => {
    const aws = JSON.parse(
      (await load({ ALLOWED_HOSTS: 'www.example.com', TOUCHDOWN_BEHIND_PROXY: 'true' })).stdout,
    );
    assert.equal(aws.api[0], 301, 'plain HTTP is sent to HTTPS, as the project says');
    assert.deepEqual(aws.api_over_https, [200, 'api']);
    const local = JSON.parse(
      (await load({ ALLOWED_HOSTS: 'www.example.com', TOUCHDOWN_BEHIND_PROXY: 'false' })).stdout,
    );
    assert.deepEqual(local.api, [200, 'api'], 'no redirect to an https:// that touchdown up does not serve');
  });

  it('keeps a project Redis backend and its options, and the settings the project chose for sessions', async () => {
    const settings = await readFile(join(dir, 'shop', 'settings.py'), 'utf8');
    const own = settings
      .replace(
        '"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "KEY_PREFIX": "shop", "TIMEOUT": 60}',
        '"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/9", "OPTIONS": {"db": "9"}}',
      )
      .replace(
        'from .touchdown_settings',
        'SESSION_ENGINE = "django.contrib.sessions.backends.db"\nfrom .touchdown_settings',
      );
    await writeFile(join(dir, 'shop', 'settings.py'), own);
    try {
      const { stdout } = await load({ REDIS_URL: 'redis://cache.internal:6379/2' });
      const s = JSON.parse(stdout);
      assert.deepEqual(s.caches.default, {
        BACKEND: 'django.core.cache.backends.redis.RedisCache',
        LOCATION: 'redis://cache.internal:6379/2',
        OPTIONS: { db: '9' },
      });
      assert.equal(s.session, 'django.contrib.sessions.backends.db');
      // Without TOUCHDOWN_HEALTH_PATH (runserver, tests) the project's middleware is left alone.
      assert.deepEqual(s.middleware, [
        'django.middleware.security.SecurityMiddleware',
        'django.middleware.common.CommonMiddleware',
      ]);
    } finally {
      await writeFile(join(dir, 'shop', 'settings.py'), settings);
    }
  });
});
