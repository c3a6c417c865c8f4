// The Python the app runs with: the one asked for, the active virtualenv, the project's .venv, then python3.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError } from '../core/errors.js';

const run = promisify(execFile);

export interface Python {
  /** The interpreter's path. */
  path: string;
  /** How it was chosen, in words: "--python", "$VIRTUAL_ENV", ".venv in /work/app", "python3 on PATH". */
  how: string;
  /** Its bin folder, put first on PATH so `gunicorn` and `celery` in commands are this Python's. */
  bin: string;
  /** Set for the app's processes when the interpreter lives in a virtualenv. */
  virtualEnv?: string;
}

const executable = (path: string) =>
  access(path, constants.X_OK).then(
    () => true,
    () => false,
  );

const binOf = (venv: string) => join(venv, process.platform === 'win32' ? 'Scripts' : 'bin');
const inVenv = (venv: string) => join(binOf(venv), process.platform === 'win32' ? 'python.exe' : 'python');

export async function findPython(projectDir: string, asked?: string): Promise<Python> {
  if (asked) {
    const path = resolve(asked);
    if (!(await executable(path))) throw new ConfigError(`--python ${asked}: no executable Python there`);
    return describe(path, '--python');
  }
  const active = process.env.VIRTUAL_ENV;
  if (active && (await executable(inVenv(active)))) return describe(inVenv(active), '$VIRTUAL_ENV');
  for (let dir = resolve(projectDir); ; dir = dirname(dir)) {
    for (const name of ['.venv', 'venv']) {
      const candidate = inVenv(join(dir, name));
      if (await executable(candidate)) return describe(candidate, `${name} in ${dir}`);
    }
    if (dirname(dir) === dir) break;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'python3');
    if (await executable(candidate)) return describe(candidate, 'python3 on PATH');
  }
  throw new ConfigError(
    'no Python found for the app: create a virtualenv with its requirements (python3 -m venv .venv && .venv/bin/pip install -r requirements.txt), or pass --python PATH',
  );
}

function describe(path: string, how: string): Python {
  const bin = dirname(path);
  const venv = dirname(bin);
  return { path, how, bin, ...(how === 'python3 on PATH' ? {} : { virtualEnv: venv }) };
}

/** A package the stack needs in the app's Python: any of its modules will do (psycopg or psycopg2). */
export interface Needed {
  modules: string[];
  /** What to pip install when none imports. */
  pip: string;
  /** What needs it, in the user's words. */
  why: string;
}

/**
 * Fails with the packages to install when the interpreter cannot import what the stack runs: each named with
 * what needs it, and one pip command for them all.
 */
export async function checkPackages(python: Python, needed: Needed[], cwd: string): Promise<void> {
  // A dotted module whose package is missing raises rather than answering None: that is missing too.
  const script = `import importlib.util, sys\ndef has(m):\n    try:\n        return importlib.util.find_spec(m) is not None\n    except ImportError:\n        return False\nfor group in sys.argv[1:]:\n    if not any(has(m) for m in group.split(",")): print(group)`;
  let missing: Needed[];
  try {
    const { stdout } = await run(python.path, ['-c', script, ...needed.map((n) => n.modules.join(','))], {
      cwd,
      timeout: 30_000,
    });
    const groups = new Set(stdout.trim().split(/\s+/).filter(Boolean));
    missing = needed.filter((n) => groups.has(n.modules.join(',')));
  } catch (err) {
    throw new ConfigError(
      `the Python at ${python.path} (${python.how}) does not run: ${(err as Error).message}`,
    );
  }
  if (missing.length > 0) {
    const install = [...new Set(missing.map((n) => (/[[\]<>=]/.test(n.pip) ? `'${n.pip}'` : n.pip)))].join(
      ' ',
    );
    throw new ConfigError(
      `the Python at ${python.path} (${python.how}) lacks ${missing.map((n) => `${n.pip} (${n.why})`).join(', ')}: install ${missing.length > 1 ? 'them' : 'it'} with \`${python.path} -m pip install ${install}\` and add ${missing.length > 1 ? 'them' : 'it'} to the project's requirements, or pass --python with the right interpreter`,
    );
  }
}

/** PATH for the app's processes: the interpreter's bin folder first. */
export function pathWith(python: Python): string {
  return [python.bin, process.env.PATH ?? ''].filter(Boolean).join(delimiter);
}
