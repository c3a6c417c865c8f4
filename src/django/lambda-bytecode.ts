// Bytecode for the Lambda package: compiled here, by the runtime's own Python version, so a cold start reads
// .pyc files instead of compiling every module it imports (three quarters of an import-bound cold start).
// Hash-based .pyc files carry no timestamps, so the package stays byte-for-byte the same for the same input:
// https://docs.python.org/3/library/py_compile.html#py_compile.PycInvalidationMode
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import pLimit from 'p-limit';
import { canonicalPyc } from './pyc.js';

/** Where Lambda unpacks the package: the file names tracebacks show. */
const TASK_ROOT = '/var/task';

function run(
  command: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ ok: boolean; output: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ ok: !err, output: `${stdout}${stderr}`.trim(), stdout }),
    );
  });
}

/** Pythons of one version that version managers keep off the PATH: pyenv's, then uv's. */
async function managedPythons(version: string): Promise<string[]> {
  const found: string[] = [];
  const pyenv = process.env.PYENV_ROOT ?? join(homedir(), '.pyenv');
  const versions = await readdir(join(pyenv, 'versions')).catch(() => [] as string[]);
  for (const v of versions
    .filter((v) => v === version || v.startsWith(`${version}.`))
    .sort()
    .reverse()) {
    found.push(join(pyenv, 'versions', v, 'bin', `python${version}`));
  }
  const uv = await run('uv', ['python', 'find', '--no-python-downloads', version]);
  if (uv.ok && uv.output) found.push(uv.output.split('\n').at(-1)!);
  return found;
}

/**
 * A Python of exactly the runtime's version (bytecode is version-specific): the one given if it is that version,
 * else `python3.12` (for 3.12) on the PATH, else one pyenv or uv installed; undefined when this machine has none.
 */
export async function pythonForBytecode(version: string, given?: string): Promise<string | undefined> {
  const candidates = [given, `python${version}`];
  for (const candidate of candidates) {
    if (candidate && (await versionOf(candidate)) === version) return candidate;
  }
  for (const candidate of await managedPythons(version)) {
    if ((await versionOf(candidate)) === version) return candidate;
  }
  return undefined;
}

async function versionOf(python: string): Promise<string | undefined> {
  const { ok, output } = await run(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']);
  return ok ? output : undefined;
}

/**
 * compileall, then a check that each .py file has its .pyc: its workers run in parallel, and a file left without
 * bytecode would go unnoticed (the package still works, only slower). Only a file that does not compile (a
 * Python 2 leftover in a dependency, say) may lack one; it fails at import on Lambda too. Prints JSON.
 */
const COMPILE = `
import compileall, contextlib, importlib.util, io, json, os, py_compile, sys, warnings
root, prefix = sys.argv[1], sys.argv[2]
warnings.simplefilter("ignore")
log = io.StringIO()
with contextlib.redirect_stdout(log):
    compileall.compile_dir(root, quiet=1, workers=0, stripdir=root, prependdir=prefix,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
compiled, broken, missing = 0, [], []
for folder, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if d != "__pycache__"]
    for name in files:
        if not name.endswith(".py"):
            continue
        path = os.path.join(folder, name)
        if os.path.exists(importlib.util.cache_from_source(path)):
            compiled += 1
            continue
        try:
            with open(path, "rb") as f:
                compile(f.read(), path, "exec", dont_inherit=True)
            missing.append(os.path.relpath(path, root))
        except (SyntaxError, ValueError, UnicodeDecodeError):
            broken.append(os.path.relpath(path, root))
print(json.dumps({"compiled": compiled, "broken": broken, "missing": missing, "log": log.getvalue()}))
`;

/** What compiling a tree did: files compiled, files that do not compile, .pyc files left as Python wrote them. */
export interface Compiled {
  compiled: number;
  broken: string[];
  /** Bytecode in a format src/django/pyc.ts does not know (a newer Python): two builds may differ in them. */
  unsettled: string[];
}

/**
 * Compiles every .py file under `root` in place into __pycache__, as the files will sit under /var/task, and
 * returns how many were compiled and which do not compile.
 * "unchecked-hash": Lambda's code never changes under a running function, so Python need not even hash the source.
 */
export async function compileTree(python: string, root: string): Promise<Compiled> {
  // Sets and frozensets in constants are ordered by hash: a fixed seed keeps the bytes the same.
  const { ok, output, stdout } = await run(python, ['-c', COMPILE, root, TASK_ROOT], {
    ...process.env,
    PYTHONHASHSEED: '0',
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  if (!ok || !last.startsWith('{')) throw new Error(`compiling bytecode failed: ${output}`);
  const result = JSON.parse(last) as { compiled: number; broken: string[]; missing: string[]; log: string };
  const [first, ...more] = result.missing;
  if (first)
    throw new Error(
      `compiling bytecode left ${first}${more.length ? ` and ${more.length} more` : ''} without a .pyc, ` +
        `though it compiles: ${result.log.trim()}`,
    );
  return { compiled: result.compiled, broken: result.broken, unsettled: await settleBytecode(root) };
}

/** Rewrites each .pyc under `root` so its bytes depend on its code alone (src/django/pyc.ts); returns those it cannot. */
async function settleBytecode(root: string): Promise<string[]> {
  const limit = pLimit(16);
  const unsettled: string[] = [];
  await Promise.all(
    [...(await compiledUnder(root)).values()].map((file) =>
      limit(async () => {
        const data = await readFile(file);
        const settled = canonicalPyc(data);
        if (!settled) unsettled.push(relative(root, file));
        else if (!settled.equals(data)) await writeFile(file, settled);
      }),
    ),
  );
  return unsettled.sort();
}

/**
 * The project's .py files compiled in a copy (never in the project: unchecked .pyc files beside its sources would
 * hide the developer's later edits from their own Python); returns zip path → compiled file, and the files that
 * do not compile.
 */
export async function compileProject(
  python: string,
  files: Map<string, string>,
): Promise<{
  compiled: Map<string, string>;
  broken: string[];
  unsettled: string[];
  cleanup: () => Promise<void>;
}> {
  const copy = await mkdtemp(join(tmpdir(), 'touchdown-bytecode-'));
  for (const [path, file] of files) {
    if (!path.endsWith('.py')) continue;
    await mkdir(join(copy, dirname(path)), { recursive: true });
    await copyFile(file, join(copy, path));
  }
  const { broken, unsettled } = await compileTree(python, copy);
  return {
    compiled: await compiledUnder(copy),
    broken,
    unsettled,
    cleanup: () => rm(copy, { recursive: true, force: true }),
  };
}

/** Every .pyc under `root`'s __pycache__ folders, by zip path. */
export async function compiledUnder(root: string, prefix = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      for (const [p, f] of await compiledUnder(root, path)) out.set(p, f);
    } else if (entry.name.endsWith('.pyc') && prefix.split('/').at(-1) === '__pycache__') {
      out.set(path, join(root, path));
    }
  }
  return out;
}
