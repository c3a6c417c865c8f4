// The Lambda package's bytecode, compiled by a real Python 3.12: every file that compiles gets its .pyc, the
// same bytes each time; a file that does not compile is named; a .pyc that cannot be written stops the build.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileProject, compileTree, pythonForBytecode } from './lambda-bytecode.js';

const trees: string[] = [];

/** A small tree: a package, a module with a set constant (ordered by hash), and a Python 2 leftover. */
async function tree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'touchdown-bytecode-test-'));
  trees.push(root);
  await mkdir(join(root, 'app', 'sub'), { recursive: true });
  await writeFile(join(root, 'app', '__init__.py'), '');
  await writeFile(join(root, 'app', 'sub', 'views.py'), 'def f(x):\n    return x in {"a", "b", "c", 1.5}\n');
  await writeFile(join(root, 'app', 'old.py'), 'print "python 2"\n');
  return root;
}

describe('bytecode for the Lambda package', () => {
  let python: string;
  before(async () => {
    const found = await pythonForBytecode('3.12');
    assert.ok(found, 'python3.12 on this machine (the CI image carries 3.10 to 3.13)');
    python = found;
  });
  after(() => Promise.all(trees.map((t) => rm(t, { recursive: true, force: true }))));

  it('compiles every file that compiles, the same bytes each time, and names the one that does not', async () => {
    const [a, b] = [await tree(), await tree()];
    const [first, second] = [await compileTree(python, a), await compileTree(python, b)];
    assert.deepEqual(first, { compiled: 2, broken: ['app/old.py'], unsettled: [] });
    assert.deepEqual(second, first);
    for (const pyc of [
      'app/__pycache__/__init__.cpython-312.pyc',
      'app/sub/__pycache__/views.cpython-312.pyc',
    ]) {
      const [x, y] = [await readFile(join(a, pyc)), await readFile(join(b, pyc))];
      assert.ok(x.equals(y), `${pyc} is the same in both trees`);
      // Hash-based and unchecked (PEP 552): flags 0b01 in the header's second word, no timestamp.
      assert.equal(x.readUInt32LE(4), 1, pyc);
    }
    // Tracebacks name the files where Lambda unpacks them.
    const views = await readFile(join(a, 'app/sub/__pycache__/views.cpython-312.pyc'), 'latin1');
    assert.ok(views.includes('/var/task/app/sub/views.py'));
    assert.ok(!views.includes(a));
  });

  it("compiles the project's files in a copy, and names those that do not compile", async () => {
    const root = await tree();
    const files = new Map(
      ['app/__init__.py', 'app/sub/views.py', 'app/old.py'].map((path) => [path, join(root, path)]),
    );
    const { compiled, broken, cleanup } = await compileProject(python, files);
    try {
      assert.deepEqual(broken, ['app/old.py']);
      assert.deepEqual([...compiled.keys()].sort(), [
        'app/__pycache__/__init__.cpython-312.pyc',
        'app/sub/__pycache__/views.cpython-312.pyc',
      ]);
      // Nothing is written beside the project's own sources.
      await assert.rejects(readFile(join(root, 'app/__pycache__/__init__.cpython-312.pyc')));
    } finally {
      await cleanup();
    }
  });

  it('stops when a file that compiles is left without its .pyc', async () => {
    const root = await tree();
    // A file where the folder should be: Python cannot write app/sub/__pycache__/views.cpython-312.pyc.
    await writeFile(join(root, 'app', 'sub', '__pycache__'), '');
    await assert.rejects(
      compileTree(python, root),
      /left app\/sub\/views\.py without a \.pyc, though it compiles/,
    );
  });
});
