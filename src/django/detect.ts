// What `touchdown init` learns from a Django project by reading its files (it runs none of them).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface DjangoProject {
  /** Directory holding manage.py. */
  root: string;
  /** Directory of the settings module's package. */
  packageDir: string;
  settingsModule: string;
  wsgi: string;
  python: string;
  /** Where the dependencies are declared, relative to root. */
  requirementsFile: string | undefined;
  dependencies: Set<string>;
  uses: {
    postgres: boolean;
    storages: boolean;
    celery: boolean;
    redis: boolean;
    memcached: boolean;
    gunicorn: boolean;
    ses: boolean;
    pillow: boolean;
  };
  /** The Celery app module (`-A` argument), when there is one. */
  celeryApp: string | undefined;
  hasDockerfile: boolean;
}

export class NotADjangoProject extends Error {
  override readonly name = 'NotADjangoProject';
}

const SKIP = new Set(['node_modules', '.venv', 'venv', '.git', '__pycache__', 'static', 'media', '.tox']);

export async function detectProject(dir: string): Promise<DjangoProject> {
  const manage = await findManagePy(dir);
  if (!manage) {
    throw new NotADjangoProject(
      `no manage.py in ${dir} or the folders below it: run touchdown init in your Django project (django-admin startproject makes one)`,
    );
  }
  const root = join(manage, '..');
  const manageText = await readFile(manage, 'utf8');
  const settingsModule = /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']/.exec(manageText)?.[1];
  if (!settingsModule) {
    throw new NotADjangoProject(`${manage} does not set DJANGO_SETTINGS_MODULE: is it a Django manage.py?`);
  }
  const pkg = settingsModule.split('.').slice(0, -1).join('/');
  const packageDir = join(root, pkg);
  const settingsPath = join(root, `${settingsModule.replaceAll('.', '/')}.py`);
  const settingsText = await readIfExists(settingsPath);
  if (
    settingsText === undefined &&
    !(await exists(join(root, settingsModule.replaceAll('.', '/'), '__init__.py')))
  ) {
    throw new NotADjangoProject(
      `manage.py names ${settingsModule}, but ${relative(dir, settingsPath)} does not exist`,
    );
  }
  const wsgiSetting = /WSGI_APPLICATION\s*=\s*["']([\w.]+)["']/.exec(settingsText ?? '')?.[1];
  const wsgi = wsgiSetting
    ? wsgiSetting.replace(/\.(\w+)$/, ':$1')
    : `${settingsModule.split('.').slice(0, -1).join('.')}.wsgi:application`;

  const { file: requirementsFile, dependencies } = await readDependencies(root);
  const has = (...names: string[]) => names.some((n) => dependencies.has(n));
  const celeryModule = (await exists(join(packageDir, 'celery.py')))
    ? settingsModule.split('.')[0]
    : undefined;
  return {
    root,
    packageDir,
    settingsModule,
    wsgi,
    python: await pythonVersion(root),
    requirementsFile,
    dependencies,
    uses: {
      postgres:
        has('psycopg', 'psycopg2', 'psycopg2-binary', 'psycopg-binary') ||
        /postgresql/.test(settingsText ?? ''),
      storages: has('django-storages'),
      celery: has('celery') || celeryModule !== undefined,
      redis: has('redis', 'django-redis', 'hiredis'),
      memcached: has('pymemcache', 'pylibmc', 'python-memcached'),
      gunicorn: has('gunicorn'),
      ses: has('django-ses'),
      pillow: has('pillow'),
    },
    celeryApp: celeryModule,
    hasDockerfile: await exists(join(root, 'Dockerfile')),
  };
}

async function findManagePy(dir: string, depth = 2): Promise<string | undefined> {
  if (await exists(join(dir, 'manage.py'))) return join(dir, 'manage.py');
  if (depth === 0) return undefined;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory() || SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const found = await findManagePy(join(dir, e.name), depth - 1);
    if (found) return found;
  }
  return undefined;
}

/** Package names (lower-case, extras and versions dropped) from requirements.txt, pyproject.toml or Pipfile. */
async function readDependencies(
  root: string,
): Promise<{ file: string | undefined; dependencies: Set<string> }> {
  const name = (spec: string) =>
    spec
      .trim()
      .replace(/^["']|["'],?$/g, '')
      .split(/[\s<>=!~;[@]/)[0]!
      .toLowerCase()
      .replaceAll('_', '-');
  const requirements = await readIfExists(join(root, 'requirements.txt'));
  if (requirements !== undefined) {
    const deps = requirements
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter((l) => l && !l.startsWith('-'))
      .map(name);
    return { file: 'requirements.txt', dependencies: new Set(deps) };
  }
  const pyproject = await readIfExists(join(root, 'pyproject.toml'));
  if (pyproject !== undefined) {
    // Enough of TOML for dependency lists: PEP 621 arrays and Poetry tables.
    const pep621 = /dependencies\s*=\s*\[([\s\S]*?)\]/.exec(pyproject)?.[1] ?? '';
    const poetry = /\[tool\.poetry\.dependencies\]([\s\S]*?)(\n\[|$)/.exec(pyproject)?.[1] ?? '';
    const deps = [
      ...pep621.split(',').map(name),
      ...poetry.split('\n').map((l) => name(l.split('=')[0] ?? '')),
    ].filter((d) => d && d !== 'python');
    return { file: 'pyproject.toml', dependencies: new Set(deps) };
  }
  const pipfile = await readIfExists(join(root, 'Pipfile'));
  if (pipfile !== undefined) {
    const packages = /\[packages\]([\s\S]*?)(\n\[|$)/.exec(pipfile)?.[1] ?? '';
    const deps = packages
      .split('\n')
      .map((l) => name(l.split('=')[0] ?? ''))
      .filter(Boolean);
    return { file: 'Pipfile', dependencies: new Set(deps) };
  }
  return { file: undefined, dependencies: new Set() };
}

async function pythonVersion(root: string): Promise<string> {
  const pinned = (await readIfExists(join(root, '.python-version')))?.trim();
  const fromPin = /^(3\.\d+)/.exec(pinned ?? '')?.[1];
  if (fromPin) return fromPin;
  const runtime = /python-(3\.\d+)/.exec((await readIfExists(join(root, 'runtime.txt'))) ?? '')?.[1];
  if (runtime) return runtime;
  const requires = /requires-python\s*=\s*["'][^"']*?(3\.\d+)/.exec(
    (await readIfExists(join(root, 'pyproject.toml'))) ?? '',
  )?.[1];
  return requires ?? '3.12';
}

async function readIfExists(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
