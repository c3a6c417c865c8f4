import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's root, whether the tests run from their sources (tsx) or compiled into .build/ (scripts/test.sh):
 * the nearest folder above that holds package.json.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
export const venvPython = join(repoRoot, '.venv', 'bin', 'python');
