// The Lambda package's installed requirements are reused only while every file pip reads is unchanged: the
// requirements file and what it includes with -r and -c, relative to the file that names them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildLambdaPackage, requirementFiles } from '../src/django/lambda-package.js';
import { venvPython } from './support/paths.js';

const run = promisify(execFile);

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-requirements-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** The version of a package inside a zip, read by Python's zipfile from its dist-info folder. */
async function versionIn(zip: Buffer, name: string): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-zip-'));
  await writeFile(join(dir, 'p.zip'), zip);
  const { stdout } = await run(venvPython, [
    '-c',
    'import re, sys, zipfile\nfor n in zipfile.ZipFile(sys.argv[1]).namelist():\n  m = re.match(sys.argv[2] + r"-([^/]+)\\.dist-info/METADATA$", n)\n  if m: print(m.group(1))',
    join(dir, 'p.zip'),
    name,
  ]);
  return stdout.trim() || undefined;
}

/** A package for Lambda's Python 3.12 on x86_64, its installs cached in the project's .touchdown folder. */
function optionsFor(dir: string) {
  return {
    project: dir,
    requirements: 'requirements.txt',
    python: '3.12',
    architecture: 'x86_64' as const,
    cacheDir: join(dir, '.touchdown', 'lambda'),
    pythonCommand: venvPython,
  };
}

describe("the Lambda package's requirements", () => {
  it('reads every file pip reads: -r and -c includes, nested, relative to the including file, once each', async () => {
    const dir = await project({
      'requirements.txt': '-r requirements/production.txt\n',
      'requirements/production.txt': '--requirement=base.txt\n-c constraints.txt\ngunicorn\n',
      'requirements/base.txt': 'Django>=5.2\n-r production.txt\n',
      'requirements/constraints.txt': 'gunicorn>=23\n',
      'requirements/dev.txt': 'django-debug-toolbar\n',
    });
    const files = await requirementFiles(join(dir, 'requirements.txt'), dir);
    assert.deepEqual(
      files.map(([path]) => path),
      [
        'requirements.txt',
        'requirements/production.txt',
        'requirements/base.txt',
        'requirements/constraints.txt',
      ],
    );
  });

  it('names the file and line of an include that does not exist', async () => {
    const dir = await project({ 'requirements.txt': 'Django\n-r requirements/base.txt\n' });
    await assert.rejects(
      requirementFiles(join(dir, 'requirements.txt'), dir),
      /^ConfigError: requirements\.txt:2: includes requirements\/base\.txt, which cannot be read/,
    );
  });

  it('installs again when only an included file changed', { timeout: 300_000 }, async () => {
    const dir = await project({
      'requirements.txt': '-r requirements/base.txt\n',
      'requirements/base.txt': 'six==1.16.0\n',
      'manage.py': '',
    });
    const options = optionsFor(dir);
    const first = await buildLambdaPackage(options);
    assert.equal(await versionIn(first.zip, 'six'), '1.16.0');
    await writeFile(join(dir, 'requirements', 'base.txt'), 'six==1.17.0\n');
    const second = await buildLambdaPackage(options);
    assert.equal(await versionIn(second.zip, 'six'), '1.17.0', 'the cached install of 1.16.0 was not reused');
  });

  it('reuses the package built from the same files; a changed file or mode builds another', {
    timeout: 300_000,
  }, async () => {
    const dir = await project({
      'requirements.txt': 'six==1.16.0\n',
      'manage.py': 'print("manage")\n',
      'app/views.py': 'VIEW = 1\n',
    });
    const lines: string[] = [];
    const options = { ...optionsFor(dir), log: (line: string) => lines.push(line) };
    const reused = () =>
      lines.some((l) => /^package unchanged since it was last built: \d+ files, reused$/.test(l));
    const first = await buildLambdaPackage(options);
    assert.ok(!reused(), 'the first build zips');
    lines.length = 0;
    const again = await buildLambdaPackage(options);
    assert.ok(reused(), lines.join('\n'));
    assert.ok(again.zip.equals(first.zip));
    assert.deepEqual(
      [again.sha256, again.files, again.unzippedBytes],
      [first.sha256, first.files, first.unzippedBytes],
    );

    lines.length = 0;
    await writeFile(join(dir, 'app', 'views.py'), 'VIEW = 2\n');
    const changed = await buildLambdaPackage(options);
    assert.ok(!reused(), 'a changed file is zipped again');
    assert.notEqual(changed.sha256, first.sha256);

    lines.length = 0;
    await chmod(join(dir, 'manage.py'), 0o755);
    const executable = await buildLambdaPackage(options);
    assert.ok(!reused(), 'a changed mode is zipped again');
    assert.notEqual(executable.sha256, changed.sha256);

    // A package cut short in the cache (a crash while writing it) is built again, not served.
    const cached = (await readdir(options.cacheDir)).filter((f) => /^package-[0-9a-f]+\.zip$/.test(f));
    assert.ok(cached.length >= 1 && cached.length <= 3, cached.join(', '));
    for (const f of cached) await truncate(join(options.cacheDir, f), 100);
    lines.length = 0;
    const rebuilt = await buildLambdaPackage(options);
    assert.ok(!reused());
    assert.ok(rebuilt.zip.equals(executable.zip));
  });
});
