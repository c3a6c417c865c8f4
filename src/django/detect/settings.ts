// Which settings module production runs, and what it sets once its star imports are followed.
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { exists, moduleFile, readIfExists } from './files.js';

/** The project's files are readable but do not say something Touchdown needs (no WSGI application). */
export class MissingWsgi extends Error {
  override readonly name = 'MissingWsgi';
}

export interface SettingsChoice {
  module: string;
  /** Why this one, in words: "production.py beside manage.py's default (mysite.settings.dev)". */
  why: string;
  /** manage.py's default, when another module was chosen. */
  manageDefault: string;
}

const PRODUCTION_NAMES = ['production', 'prod', 'live', 'deploy', 'deployment', 'release'];
const DEVELOPMENT_NAME = /(^|[._])(dev|develop|development|local|test|tests|testing|ci)$/;
const SETTINGS_VARIABLE =
  /DJANGO_SETTINGS_MODULE["']?\s*(?:=|:|,|\s)\s*["']?([A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+)/g;

/** Places a deployment names its settings module, strongest first. */
async function deploymentMentions(root: string): Promise<{ module: string; file: string }[]> {
  const files = ['Dockerfile', 'Procfile', 'app.json', 'render.yaml', 'fly.toml', 'Dockerfile.prod'];
  const envFiles = ['.env.production', '.env.prod', '.env.live', '.envs/.production/.django'];
  const found: { module: string; file: string }[] = [];
  for (const file of [...files, ...envFiles, ...(await dockerfilesIn(root))]) {
    const text = await readIfExists(join(root, file));
    if (text === undefined) continue;
    for (const m of text.matchAll(SETTINGS_VARIABLE)) found.push({ module: m[1]!, file });
    for (const m of text.matchAll(/--settings[= ]([A-Za-z_][\w.]*)/g)) found.push({ module: m[1]!, file });
  }
  return found;
}

async function dockerfilesIn(root: string): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const docker = await readdir(join(root, 'docker')).catch(() => [] as string[]);
  return [
    ...names.filter((n) => /^Dockerfile\.|\.Dockerfile$/.test(n)),
    ...docker.filter((n) => /Dockerfile/.test(n)).map((n) => `docker/${n}`),
  ];
}

/**
 * Chooses the settings module production uses: one a deployment file names (Dockerfile, Procfile, a
 * production .env), a module named production/prod/live beside manage.py's default, the module wsgi.py or
 * asgi.py sets when it differs from manage.py's, and last manage.py's own default.
 */
export async function chooseSettings(
  root: string,
  manageDefault: string,
  repo = root,
): Promise<SettingsChoice> {
  const choose = (module: string, why: string): SettingsChoice => ({ module, why, manageDefault });
  const mentions = [
    ...(await deploymentMentions(root)),
    ...(repo === root
      ? []
      : (await deploymentMentions(repo)).map((m) => ({ ...m, file: relative(root, join(repo, m.file)) }))),
  ];
  for (const { module, file } of mentions) {
    if (!DEVELOPMENT_NAME.test(module) && (await moduleFile(root, module)))
      return choose(module, `${file} sets DJANGO_SETTINGS_MODULE=${module}`);
  }
  for (const pkg of settingsPackages(manageDefault)) {
    for (const name of PRODUCTION_NAMES) {
      const module = `${pkg}.${name}`;
      if (await moduleFile(root, module))
        return choose(
          module,
          `${relative(root, (await moduleFile(root, module))!)} is the production module; manage.py defaults to ${manageDefault}`,
        );
    }
  }
  const pkg = manageDefault.split('.')[0]!;
  for (const file of ['wsgi.py', 'asgi.py']) {
    const text = await readIfExists(join(root, pkg, file));
    const named = text && /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']/.exec(text)?.[1];
    if (named && named !== manageDefault && !DEVELOPMENT_NAME.test(named) && (await moduleFile(root, named)))
      return choose(named, `${pkg}/${file} sets ${named}, the module the server runs`);
  }
  const dotenv = await readIfExists(join(root, '.env'));
  for (const m of dotenv?.matchAll(SETTINGS_VARIABLE) ?? []) {
    if (!DEVELOPMENT_NAME.test(m[1]!) && (await moduleFile(root, m[1]!)))
      return choose(m[1]!, `.env sets DJANGO_SETTINGS_MODULE=${m[1]}`);
  }
  const development = DEVELOPMENT_NAME.test(manageDefault);
  return choose(
    manageDefault,
    development
      ? `manage.py's default; it looks like development settings and no production module was found: set django.settings in touchdown.yml`
      : "manage.py's default, and no production module beside it",
  );
}

/** Packages that may hold production settings: `a.settings.dev` → a.settings; `a.settings` → a.settings too when it is a package. */
function settingsPackages(manageDefault: string): string[] {
  const parts = manageDefault.split('.');
  const parent = parts.slice(0, -1).join('.');
  const packages = parent ? [parent] : [];
  if (parts.at(-1) === 'settings') packages.unshift(manageDefault);
  return packages;
}

/**
 * The files a settings module executes, in order, following star imports (`from .base import *`) into
 * the project's own modules: a value set last wins.
 */
export async function settingsChain(root: string, module: string): Promise<{ file: string; text: string }[]> {
  const chain: { file: string; text: string }[] = [];
  const seen = new Set<string>();
  const visit = async (mod: string): Promise<void> => {
    const file = await moduleFile(root, mod);
    if (!file || seen.has(file)) return;
    seen.add(file);
    const text = (await readIfExists(file)) ?? '';
    const pkg = file.endsWith('__init__.py') ? mod : mod.split('.').slice(0, -1).join('.');
    // Star imports run where they stand; record the text before each so later assignments win.
    let last = 0;
    for (const m of text.matchAll(/^\s*from\s+(\.*)([\w.]*)\s+import\s+\*/gm)) {
      chain.push({ file, text: text.slice(last, m.index) });
      last = m.index + m[0].length;
      const dots = m[1]!.length;
      const target = dots
        ? [...pkg.split('.').slice(0, pkg.split('.').length - (dots - 1)), m[2]].filter(Boolean).join('.')
        : m[2]!;
      await visit(target);
    }
    chain.push({ file, text: text.slice(last) });
  };
  await visit(module);
  return chain;
}

/** The last value a plain `NAME = "value"` assignment gives in the chain. */
export function lastAssignment(chain: { text: string }[], name: string): string | undefined {
  let value: string | undefined;
  const pattern = new RegExp(`^${name}\\s*=\\s*["']([^"']+)["']`, 'gm');
  for (const part of chain) for (const m of part.text.matchAll(pattern)) value = m[1];
  return value;
}

/** The right-hand side of the last plain `NAME = ...` assignment in the chain, as written on its line. */
export function lastExpression(chain: { text: string }[], name: string): string | undefined {
  let value: string | undefined;
  const pattern = new RegExp(`^${name}\\s*=\\s*([^#\\n]*?)\\s*(#.*)?$`, 'gm');
  for (const part of chain) for (const m of part.text.matchAll(pattern)) value = m[1];
  return value || undefined;
}

/**
 * WSGI_APPLICATION as `module:attribute`, checked to exist; else the project's wsgi.py; else, for an ASGI-only
 * project (saleor), ASGI_APPLICATION or its asgi module.
 */
export async function findWsgi(
  root: string,
  chain: { text: string }[],
  settingsModule: string,
): Promise<{ wsgi: string; why: string } | { asgi: string; why: string }> {
  const setting = lastAssignment(chain, 'WSGI_APPLICATION');
  if (setting) {
    const module = setting.replace(/\.\w+$/, '');
    if (await moduleFile(root, module))
      return { wsgi: setting.replace(/\.(\w+)$/, ':$1'), why: `WSGI_APPLICATION in the settings` };
  }
  // Walk up from the settings package: mysite/settings/production.py → mysite/settings/wsgi.py, mysite/wsgi.py.
  let pkg = settingsModule.split('.').slice(0, -1);
  while (pkg.length > 0) {
    const module = `${pkg.join('.')}.wsgi`;
    const file = await moduleFile(root, module);
    if (file && /get_wsgi_application/.test((await readIfExists(file)) ?? ''))
      return {
        wsgi: `${module}:application`,
        why: setting
          ? `WSGI_APPLICATION names ${setting}, which does not exist; ${relative(root, file)} does`
          : relative(root, file),
      };
    pkg = pkg.slice(0, -1);
  }
  if (await exists(join(root, 'wsgi.py')))
    return { wsgi: 'wsgi:application', why: 'wsgi.py beside manage.py' };
  const asgi = await findAsgi(root, chain, settingsModule);
  if (asgi) return asgi;
  throw new MissingWsgi(
    `no WSGI application: ${setting ? `WSGI_APPLICATION names ${setting}, which does not exist, and` : 'the settings set no WSGI_APPLICATION and'} no wsgi.py calls get_wsgi_application() (nor an asgi.py defines application); set django.wsgi in touchdown.yml (e.g. mysite.wsgi:application), or django.asgi`,
  );
}

/** ASGI_APPLICATION when its module exists, else an asgi module (file or package) that defines `application`. */
async function findAsgi(
  root: string,
  chain: { text: string }[],
  settingsModule: string,
): Promise<{ asgi: string; why: string } | undefined> {
  const setting = lastAssignment(chain, 'ASGI_APPLICATION');
  if (setting && (await moduleFile(root, setting.replace(/\.\w+$/, ''))))
    return {
      asgi: setting.replace(/\.(\w+)$/, ':$1'),
      why: 'ASGI_APPLICATION in the settings, and no WSGI application',
    };
  let pkg = settingsModule.split('.').slice(0, -1);
  while (pkg.length > 0) {
    const module = `${pkg.join('.')}.asgi`;
    const file = await moduleFile(root, module);
    if (file && /^application\s*=/m.test((await readIfExists(file)) ?? ''))
      return { asgi: `${module}:application`, why: `${relative(root, file)}, and no WSGI application` };
    pkg = pkg.slice(0, -1);
  }
  return undefined;
}
