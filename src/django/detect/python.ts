// The Python release the project runs on, from the files that say so, and a clear refusal for one
// Touchdown cannot serve.
import { join } from 'node:path';
import { readIfExists } from './files.js';
import { tomlString, tomlTable } from './toml.js';

/** Releases Django supports today (5.2 LTS: 3.10 to 3.14) and that have python:X-slim images. */
export const SUPPORTED_PYTHONS = ['3.10', '3.11', '3.12', '3.13', '3.14'] as const;
export type PythonVersion = (typeof SUPPORTED_PYTHONS)[number];
const DEFAULT: PythonVersion = '3.12';

export class UnsupportedPython extends Error {
  override readonly name = 'UnsupportedPython';
}

export interface PythonChoice {
  version: PythonVersion;
  /** The file (and what it says) the version came from, or "Touchdown's default". */
  why: string;
}

const supported = (v: string): v is PythonVersion => (SUPPORTED_PYTHONS as readonly string[]).includes(v);

function refuse(asked: string, source: string): never {
  throw new UnsupportedPython(
    `${source} asks for Python ${asked}; Touchdown builds and runs Python ${SUPPORTED_PYTHONS[0]} to ${SUPPORTED_PYTHONS.at(-1)} (the releases Django supports). ` +
      `Move the project to one of them and change ${source}, or write touchdown.yml yourself with django.python set`,
  );
}

/** `>=3.11,<3.14` → the supported releases it allows. */
export function allowedBy(specifier: string): PythonVersion[] {
  const clauses = specifier
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  return SUPPORTED_PYTHONS.filter((v) =>
    clauses.every((clause) => {
      const m = /^(~=|==|!=|>=|<=|>|<|\^|~)?\s*(\d+)(?:\.(\d+|\*))?/.exec(clause);
      if (!m) return true;
      const minor = Number(v.split('.')[1]);
      const want = m[3] === undefined || m[3] === '*' ? undefined : Number(m[3]);
      if (Number(m[2]) !== 3) return m[1] === '<' || m[1] === '<=' ? Number(m[2]) > 3 : m[1] === '!=';
      if (want === undefined) return true;
      const patch = /\d+\.\d+\.\d+/.test(clause);
      switch (m[1]) {
        case '>=':
        case '^':
          return minor >= want;
        case '~=':
          return patch ? minor === want : minor >= want;
        case '>':
          return patch ? minor >= want : minor > want;
        case '<':
          return patch ? minor <= want : minor < want;
        case '<=':
          return minor <= want;
        case '!=':
          return patch || minor !== want;
        default:
          return minor === want;
      }
    }),
  );
}

/** An exact pin (`.python-version`, runtime.txt, a Dockerfile's FROM, Pipfile) wins over a range (requires-python). */
export async function choosePython(root: string): Promise<PythonChoice> {
  const pin = (text: string | undefined) => /^\s*(?:python-|cpython-)?(\d+\.\d+)/m.exec(text ?? '')?.[1];
  const pinned: [string, string | undefined][] = [
    ['.python-version', pin(await readIfExists(join(root, '.python-version')))],
    ['runtime.txt', pin(await readIfExists(join(root, 'runtime.txt')))],
    [
      'Dockerfile',
      /^\s*FROM\s+(?:\S+\/)?python:(\d+\.\d+)/im.exec(
        (await readIfExists(join(root, 'Dockerfile'))) ?? '',
      )?.[1],
    ],
    [
      'Pipfile',
      tomlString(
        tomlTable((await readIfExists(join(root, 'Pipfile'))) ?? '', 'requires'),
        'python_version',
      )?.match(/^\d+\.\d+/)?.[0],
    ],
  ];
  const pythonVersionFile = (await readIfExists(join(root, '.python-version')))?.trim();
  if (pythonVersionFile && /^pypy/i.test(pythonVersionFile)) refuse(pythonVersionFile, '.python-version');
  for (const [source, version] of pinned) {
    if (!version) continue;
    if (!supported(version)) refuse(version, source);
    return { version, why: `${source} says ${version}` };
  }
  const pyproject = (await readIfExists(join(root, 'pyproject.toml'))) ?? '';
  const requires =
    tomlString(tomlTable(pyproject, 'project'), 'requires-python') ??
    tomlString(tomlTable(pyproject, 'tool.poetry.dependencies'), 'python');
  if (requires) {
    const allowed = allowedBy(requires);
    if (allowed.length === 0) refuse(requires, 'pyproject.toml (requires-python)');
    const version = allowed.includes(DEFAULT) ? DEFAULT : allowed.at(-1)!;
    return { version, why: `pyproject.toml allows ${requires}` };
  }
  return { version: DEFAULT, why: "no file names one: Touchdown's default" };
}
