// What `touchdown init` learns from a Django project by reading its files (it runs none of them).
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type CeleryApp, findCeleryApp } from './detect/celery.js';
import { type EnvironmentRead, environmentReads } from './detect/environment.js';
import { exists, moduleFile, pythonFiles, readIfExists, SKIP } from './detect/files.js';
import { findHealthPath, type HealthPath } from './detect/health.js';
import { choosePython, type PythonChoice } from './detect/python.js';
import { type Declared, declares, readDeclared } from './detect/requirements.js';
import {
  chooseSettings,
  findWsgi,
  lastAssignment,
  lastExpression,
  type SettingsChoice,
  settingsChain,
} from './detect/settings.js';

export { UnsupportedPython } from './detect/python.js';
export { MissingWsgi } from './detect/settings.js';

export interface DjangoProject {
  /** Directory holding manage.py. */
  root: string;
  /**
   * Where touchdown.yml and the Dockerfile go: root, or the folder init runs in when manage.py is below it
   * and the dependencies are declared there (netbox/manage.py beside a top-level requirements.txt).
   */
  home: string;
  /** Directory of the settings module's package. */
  packageDir: string;
  settingsModule: string;
  /** Why that settings module: the file that names it, or the rule that chose it. */
  settingsWhy: SettingsChoice;
  /** The settings module's own file, relative to root (`mysite/settings/production.py`). */
  settingsFile: string;
  /** The WSGI application; for an ASGI-only project, asgi instead. */
  wsgi?: string;
  asgi?: string;
  wsgiWhy: string;
  python: string;
  pythonWhy: string;
  /** Where the dependencies are declared, relative to root (the file the install starts from). */
  requirementsFile: string | undefined;
  /** Everything the project declares, with every file an install reads. */
  declared: Declared;
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
  celery: CeleryApp | undefined;
  /** Names the settings read from the environment. */
  environment: EnvironmentRead[];
  health: HealthPath;
  hasDockerfile: boolean;
  /**
   * django-compressor's COMPRESS_OFFLINE as the settings write it (`True`, `not DEBUG`), when the project
   * declares django-compressor: `{% compress %}` then reads a manifest that `manage.py compress` must build.
   */
  compressOffline: string | undefined;
}

export class NotADjangoProject extends Error {
  override readonly name = 'NotADjangoProject';
}

export async function detectProject(dir: string): Promise<DjangoProject> {
  const manage = await findManagePy(dir);
  if (!manage) {
    throw new NotADjangoProject(
      `no manage.py in ${dir} or the folders below it: run touchdown init in your Django project (django-admin startproject makes one)`,
    );
  }
  const root = join(manage, '..');
  const manageText = await readFile(manage, 'utf8');
  const manageDefault = /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']/.exec(manageText)?.[1];
  if (!manageDefault) {
    throw new NotADjangoProject(`${manage} does not set DJANGO_SETTINGS_MODULE: is it a Django manage.py?`);
  }
  if (!(await moduleFile(root, manageDefault))) {
    throw new NotADjangoProject(
      `manage.py names ${manageDefault}, but neither ${relative(dir, join(root, ...manageDefault.split('.')))}.py nor its package exists`,
    );
  }
  const choice = await chooseSettings(root, manageDefault, dir);
  const settingsModule = choice.module;
  const settingsPath = (await moduleFile(root, settingsModule))!;
  const chain = await settingsChain(root, settingsModule);
  const { why: wsgiWhy, ...app } = await findWsgi(root, chain, settingsModule);
  let declared = await readDeclared(root);
  let home = root;
  if (!declared.main && dir !== root) {
    const above = await readDeclared(dir);
    if (above.main) [declared, home] = [above, dir];
  }
  let python: PythonChoice = await choosePython(root);
  if (home !== root && python.why.startsWith('no file')) python = await choosePython(home);
  const has = (...names: string[]) => names.some((n) => declared.packages.has(n));
  const code = await pythonFiles(root);
  const celery = await findCeleryApp(root, code);
  const settingsFiles = [...new Set(chain.map((c) => c.file))];
  const fullTexts = await Promise.all(
    settingsFiles.map(async (file) => ({ file, text: (await readIfExists(file)) ?? '' })),
  );
  const settingsText = fullTexts.map((f) => f.text).join('\n');
  const urlconf = lastAssignment(chain, 'ROOT_URLCONF');
  return {
    root,
    home,
    packageDir: join(settingsPath, '..'),
    settingsModule,
    settingsWhy: choice,
    settingsFile: relative(root, settingsPath),
    ...app,
    wsgiWhy,
    python: python.version,
    pythonWhy: python.why,
    requirementsFile: declared.main,
    declared,
    dependencies: new Set(declared.packages.keys()),
    uses: {
      postgres:
        has('psycopg', 'psycopg2', 'psycopg2-binary', 'psycopg-binary') || /postgresql/.test(settingsText),
      storages: has('django-storages'),
      celery: has('celery') || celery !== undefined,
      redis: has('redis', 'django-redis', 'hiredis') || declares(declared, 'celery', 'redis'),
      memcached: has('pymemcache', 'pylibmc', 'python-memcached'),
      gunicorn: has('gunicorn'),
      ses: has('django-ses'),
      pillow: has('pillow'),
    },
    celeryApp: celery?.app,
    celery,
    environment: environmentReads(root, fullTexts),
    health: await findHealthPath(root, urlconf),
    hasDockerfile: await exists(join(home, 'Dockerfile')),
    compressOffline: has('django-compressor') ? lastExpression(chain, 'COMPRESS_OFFLINE') : undefined,
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
