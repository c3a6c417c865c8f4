// The command's bundle runs with V8's code cache: written after a first run, used by the next, rewritten when it
// does not fit, and never a reason for the command to fail. Runs the built loader (dist/, `npm run build`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../test/support/paths.js';
import { codeCacheDir } from './bundle-loader.js';

const loader = pathToFileURL(join(repoRoot, 'dist', 'cli', 'bundle-loader.js')).href;

/** A bundle of two chunks, as scripts/bundle.mjs writes them; `version` changes the chunk's content. */
function bundle(version = 1): string {
  const dist = mkdtempSync(join(tmpdir(), 'touchdown-bundle-'));
  writeFileSync(
    join(dist, 'cli.cjs'),
    "const chunk = require('./cli-A.js');\nconsole.log(chunk.answer(), new URL('x.js', __touchdownUrl).pathname.endsWith('/x.js'), require('node:path').sep);\n",
  );
  writeFileSync(join(dist, 'cli-A.cjs'), `exports.answer = () => ${40 + version};\n`);
  writeFileSync(
    join(dist, 'cli-chunks.json'),
    JSON.stringify({ 'cli.cjs': 'entry', 'cli-A.cjs': `chunk${version}` }),
  );
  return dist;
}

function run(dist: string, cacheDir: string) {
  const code = `import { runBundle } from ${JSON.stringify(loader)}; runBundle({ dist: ${JSON.stringify(dist)}, cacheDir: ${JSON.stringify(cacheDir)} });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const caches = (dir: string) => readdirSync(dir).sort();

describe('the bundle with its code cache', () => {
  it('runs its chunks, keeps their compiled code, and reuses it untouched', () => {
    const dist = bundle();
    const cache = join(mkdtempSync(join(tmpdir(), 'touchdown-cache-')), 'code');
    assert.deepEqual(run(dist, cache), { status: 0, stdout: '41 true /\n', stderr: '' });
    const files = caches(cache);
    assert.equal(files.length, 2);
    assert.ok(files.every((f) => f.endsWith(`-${process.version}-${process.arch}.bin`)));
    const written = files.map((f) => statSync(join(cache, f)).mtimeMs);
    assert.deepEqual(run(dist, cache), { status: 0, stdout: '41 true /\n', stderr: '' });
    assert.deepEqual(
      files.map((f) => statSync(join(cache, f)).mtimeMs),
      written,
    );
  });

  it('rewrites a cache V8 refuses, and keys each chunk by its content', () => {
    const cache = mkdtempSync(join(tmpdir(), 'touchdown-cache-'));
    run(bundle(), cache);
    const chunk = caches(cache).find((f) => f.startsWith('chunk1'))!;
    writeFileSync(join(cache, chunk), 'not a code cache');
    assert.deepEqual(run(bundle(), cache), { status: 0, stdout: '41 true /\n', stderr: '' });
    assert.notEqual(readFileSync(join(cache, chunk), 'utf8'), 'not a code cache');
    assert.deepEqual(run(bundle(2), cache), { status: 0, stdout: '42 true /\n', stderr: '' });
    assert.ok(caches(cache).some((f) => f.startsWith('chunk2')));
  });

  it('runs all the same where the cache cannot be written', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'touchdown-cache-')), 'a-file');
    writeFileSync(file, '');
    assert.deepEqual(run(bundle(), join(file, 'code')), { status: 0, stdout: '41 true /\n', stderr: '' });
  });

  it("loads @smithy/core from node_modules with the code cache, into Node's own module cache", () => {
    // A bundle beside a node_modules of its own: the package's root requires one of its subpaths.
    const dist = mkdtempSync(join(tmpdir(), 'touchdown-bundle-'));
    const pkg = join(dist, 'node_modules', '@smithy', 'core');
    mkdirSync(join(pkg, 'sub'), { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({
        name: '@smithy/core',
        main: './index.js',
        exports: { '.': './index.js', './sub': './sub/index.js' },
      }),
    );
    writeFileSync(
      join(pkg, 'index.js'),
      "exports.part = require('@smithy/core/sub').part + __filename.length * 0;\n",
    );
    writeFileSync(join(pkg, 'sub', 'index.js'), 'exports.part = 7;\n');
    // The entry checks that Node's own require, from elsewhere, gets the very module the bundle loaded.
    writeFileSync(
      join(dist, 'cli.cjs'),
      "const core = require('@smithy/core');\nconst same = require('node:module').createRequire(__touchdownUrl)('@smithy/core') === core;\nconsole.log(core.part, same);\n",
    );
    writeFileSync(join(dist, 'cli-chunks.json'), JSON.stringify({ 'cli.cjs': 'entry' }));
    const cache = mkdtempSync(join(tmpdir(), 'touchdown-cache-'));
    assert.deepEqual(run(dist, cache), { status: 0, stdout: '7 true\n', stderr: '' });
    // The entry chunk's cache and one per file of the package.
    const files = caches(cache);
    assert.equal(files.length, 3);
    const written = files.map((f) => statSync(join(cache, f)).mtimeMs);
    assert.deepEqual(run(dist, cache), { status: 0, stdout: '7 true\n', stderr: '' });
    assert.deepEqual(
      caches(cache).map((f) => statSync(join(cache, f)).mtimeMs),
      written,
    );
    // A file that changes is compiled again, under a name of its own.
    writeFileSync(join(pkg, 'sub', 'index.js'), 'exports.part = 8;\n');
    assert.deepEqual(run(dist, cache), { status: 0, stdout: '8 true\n', stderr: '' });
    assert.equal(caches(cache).length, 4);
  });

  it("lives in the user's cache folder unless TOUCHDOWN_CODE_CACHE says otherwise", () => {
    assert.equal(codeCacheDir({ TOUCHDOWN_CODE_CACHE: '0' }), undefined);
    assert.equal(codeCacheDir({ TOUCHDOWN_CODE_CACHE: '/tmp/x' }), '/tmp/x');
    if (process.platform === 'linux')
      assert.equal(codeCacheDir({ XDG_CACHE_HOME: '/home/u/.cache' }), '/home/u/.cache/touchdown/code');
  });
});
