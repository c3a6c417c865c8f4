// Reading a project's files without running any of them.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** Folders that hold no code of the project's own (installed packages, caches, collected files). */
export const SKIP = new Set([
  'node_modules',
  '.venv',
  'venv',
  'env',
  '.git',
  '__pycache__',
  'static',
  'staticfiles',
  'media',
  '.tox',
  '.nox',
  'site-packages',
  'build',
  'dist',
]);

export async function readIfExists(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The file of a dotted module under root: `a/b.py` or the package `a/b/__init__.py`. */
export async function moduleFile(root: string, module: string): Promise<string | undefined> {
  const base = join(root, ...module.split('.'));
  if (await exists(`${base}.py`)) return `${base}.py`;
  if (await exists(join(base, '__init__.py'))) return join(base, '__init__.py');
  return undefined;
}

/** The dotted module of a .py file under root (`config/celery_app.py` → `config.celery_app`). */
export function moduleOf(root: string, file: string): string {
  return relative(root, file)
    .replace(/\.py$/, '')
    .replace(/[\\/]__init__$/, '')
    .split(sep)
    .join('.');
}

/**
 * The project's own .py files (tests and migrations left out), at most `limit` of them, in a stable order;
 * a large project (netbox has ~2000) is read in well under a second.
 */
export async function pythonFiles(root: string, limit = 5000): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 8 || found.length >= limit) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (found.length >= limit) return;
      if (e.isDirectory()) {
        if (SKIP.has(e.name) || e.name.startsWith('.') || e.name === 'migrations' || e.name === 'tests')
          continue;
        await walk(join(dir, e.name), depth + 1);
      } else if (e.name.endsWith('.py') && !/^test_|_tests?\.py$|^conftest\.py$/.test(e.name)) {
        found.push(join(dir, e.name));
      }
    }
  };
  await walk(root, 0);
  return found;
}

/** Line number (1-based) of a character offset. */
export function lineAt(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}
