// Detection rules on small projects written in the test: each rule, the file it reads, and what it says.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { detectProject, MissingWsgi, UnsupportedPython } from '../detect.js';
import { findCeleryApp } from './celery.js';
import { environmentReads } from './environment.js';
import { pythonFiles } from './files.js';
import { allowedBy, choosePython } from './python.js';
import { readDeclared } from './requirements.js';

async function project(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'td-detect-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const manage = (settings: string) =>
  `import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "${settings}")\n`;
const wsgi = 'from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n';

describe('settings production runs', () => {
  it('a Procfile naming the module wins over manage.py, and says so', async () => {
    const root = await project({
      'manage.py': manage('site.settings.local'),
      'site/__init__.py': '',
      'site/wsgi.py': wsgi,
      'site/settings/__init__.py': '',
      'site/settings/local.py': 'from .common import *\n',
      'site/settings/heroku.py': 'from .common import *\n',
      'site/settings/common.py': 'WSGI_APPLICATION = "site.wsgi.application"\n',
      Procfile: 'web: gunicorn site.wsgi --env DJANGO_SETTINGS_MODULE=site.settings.heroku\n',
    });
    const p = await detectProject(root);
    assert.equal(p.settingsModule, 'site.settings.heroku');
    assert.equal(p.settingsWhy.why, 'Procfile sets DJANGO_SETTINGS_MODULE=site.settings.heroku');
    assert.equal(p.wsgi, 'site.wsgi:application');
  });

  it('a WSGI_APPLICATION naming a module that does not exist falls back to the wsgi.py that does', async () => {
    const root = await project({
      'manage.py': manage('site.settings'),
      'site/__init__.py': '',
      'site/settings/__init__.py': 'from .base import *\n',
      'site/settings/base.py': 'WSGI_APPLICATION = "site.settings.wsgi.application"\n',
      'site/wsgi.py': wsgi,
    });
    const p = await detectProject(root);
    assert.equal(p.wsgi, 'site.wsgi:application');
    assert.match(
      p.wsgiWhy,
      /WSGI_APPLICATION names site\.settings\.wsgi\.application, which does not exist; site\/wsgi\.py does/,
    );
  });

  it('an ASGI-only project is served as ASGI: ASGI_APPLICATION, or an asgi package defining application (saleor)', async () => {
    const asgi = 'from django.core.asgi import get_asgi_application\napplication = get_asgi_application()\n';
    const named = await detectProject(
      await project({
        'manage.py': manage('site.settings'),
        'site/__init__.py': '',
        'site/settings.py': 'ASGI_APPLICATION = "site.routing.application"\n',
        'site/routing.py': asgi,
      }),
    );
    assert.equal(named.wsgi, undefined);
    assert.equal(named.asgi, 'site.routing:application');
    assert.match(named.wsgiWhy, /ASGI_APPLICATION in the settings, and no WSGI application/);
    const saleor = await detectProject(
      await project({
        'manage.py': manage('shop.settings'),
        'shop/__init__.py': '',
        'shop/settings.py': 'ROOT_URLCONF = "shop.urls"\n',
        'shop/asgi/__init__.py': `${asgi}application = health_check(application, "/health/")\n`,
      }),
    );
    assert.equal(saleor.asgi, 'shop.asgi:application');
    assert.match(saleor.wsgiWhy, /shop\/asgi\/__init__\.py, and no WSGI application/);
  });

  it('neither WSGI nor ASGI: told to name its application', async () => {
    const root = await project({
      'manage.py': manage('site.settings'),
      'site/__init__.py': '',
      'site/settings.py': 'DEBUG = False\n',
    });
    await assert.rejects(detectProject(root), (err: Error) => {
      assert.ok(err instanceof MissingWsgi);
      assert.match(err.message, /no WSGI application: .* set django\.wsgi in touchdown\.yml/);
      return true;
    });
  });

  it('says when it found only development settings', async () => {
    const root = await project({
      'manage.py': manage('site.settings_dev'),
      'site/__init__.py': '',
      'site/settings_dev.py': 'WSGI_APPLICATION = "site.wsgi.application"\n',
      'site/wsgi.py': wsgi,
    });
    assert.match(
      (await detectProject(root)).settingsWhy.why,
      /looks like development settings .* set django\.settings/,
    );
  });
});

describe('declared dependencies', () => {
  it('follows -r and -c includes relative to the including file; constraints add no packages', async () => {
    const root = await project({
      'requirements.txt': '-r requirements/prod.txt\n',
      'requirements/prod.txt': '--requirement base.txt\n-c ../constraints.txt\ngunicorn  # web\n',
      'requirements/base.txt': 'Django[argon2]>=5.2\ncelery[sqs,redis]==5.5\n-r missing.txt\n',
      'constraints.txt': 'urllib3<3\n',
    });
    const d = await readDeclared(root);
    assert.deepEqual(d.files, [
      'requirements.txt',
      'requirements/prod.txt',
      'requirements/base.txt',
      'constraints.txt',
    ]);
    assert.deepEqual([...d.packages.keys()].sort(), ['celery', 'django', 'gunicorn']);
    assert.deepEqual([...d.packages.get('celery')!].sort(), ['redis', 'sqs']);
    assert.deepEqual(d.warnings, ['requirements/missing.txt is included but does not exist']);
  });

  it('Poetry, PDM and Pipfile projects, each with its lockfile', async () => {
    const poetry = await readDeclared(
      await project({
        'pyproject.toml':
          '[tool.poetry]\nname = "x"\n\n[tool.poetry.dependencies]\npython = "^3.11"\nDjango = "^5.2"\ndjango_storages = { version = "*", extras = ["s3"] }\n\n[tool.poetry.group.dev.dependencies]\npytest = "*"\n',
        'poetry.lock': '',
        'requirements.txt': 'ignored\n',
      }),
    );
    assert.equal(poetry.installer, 'poetry');
    assert.deepEqual(poetry.files, ['pyproject.toml', 'poetry.lock']);
    assert.deepEqual([...poetry.packages.keys()], ['django', 'django-storages']);

    const pdm = await readDeclared(
      await project({
        'pyproject.toml':
          '[project]\nname = "x"\ndependencies = [\n  "django>=5.2",  # web\n  \'celery[sqs]\',\n]\n[project.optional-dependencies]\ndev = ["pytest"]\n',
        'pdm.lock': '',
      }),
    );
    assert.equal(pdm.installer, 'pdm');
    assert.deepEqual(pdm.files, ['pyproject.toml', 'pdm.lock']);
    assert.deepEqual([...pdm.packages.keys()], ['django', 'celery']);

    const pipenv = await readDeclared(
      await project({
        Pipfile:
          '[packages]\ndjango = "*"\n"psycopg" = {extras = ["binary"]}\n\n[dev-packages]\npytest = "*"\n',
        'Pipfile.lock': '{}',
      }),
    );
    assert.equal(pipenv.installer, 'pipenv');
    assert.deepEqual(pipenv.files, ['Pipfile', 'Pipfile.lock']);
    assert.deepEqual([...pipenv.packages.keys()], ['django', 'psycopg']);
  });

  it('a pyproject that only configures tools leaves requirements.txt in charge', async () => {
    const d = await readDeclared(
      await project({ 'pyproject.toml': '[tool.ruff]\nline-length = 100\n', 'requirements.txt': 'django\n' }),
    );
    assert.equal(d.main, 'requirements.txt');
  });
});

describe('Python release', () => {
  it('reads ranges as pip does', () => {
    assert.deepEqual(allowedBy('>=3.11'), ['3.11', '3.12', '3.13', '3.14']);
    assert.deepEqual(allowedBy('>=3.10,<3.13'), ['3.10', '3.11', '3.12']);
    assert.deepEqual(allowedBy('~=3.11.2'), ['3.11']);
    assert.deepEqual(allowedBy('^3.12'), ['3.12', '3.13', '3.14']);
    assert.deepEqual(allowedBy('==3.13.*'), ['3.13']);
    assert.deepEqual(allowedBy('<3.10'), []);
  });

  it('3.14 from a Dockerfile is kept, never replaced', async () => {
    const root = await project({ Dockerfile: 'FROM python:3.14-slim-bookworm AS builder\n' });
    assert.deepEqual(await choosePython(root), { version: '3.14', why: 'Dockerfile says 3.14' });
  });

  it('one Touchdown cannot serve is refused with the file that asks for it', async () => {
    for (const [files, message] of [
      [{ 'runtime.txt': 'python-3.8.10\n' }, /runtime\.txt asks for Python 3\.8/],
      [
        { 'pyproject.toml': '[project]\nrequires-python = ">=3.15"\n' },
        /pyproject\.toml \(requires-python\) asks for Python >=3\.15/,
      ],
      [{ '.python-version': 'pypy3.10\n' }, /\.python-version asks for Python pypy3\.10/],
    ] as const) {
      await assert.rejects(choosePython(await project(files)), (err: Error) => {
        assert.ok(err instanceof UnsupportedPython);
        assert.match(err.message, message);
        return true;
      });
    }
  });
});

describe('Celery and the environment', () => {
  it('finds the Celery app wherever it is defined', async () => {
    const root = await project({
      'app/__init__.py': '',
      'app/tasks/__init__.py': '',
      'app/tasks/celery.py':
        'from celery import Celery\nworker = Celery("app")\nworker.config_from_object("django.conf:settings", namespace="CELERY")\n',
      'scripts/other.py': 'from celery import Celery\napp = Celery("tool")\n',
    });
    const found = await findCeleryApp(root, await pythonFiles(root));
    assert.deepEqual([found?.app, found?.file], ['app.tasks.celery:worker', 'app/tasks/celery.py']);
  });

  it('reads the names settings take from the environment, required or not', () => {
    const text = [
      'SECRET_KEY = os.environ["SECRET_KEY"]',
      'DEBUG = env.bool("DEBUG", default=False)',
      'DATABASES = {"default": env.db("DATABASE_URL")}',
      'HOST = os.getenv("DB_HOST", "localhost")',
      'KEY = config("STRIPE_KEY")',
      'os.environ["OMP_THREAD_LIMIT"] = "1"',
      'HEADER = os.environ["PROXY_HEADER"] if "PROXY_HEADER" in os.environ else None',
      'STORE = env(\n    "KVSTORE",\n    default="x",\n)',
      'STRIPE = os.environ.get("STRIPE_SECRET_KEY")',
    ].join('\n');
    const reads = environmentReads('/p', [{ file: '/p/s.py', text }]);
    assert.deepEqual(
      reads.map((r) => [r.name, r.required, r.role, r.where]),
      [
        ['SECRET_KEY', true, 'secret-key', 's.py:1'],
        ['DEBUG', false, 'debug', 's.py:2'],
        ['DATABASE_URL', true, 'database', 's.py:3'],
        ['DB_HOST', false, 'database', 's.py:4'],
        ['STRIPE_KEY', true, 'other', 's.py:5'],
        ['PROXY_HEADER', false, 'other', 's.py:7'],
        ['KVSTORE', false, 'other', 's.py:8'],
        ['STRIPE_SECRET_KEY', false, 'other', 's.py:12'],
      ],
    );
  });
});
