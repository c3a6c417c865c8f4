// Finds and loads the user's configuration, before anything talks to AWS.
import { access, stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { isStackDefinition, type StackDefinition } from './define.js';

export const CONFIG_FILES = [
  'touchdown.config.ts',
  'touchdown.config.mts',
  'touchdown.config.js',
  'touchdown.config.mjs',
  'touchdown.yml',
  'touchdown.yaml',
];

/** A Django app's manifest, rather than a stack written in TypeScript. */
export const isManifest = (path: string) => /\.ya?ml$/.test(path);

export async function findConfig(explicit: string | undefined, cwd = process.cwd()): Promise<string> {
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!(await exists(path))) {
      throw new ConfigError(
        `--config ${explicit}: no such file; give the path of your touchdown.yml or touchdown.config.ts`,
      );
    }
    if ((await stat(path)).isDirectory()) {
      const inside = await findConfig(undefined, path).catch(() => undefined);
      throw new ConfigError(
        `--config ${explicit} is a directory; pass the file itself${inside ? `, e.g. --config ${relative(cwd, inside)}` : ' (touchdown.yml or touchdown.config.ts)'}`,
      );
    }
    if (!/\.(ya?ml|[cm]?[jt]s)$/.test(path)) {
      throw new ConfigError(
        `--config ${explicit}: Touchdown reads a touchdown.yml (YAML) or a touchdown.config.ts; give one of those`,
      );
    }
    return path;
  }
  for (const name of CONFIG_FILES) {
    const path = resolve(cwd, name);
    if (!(await exists(path))) continue;
    if ((await stat(path)).isDirectory()) {
      throw new ConfigError(
        `${path} is a directory, not a file: Touchdown reads ${name} as a file; rename the directory`,
      );
    }
    return path;
  }
  throw new ConfigError(
    `no touchdown.yml or touchdown.config.ts in ${cwd}: run touchdown in your project's directory (touchdown init writes a touchdown.yml), or pass --config PATH`,
  );
}

/** Imports a TypeScript or JavaScript config; `import ... from 'touchdown'` resolves to this very package. */
export async function loadDefinition(path: string): Promise<StackDefinition> {
  const { createJiti } = await import('jiti');
  const self = fileURLToPath(
    new URL(`../index.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
  );
  const jiti = createJiti(import.meta.url, {
    alias: { touchdown: self },
    interopDefault: true,
    moduleCache: false,
  });
  let loaded: unknown;
  try {
    loaded = await jiti.import(path, { default: true });
  } catch (err) {
    throw new ConfigError(`loading ${path}: ${(err as Error).message}`);
  }
  if (!isStackDefinition(loaded)) {
    throw new ConfigError(
      `${path} must export default defineStack('name', (aws) => { ... }) (imported from 'touchdown')`,
    );
  }
  return loaded;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
