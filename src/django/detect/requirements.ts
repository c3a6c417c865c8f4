// What the project declares it depends on, and every file an install reads (includes, constraints, lockfiles).
import { readdir } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { exists, readIfExists } from './files.js';
import { tomlArray, tomlTable } from './toml.js';

export type Installer = 'pip' | 'uv' | 'poetry' | 'pdm' | 'pipenv';

export interface Declared {
  /** How the image installs them: pip from requirement files or a pyproject, or the lockfile's own tool. */
  installer: Installer | undefined;
  /** Where the install starts (relative to root): requirements.txt, requirements/production.txt, pyproject.toml, Pipfile. */
  main: string | undefined;
  /** Every file the install reads, relative to root, main first (-r/-c includes, lockfiles). */
  files: string[];
  /** Package name (lower-case, `_` as `-`) → its extras. */
  packages: Map<string, Set<string>>;
  /** Includes that do not exist, and the like. */
  warnings: string[];
}

const REQUIREMENT_ENTRIES = [
  'requirements.txt',
  'requirements/production.txt',
  'requirements/prod.txt',
  'requirements-prod.txt',
  'requirements/base.txt',
  'requirements/main.txt',
  'requirements/requirements.txt',
];

/** `Django[bcrypt]>=5.2 ; python_version>"3.9"` → name and extras. */
export function parseRequirement(spec: string): { name: string; extras: string[] } | undefined {
  const m = /^\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?/.exec(spec);
  if (!m) return undefined;
  return {
    name: m[1]!.toLowerCase().replace(/[_.]+/g, '-'),
    extras: (m[2] ?? '')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter(Boolean),
  };
}

function add(packages: Map<string, Set<string>>, spec: string): void {
  const r = parseRequirement(spec);
  if (!r || r.name === 'python') return;
  const extras = packages.get(r.name) ?? new Set<string>();
  for (const e of r.extras) extras.add(e);
  packages.set(r.name, extras);
}

/** Reads requirements files through their -r and -c includes (pip's own rule: paths relative to the including file). */
async function readRequirements(root: string, main: string, declared: Declared): Promise<void> {
  const visit = async (file: string, constraintsOnly: boolean): Promise<void> => {
    const rel = normalize(relative(root, file));
    if (declared.files.includes(rel)) return;
    const text = await readIfExists(file);
    if (text === undefined) {
      declared.warnings.push(`${rel} is included but does not exist`);
      return;
    }
    declared.files.push(rel);
    for (const raw of text.split('\n')) {
      const line = raw.replace(/(^|\s)#.*/, '').trim();
      if (!line) continue;
      const include = /^(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)/.exec(line);
      if (include) {
        await visit(
          join(dirname(file), include[2]!),
          constraintsOnly || include[1]!.startsWith('-c') || include[1] === '--constraint',
        );
        continue;
      }
      if (line.startsWith('-') || constraintsOnly) continue;
      add(declared.packages, line);
    }
  };
  await visit(join(root, main), false);
}

/** The project's declared dependencies: requirement files first, then a pyproject that declares any, then a Pipfile. */
export async function readDeclared(root: string): Promise<Declared> {
  const declared: Declared = {
    installer: undefined,
    main: undefined,
    files: [],
    packages: new Map(),
    warnings: [],
  };
  const pyproject = await readIfExists(join(root, 'pyproject.toml'));
  const lock = async (name: string) => ((await exists(join(root, name))) ? [name] : []);
  const fromPyproject = async (): Promise<boolean> => {
    if (pyproject === undefined) return false;
    const pep621 = tomlArray(tomlTable(pyproject, 'project'), 'dependencies');
    const poetryDeps = Object.keys(keyValues(tomlTable(pyproject, 'tool.poetry.dependencies')));
    if (pep621 === undefined && poetryDeps.length === 0) return false;
    for (const spec of pep621 ?? []) add(declared.packages, spec);
    for (const name of poetryDeps) add(declared.packages, name);
    declared.main = 'pyproject.toml';
    if (await exists(join(root, 'uv.lock'))) declared.installer = 'uv';
    else if ((await exists(join(root, 'poetry.lock'))) || poetryDeps.length > 0)
      declared.installer = 'poetry';
    else if ((await exists(join(root, 'pdm.lock'))) || /^\[tool\.pdm/m.test(pyproject))
      declared.installer = 'pdm';
    else declared.installer = 'pip';
    const lockfile = { uv: 'uv.lock', poetry: 'poetry.lock', pdm: 'pdm.lock', pip: '', pipenv: '' }[
      declared.installer
    ];
    declared.files = ['pyproject.toml', ...(lockfile ? await lock(lockfile) : [])];
    // Poetry and PDM read the README named in the pyproject when they install the project itself; uv too.
    return true;
  };
  // A lockfile beside a pyproject is the project's statement of what production installs.
  if (
    (await exists(join(root, 'uv.lock'))) ||
    (await exists(join(root, 'poetry.lock'))) ||
    (await exists(join(root, 'pdm.lock')))
  ) {
    if (await fromPyproject()) return declared;
  }
  for (const entry of REQUIREMENT_ENTRIES) {
    if (await exists(join(root, entry))) {
      declared.installer = 'pip';
      declared.main = entry;
      await readRequirements(root, entry, declared);
      return declared;
    }
  }
  if (await fromPyproject()) return declared;
  const pipfile = await readIfExists(join(root, 'Pipfile'));
  if (pipfile !== undefined) {
    for (const name of Object.keys(keyValues(tomlTable(pipfile, 'packages')))) add(declared.packages, name);
    declared.installer = 'pipenv';
    declared.main = 'Pipfile';
    declared.files = ['Pipfile', ...(await lock('Pipfile.lock'))];
    return declared;
  }
  const folder = await readdir(join(root, 'requirements')).catch(() => [] as string[]);
  const any = folder.filter((f) => f.endsWith('.txt') && !/dev|test|local|lint|doc/.test(f)).sort()[0];
  if (any) {
    declared.installer = 'pip';
    declared.main = `requirements/${any}`;
    await readRequirements(root, declared.main, declared);
  }
  return declared;
}

/** `name = "value"` and `name = {…}` lines of a TOML table → names (values unparsed). */
function keyValues(table: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (table ?? '').split('\n')) {
    const m = /^\s*["']?([A-Za-z0-9][\w.-]*)["']?\s*=\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Whether the declared packages include `name` (any spelling), optionally with one of `extras`. */
export function declares(declared: Pick<Declared, 'packages'>, name: string, extra?: string): boolean {
  const extras = declared.packages.get(name);
  return extras !== undefined && (extra === undefined || extras.has(extra));
}
