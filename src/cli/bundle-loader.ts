// Runs the touchdown command's bundle (scripts/bundle.mjs: CommonJS chunks in dist/, listed with their content
// hashes in dist/cli-chunks.json) through vm.Script, with V8's code cache for each chunk kept in the user's cache
// folder: Node 20 keeps no compiled code between runs (module.enableCompileCache is 22.1+), and compiling the
// chunks a command loads took a fifth of its start. @smithy/core, left in node_modules, loads the same way. A cache
// that is missing, stale or unwritable costs a compile.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/** The chunk's code runs as a CommonJS module's body; the URL stands for import.meta.url (a file in dist/). */
const WRAPPER = '(function (exports, require, module, __touchdownUrl) {';

/** Each build's chunks have caches of their own: the newest this many are kept (a build has about a hundred). */
const KEPT = 300;

export interface BundleOptions {
  /** Where the bundle is (dist/). */
  dist: string;
  /** Where compiled code is kept; undefined: none kept. */
  cacheDir?: string | undefined;
}

/** The per-user cache folder (XDG on Linux, Library/Caches on macOS, LOCALAPPDATA on Windows), unless turned off. */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TOUCHDOWN_CODE_CACHE === '0') return undefined;
  if (env.TOUCHDOWN_CODE_CACHE) return env.TOUCHDOWN_CODE_CACHE;
  const base =
    process.platform === 'win32'
      ? env.LOCALAPPDATA
      : process.platform === 'darwin'
        ? join(homedir(), 'Library', 'Caches')
        : env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return base ? join(base, 'touchdown', 'code') : undefined;
}

/**
 * Packages the bundle leaves in node_modules (scripts/bundle-common.mjs) whose files load through the same code
 * cache: @smithy/core, which every SDK client builds on (compiling it took a tenth of a plan's start). Node's
 * module cache still holds what loads, so a require from anywhere else gets the same module.
 */
const CACHED_PACKAGES = /^@smithy\/core(\/|$)/;

/** Loads the bundle's entry chunk (which runs the command); chunks it requires load the same way. */
export function runBundle({ dist, cacheDir }: BundleOptions): void {
  const hashes = JSON.parse(readFileSync(join(dist, 'cli-chunks.json'), 'utf8')) as Record<string, string>;
  const url = pathToFileURL(join(dist, 'cli.cjs')).href;
  const nodeRequire = createRequire(join(dist, 'cli.cjs'));
  const modules = new Map<string, { exports: unknown }>();
  const uncached: { script: Script; file: string }[] = [];

  /** The code, compiled with its cache when there is one; `key` names the cache (undefined: none kept). */
  const compile = (code: string, filename: string, key: string | undefined): Script => {
    const cacheFile =
      cacheDir && key ? join(cacheDir, `${key}-${process.version}-${process.arch}.bin`) : undefined;
    let cachedData: Buffer | undefined;
    try {
      if (cacheFile) cachedData = readFileSync(cacheFile);
    } catch {
      // not cached yet
    }
    const script = new Script(code, { filename, ...(cachedData ? { cachedData } : {}) });
    if (cacheFile && (!cachedData || script.cachedDataRejected)) uncached.push({ script, file: cacheFile });
    return script;
  };

  const load = (chunk: string): unknown => {
    const known = modules.get(chunk);
    if (known) return known.exports;
    const path = join(dist, chunk);
    // The wrapper shares the chunk's first line, so stack traces keep the chunk's line numbers. The build writes
    // ASCII: latin1 reads it three times faster than utf8.
    const script = compile(`${WRAPPER}${readFileSync(path, 'latin1')}\n})`, path, hashes[chunk]);
    const module = { exports: {} as unknown };
    modules.set(chunk, module);
    const body = script.runInThisContext() as (...args: unknown[]) => void;
    body.call(module.exports, module.exports, require, module, url);
    return module.exports;
  };
  // Chunks name each other as ES modules would (./cli-<hash>.js); everything else is Node's to load.
  const require = (id: string): unknown =>
    id.startsWith('./')
      ? load(basename(id).replace(/\.js$/, '.cjs'))
      : CACHED_PACKAGES.test(id)
        ? loadPackageFile(id, nodeRequire)
        : nodeRequire(id);

  /** A CommonJS file of a package, as Node would load it (into its module cache), with the code cache. */
  const loadPackageFile = (id: string, from: NodeJS.Require): unknown => {
    const file = from.resolve(id);
    const known = nodeRequire.cache[file];
    if (known) return known.exports;
    const source = readFileSync(file, 'utf8');
    const key = createHash('sha256').update(source).digest('hex').slice(0, 32);
    const script = compile(Module.wrap(source), file, key);
    const module = new Module(file);
    module.filename = file;
    nodeRequire.cache[file] = module;
    const own = createRequire(file);
    const requireFromFile = (inner: string): unknown =>
      CACHED_PACKAGES.test(inner) ? loadPackageFile(inner, own) : own(inner);
    try {
      const body = script.runInThisContext() as (...args: unknown[]) => void;
      body.call(module.exports, module.exports, requireFromFile, module, file, dirname(file));
    } catch (error) {
      delete nodeRequire.cache[file];
      throw error;
    }
    module.loaded = true;
    return module.exports;
  };

  if (cacheDir) process.once('exit', () => keep(uncached, cacheDir));
  load('cli.cjs');
}

/** Writes the code compiled in this run (the functions it ran included) for the next; any failure is ignored. */
function keep(scripts: { script: Script; file: string }[], cacheDir: string): void {
  if (scripts.length === 0) return;
  try {
    mkdirSync(cacheDir, { recursive: true });
  } catch {
    return;
  }
  for (const { script, file } of scripts) {
    // A whole file or none: another process may be reading or writing the same chunk's cache.
    const partial = `${file}.${process.pid}`;
    try {
      writeFileSync(partial, script.createCachedData());
      renameSync(partial, file);
    } catch {
      rmSync(partial, { force: true });
    }
  }
  prune(cacheDir);
}

/** Earlier builds' caches go, oldest first, once there are more than KEPT. */
function prune(cacheDir: string): void {
  try {
    const files = readdirSync(cacheDir).filter((f) => f.endsWith('.bin'));
    if (files.length <= KEPT) return;
    const byAge = files
      .map((f) => ({ f, mtime: statSync(join(cacheDir, f)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const { f } of byAge.slice(KEPT)) rmSync(join(cacheDir, f), { force: true });
  } catch {
    // another process pruning at the same time
  }
}
