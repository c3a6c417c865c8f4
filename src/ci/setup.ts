// What `touchdown ci` reads from the project before writing anything: the repository and branch (git), the
// test command the project uses, and touchdown.yml with its `ci:` section set for a stage.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isMap, parseDocument } from 'yaml';
import { DEFAULT_STAGE } from '../config/load-manifest.js';
import type { CiSection } from './manifest.js';

const run = promisify(execFile);

async function git(dir: string, ...args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', args, { cwd: dir });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** `owner/name` of a GitHub remote URL (https, ssh or scp-like), or undefined for any other host. */
export function githubRepo(url: string): string | undefined {
  const m = /github\.com[:/]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(\.git)?\/?$/.exec(url.trim());
  return m ? `${m[1]}/${m[2]}` : undefined;
}

export interface GitFacts {
  /** The repository's root folder, when the project is in a git checkout. */
  root?: string;
  /** owner/name from the `origin` remote, when it is on GitHub. */
  repo?: string;
  /** origin's default branch (its HEAD), when git knows it. */
  defaultBranch?: string;
}

export async function gitFacts(dir: string): Promise<GitFacts> {
  const [root, remote, head] = await Promise.all([
    git(dir, 'rev-parse', '--show-toplevel'),
    git(dir, 'remote', 'get-url', 'origin'),
    git(dir, 'symbolic-ref', '--short', 'refs/remotes/origin/HEAD'),
  ]);
  return {
    root,
    repo: remote ? githubRepo(remote) : undefined,
    defaultBranch: head?.replace(/^origin\//, ''),
  };
}

/** pytest when the project is set up for it, else Django's own runner; the folder it runs in. */
export async function detectTestCommand(
  manifestDir: string,
  projectDir: string,
): Promise<{ command: string; dir: string; why: string }> {
  const read = (path: string) => readFile(join(manifestDir, path), 'utf8').catch(() => '');
  const signs: [string, (text: string) => boolean][] = [
    ['pytest.ini', (t) => t !== ''],
    ['conftest.py', (t) => t !== ''],
    ['pyproject.toml', (t) => /^\[tool\.pytest/m.test(t)],
    ['setup.cfg', (t) => /^\[tool:pytest\]/m.test(t)],
    ['tox.ini', (t) => /^\[pytest\]/m.test(t)],
  ];
  for (const [file, says] of signs) {
    if (says(await read(file)))
      return { command: 'python -m pytest', dir: '', why: `${file} configures pytest` };
  }
  return {
    command: 'python manage.py test',
    dir: projectDir === '.' ? '' : projectDir,
    why: 'no pytest configuration found',
  };
}

/**
 * touchdown.yml's text with `ci:` set for the stage: at the top for production, under `stages.<stage>` for
 * another. Comments and layout elsewhere are kept. Undefined when the stage already has this very section.
 */
export function withCiSection(text: string, stage: string, ci: CiSection): string | undefined {
  const doc = parseDocument(text);
  const path = stage === DEFAULT_STAGE ? ['ci'] : ['stages', stage, 'ci'];
  const have = doc.getIn(path);
  const want = Object.fromEntries(Object.entries(ci).filter(([, v]) => v !== undefined));
  if (isMap(have) && JSON.stringify(sortedKeys(have.toJSON())) === JSON.stringify(sortedKeys(want))) {
    return undefined;
  }
  doc.setIn(path, doc.createNode(want));
  return doc.toString();
}

/** The `ci:` section the stage has now in the file, as written (before defaults). */
export function declaredCi(text: string, stage: string): Record<string, unknown> | undefined {
  const doc = parseDocument(text);
  const have = doc.getIn(stage === DEFAULT_STAGE ? ['ci'] : ['stages', stage, 'ci']);
  return isMap(have) ? (have.toJSON() as Record<string, unknown>) : undefined;
}

function sortedKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}
