// The project's Celery app, wherever it is defined (`Celery(` in its own code), as the `-A` argument.
import { basename, dirname, relative } from 'node:path';
import { moduleOf, readIfExists } from './files.js';

export interface CeleryApp {
  /** The `celery -A` argument: `blog`, `config.celery_app`, `app.tasks.celery:worker`. */
  app: string;
  /** Where it is defined, relative to the project root. */
  file: string;
}

/** Finds `name = Celery(...)` in the given files; the one configured from Django settings wins. */
export async function findCeleryApp(root: string, files: string[]): Promise<CeleryApp | undefined> {
  const found: (CeleryApp & { django: boolean })[] = [];
  for (const file of files) {
    const text = await readIfExists(file);
    if (!text?.includes('Celery(')) continue;
    const m = /^(\w+)\s*=\s*Celery\(/m.exec(text);
    if (!m) continue;
    const module = moduleOf(root, file);
    // `-A pkg` finds pkg.celery's app by itself, as the Celery docs' Django layout (pkg/celery.py) expects.
    const target = basename(file) === 'celery.py' ? moduleOf(root, dirname(file) + '/__init__.py') : module;
    const attribute = ['app', 'celery'].includes(m[1]!) ? '' : `:${m[1]}`;
    found.push({
      app: basename(file) === 'celery.py' && attribute === '' ? target : `${module}${attribute}`,
      file: relative(root, file),
      django: /config_from_object\(\s*["']django\.conf:settings/.test(text),
    });
  }
  return found.find((f) => f.django) ?? found[0];
}
