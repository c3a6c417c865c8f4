// Django projects shaped like real ones, generated on the spot (CI reaches package registries only): each
// class of project that broke `touchdown init` (issue 10) has one. Shared by the init, image and `up` tests.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

const run = promisify(execFile);
const bin = (name: string) => join(repoRoot, '.venv', 'bin', name);

export interface Layout {
  /** Short name used in test titles. */
  name: string;
  /** The project's root: the folder holding manage.py. */
  root: string;
  /** What `touchdown init` should find in it. */
  expect: {
    settings: string;
    wsgi: string;
    python: string;
    /** Requirement files the image must copy (relative to root), lockfiles included. */
    declared: string[];
    celeryApp?: string;
    healthCheck: string;
    /** The name the project's settings read the secret key from. */
    secretKeyEnv: string;
  };
  /** A page that answers 200 once the app runs, and a text it contains. */
  page: { path: string; contains: string };
}

export type LayoutName =
  | 'wagtail'
  | 'settingsPackage'
  | 'uvPyproject'
  | 'celeryOutside'
  | 'apiOnly'
  | 'asgiOnly';

export const layoutNames: LayoutName[] = [
  'wagtail',
  'settingsPackage',
  'uvPyproject',
  'celeryOutside',
  'apiOnly',
];

/** Generates one layout in a fresh temporary folder (asgiOnly needs uvicorn-worker, which .venv lacks: not listed above). */
export function makeLayout(name: LayoutName): Promise<Layout> {
  return { wagtail, settingsPackage, uvPyproject, celeryOutside, apiOnly, asgiOnly }[name]();
}

async function write(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

async function startproject(name: string, folder = name): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `td-layout-${folder}-`));
  await mkdir(join(dir, folder));
  await run(bin('django-admin'), ['startproject', name, join(dir, folder)]);
  return join(dir, folder);
}

/** `wagtail start`: a settings package (base/dev/production), manage.py on dev, its own Dockerfile on 3.14. */
async function wagtail(): Promise<Layout> {
  const dir = await mkdtemp(join(tmpdir(), 'td-layout-wagtail-'));
  await run(bin('wagtail'), ['start', 'mysite'], { cwd: dir });
  return {
    name: 'wagtail start',
    root: join(dir, 'mysite'),
    expect: {
      settings: 'mysite.settings.production',
      wsgi: 'mysite.wsgi:application',
      python: '3.14',
      declared: ['requirements.txt'],
      healthCheck: '/',
      secretKeyEnv: 'DJANGO_SECRET_KEY',
    },
    page: { path: '/', contains: 'Welcome to your new Wagtail site' },
  };
}

/**
 * startproject turned into a settings package whose WSGI_APPLICATION lives in base.py, a dev module with an
 * app production does not install, and requirements split into a requirements/ folder with -r and -c.
 */
async function settingsPackage(): Promise<Layout> {
  const root = await startproject('shop');
  const base = (await readFile(join(root, 'shop', 'settings.py'), 'utf8'))
    .replace('Path(__file__).resolve().parent.parent', 'Path(__file__).resolve().parent.parent.parent')
    .replace(/^SECRET_KEY = .*$/m, '')
    .replace(/^DEBUG = .*$/m, '');
  await rm(join(root, 'shop', 'settings.py'));
  const urls = (await readFile(join(root, 'shop', 'urls.py'), 'utf8'))
    .replace('from django.urls import path', 'from django.urls import path\n\nfrom shop.views import home')
    .replace(/urlpatterns = \[/, 'urlpatterns = [\n    path("", home),');
  await write(root, {
    'shop/settings/__init__.py': '',
    'shop/settings/base.py': base,
    'shop/settings/dev.py':
      'from .base import *  # noqa: F403\n\nDEBUG = True\nSECRET_KEY = "dev-only"\nINSTALLED_APPS += ["debug_toolbar"]  # noqa: F405\n',
    'shop/settings/production.py':
      'import os\n\nfrom .base import *  # noqa: F403\n\nDEBUG = False\nSECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\n',
    'shop/views.py':
      'from django.http import HttpResponse\n\n\ndef home(request):\n    return HttpResponse("Welcome to the shop")\n',
    'shop/urls.py': urls,
    'requirements.txt': '-r requirements/production.txt\n',
    'requirements/base.txt': 'Django>=5.2,<6.0\npsycopg[binary]>=3.2\n',
    'requirements/production.txt': '-r base.txt\n-c constraints.txt\ngunicorn\n',
    'requirements/constraints.txt': 'gunicorn>=23\n',
    'requirements/dev.txt': '-r base.txt\ndjango-debug-toolbar\n',
    '.python-version': '3.12\n',
  });
  await rewriteManage(root, 'shop.settings', 'shop.settings.dev');
  return {
    name: 'settings package and requirements/ folder',
    root,
    expect: {
      settings: 'shop.settings.production',
      wsgi: 'shop.wsgi:application',
      python: '3.12',
      declared: [
        'requirements.txt',
        'requirements/production.txt',
        'requirements/base.txt',
        'requirements/constraints.txt',
      ],
      healthCheck: '/',
      secretKeyEnv: 'DJANGO_SECRET_KEY',
    },
    page: { path: '/', contains: 'Welcome to the shop' },
  };
}

/** PEP 621 pyproject locked by uv; settings require SECRET_KEY (no default) and read separate DB_* variables. */
async function uvPyproject(): Promise<Layout> {
  const root = await startproject('notes');
  const settings = (await readFile(join(root, 'notes', 'settings.py'), 'utf8'))
    .replace(/^SECRET_KEY = .*$/m, 'SECRET_KEY = os.environ["SECRET_KEY"]')
    .replace('from pathlib import Path', 'import os\nfrom pathlib import Path')
    .replace(
      /DATABASES = \{[\s\S]*?\n\}\n/,
      `DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DB_NAME", "notes"),
        "USER": os.environ.get("DB_USER", "postgres"),
        "PASSWORD": os.environ.get("DB_PASSWORD", ""),
        "HOST": os.environ.get("DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("DB_PORT", "5432"),
    }
}
`,
    );
  const urls = (await readFile(join(root, 'notes', 'urls.py'), 'utf8'))
    .replace(
      'from django.urls import path',
      'from django.http import HttpResponse\nfrom django.urls import path',
    )
    .replace(
      /urlpatterns = \[/,
      'urlpatterns = [\n    path("", lambda request: HttpResponse("Your notes")),',
    );
  await write(root, {
    'notes/settings.py': settings,
    'notes/urls.py': urls,
    'pyproject.toml': `[project]
name = "notes"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "django>=5.2,<6.0",
    "gunicorn>=23",
    "psycopg[binary]>=3.2",
]

[dependency-groups]
dev = ["pytest>=8"]

[tool.uv]
package = false
`,
  });
  await run(bin('uv'), ['lock', '--quiet'], {
    cwd: root,
    env: { ...process.env, UV_PYTHON: bin('python'), UV_PYTHON_DOWNLOADS: 'never' },
    timeout: 300_000,
  });
  return {
    name: 'pyproject locked by uv',
    root,
    expect: {
      settings: 'notes.settings',
      wsgi: 'notes.wsgi:application',
      python: '3.12',
      declared: ['pyproject.toml', 'uv.lock'],
      healthCheck: '/',
      secretKeyEnv: 'SECRET_KEY',
    },
    page: { path: '/', contains: 'Your notes' },
  };
}

/** Laid out like cookiecutter-django: config/ settings package, config/celery_app.py, django-environ, Procfile. */
async function celeryOutside(): Promise<Layout> {
  const root = await startproject('config', 'orders');
  const base = (await readFile(join(root, 'config', 'settings.py'), 'utf8'))
    .replace('Path(__file__).resolve().parent.parent', 'Path(__file__).resolve().parent.parent.parent')
    .replace('from pathlib import Path', 'from pathlib import Path\n\nimport environ\n\nenv = environ.Env()')
    .replace(/^SECRET_KEY = .*$/m, 'SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-key")')
    .replace(/^DEBUG = .*$/m, 'DEBUG = env.bool("DJANGO_DEBUG", False)')
    .replace(/DATABASES = \{[\s\S]*?\n\}\n/, 'DATABASES = {"default": env.db("DATABASE_URL")}\n')
    .replace("'django.contrib.staticfiles',", "'django.contrib.staticfiles',\n    'orders.shipping',");
  await rm(join(root, 'config', 'settings.py'));
  const urls = (await readFile(join(root, 'config', 'urls.py'), 'utf8'))
    .replace(
      'from django.urls import path',
      'from django.urls import path\n\nfrom orders.shipping.views import home',
    )
    .replace(/urlpatterns = \[/, 'urlpatterns = [\n    path("", home),');
  await write(root, {
    'config/__init__.py': 'from .celery_app import app as celery_app\n\n__all__ = ("celery_app",)\n',
    'config/celery_app.py': `import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("orders")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
`,
    'config/urls.py': urls,
    'config/settings/__init__.py': '',
    'config/settings/base.py': `${base}\nCELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")\n`,
    'config/settings/local.py': 'from .base import *  # noqa: F403\n\nDEBUG = True\n',
    'config/settings/production.py':
      'from .base import *  # noqa: F403\n\nALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])  # noqa: F405\n',
    'orders/__init__.py': '',
    'orders/shipping/__init__.py': '',
    'orders/shipping/apps.py':
      'from django.apps import AppConfig\n\n\nclass ShippingConfig(AppConfig):\n    name = "orders.shipping"\n',
    'orders/shipping/tasks.py':
      'from celery import shared_task\n\n\n@shared_task\ndef ship(order_id):\n    return f"shipped {order_id}"\n',
    'orders/shipping/views.py':
      'from django.http import HttpResponse\n\n\ndef home(request):\n    return HttpResponse("Orders ship from here")\n',
    'requirements/base.txt':
      'Django>=5.2,<6.0\ndjango-environ>=0.12\ncelery[redis]>=5.4\npsycopg[binary]>=3.2\n',
    'requirements/local.txt': '-r base.txt\n',
    'requirements/production.txt': '-r base.txt\ngunicorn>=23\n',
    Procfile:
      'web: gunicorn config.wsgi --log-file -\nworker: celery -A config.celery_app worker --loglevel=info\n',
  });
  await rewriteManage(root, 'config.settings', 'config.settings.local');
  return {
    name: 'Celery app outside the settings package',
    root,
    expect: {
      settings: 'config.settings.production',
      wsgi: 'config.wsgi:application',
      python: '3.12',
      declared: ['requirements/production.txt', 'requirements/base.txt'],
      celeryApp: 'config.celery_app',
      healthCheck: '/',
      secretKeyEnv: 'DJANGO_SECRET_KEY',
    },
    page: { path: '/', contains: 'Orders ship from here' },
  };
}

/** An API built with Django REST framework: `/` answers 404, the health path is under /api/. */
async function apiOnly(): Promise<Layout> {
  const root = await startproject('api');
  const settings = (await readFile(join(root, 'api', 'settings.py'), 'utf8')).replace(
    "'django.contrib.staticfiles',",
    "'django.contrib.staticfiles',\n    'rest_framework',",
  );
  await write(root, {
    'api/settings.py': settings,
    'api/views.py': `from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["GET"])
def health(request):
    return Response({"status": "ok"})


@api_view(["GET"])
def items(request):
    return Response({"items": []})
`,
    'api/urls.py': `from django.contrib import admin
from django.urls import path

from api.views import health, items

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/items/", items),
    path("api/health/", health),
]
`,
    'requirements.txt': 'Django>=5.2,<6.0\ndjangorestframework>=3.15\ngunicorn>=23\npsycopg[binary]>=3.2\n',
    'runtime.txt': 'python-3.13.1\n',
  });
  return {
    name: 'API only, no page at /',
    root,
    expect: {
      settings: 'api.settings',
      wsgi: 'api.wsgi:application',
      python: '3.13',
      declared: ['requirements.txt'],
      healthCheck: '/api/health/',
      secretKeyEnv: 'DJANGO_SECRET_KEY',
    },
    page: { path: '/api/items/', contains: '"items"' },
  };
}

/** No WSGI application at all, as saleor: ASGI_APPLICATION, an asgi.py, uvicorn in the requirements. */
async function asgiOnly(): Promise<Layout> {
  const root = await startproject('chat');
  await rm(join(root, 'chat', 'wsgi.py'));
  const settings = (await readFile(join(root, 'chat', 'settings.py'), 'utf8')).replace(
    /^WSGI_APPLICATION = .*$/m,
    "ASGI_APPLICATION = 'chat.asgi.application'",
  );
  const urls = (await readFile(join(root, 'chat', 'urls.py'), 'utf8'))
    .replace('from django.urls import path', 'from django.urls import path\n\nfrom chat.views import home')
    .replace(/urlpatterns = \[/, 'urlpatterns = [\n    path("", home),');
  await write(root, {
    'chat/settings.py': settings,
    'chat/urls.py': urls,
    // Django builds an ASGIRequest only when an ASGI server calls it.
    'chat/views.py':
      'from django.http import HttpResponse\n\n\nasync def home(request):\n    return HttpResponse(f"Chat served by {type(request).__name__}")\n',
    'requirements.txt': 'Django>=5.2,<6.0\nuvicorn>=0.30\npsycopg[binary]>=3.2\n',
  });
  return {
    name: 'ASGI only, no WSGI application',
    root,
    expect: {
      settings: 'chat.settings',
      wsgi: '',
      python: '3.12',
      declared: ['requirements.txt'],
      healthCheck: '/',
      secretKeyEnv: 'DJANGO_SECRET_KEY',
    },
    page: { path: '/', contains: 'Chat served by ASGIRequest' },
  };
}

async function rewriteManage(root: string, from: string, to: string): Promise<void> {
  const path = join(root, 'manage.py');
  const text = await readFile(path, 'utf8');
  await writeFile(path, text.replace(`'${from}'`, `'${to}'`).replace(`"${from}"`, `"${to}"`));
}
