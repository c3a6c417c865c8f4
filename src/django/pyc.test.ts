// A .pyc's bytes depend on its code alone (src/django/pyc.ts), with real Pythons of the Lambda runtimes this
// machine has: the standard library's modules, written by marshal as a fresh process would and as one holding
// other references to their constants would (the difference two compileall workers made in one package), come
// out the same, and load as the same code.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pythonForBytecode } from './lambda-bytecode.js';
import { canonicalPyc } from './pyc.js';

const run = promisify(execFile);
const folders: string[] = [];
after(() => Promise.all(folders.map((f) => rm(f, { recursive: true, force: true }))));

/** Each stdlib module twice: `<name>.plain.pyc`, and `<name>.held.pyc` with every constant referenced elsewhere too. */
const WRITE = `
import glob, importlib.util, marshal, os, sys
from importlib._bootstrap_external import _code_to_hash_pyc
out = sys.argv[1]
def constants(code):
    for c in code.co_consts:
        yield c
        if hasattr(c, "co_consts"):
            yield from constants(c)
for path in sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py"))):
    source = open(path, "rb").read()
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except SyntaxError:
        continue
    name = os.path.basename(path)[:-3]
    plain = _code_to_hash_pyc(code, importlib.util.source_hash(source), False)
    held = list(constants(code))
    with open(os.path.join(out, name + ".plain.pyc"), "wb") as f:
        f.write(plain)
    with open(os.path.join(out, name + ".held.pyc"), "wb") as f:
        f.write(_code_to_hash_pyc(code, importlib.util.source_hash(source), False))
    del held
`;

/** Prints the names whose settled .pyc does not load as the same code as Python's own. */
const CHECK = `
import glob, marshal, os, sys
for settled in sorted(glob.glob(os.path.join(sys.argv[1], "*.settled.pyc"))):
    name = settled[: -len(".settled.pyc")]
    original = marshal.loads(open(name + ".plain.pyc", "rb").read()[16:])
    if marshal.loads(open(settled, "rb").read()[16:]) != original:
        print(os.path.basename(name))
`;

describe('settled bytecode', () => {
  for (const version of ['3.12', '3.13']) {
    it(`is the same whatever else Python ${version} held, and loads as the same code`, async () => {
      const python = await pythonForBytecode(version);
      assert.ok(python, `python${version} on this machine (the CI image carries 3.10 to 3.13)`);
      const dir = await mkdtemp(join(tmpdir(), 'touchdown-pyc-test-'));
      folders.push(dir);
      await run(python, ['-c', WRITE, dir], { env: { ...process.env, PYTHONHASHSEED: '0' } });
      const names = (await readdir(dir)).filter((f) => f.endsWith('.plain.pyc')).map((f) => f.slice(0, -10));
      assert.ok(names.length > 100, `${names.length} modules written`);
      let differed = 0;
      for (const name of names) {
        const [plain, held] = await Promise.all(
          ['plain', 'held'].map((kind) => readFile(join(dir, `${name}.${kind}.pyc`))),
        );
        if (!plain!.equals(held!)) differed++;
        const [a, b] = [canonicalPyc(plain!), canonicalPyc(held!)];
        assert.ok(a && b, `${name}: a format it reads`);
        assert.ok(a.equals(b), `${name}: the same bytes`);
        await writeFile(join(dir, `${name}.settled.pyc`), a);
      }
      assert.ok(differed > names.length / 2, `marshal wrote ${differed} of ${names.length} differently`);
      const { stdout } = await run(python, ['-c', CHECK, dir]);
      assert.equal(stdout.trim(), '', 'modules whose settled bytecode loads differently');
    });
  }

  it('leaves data it cannot read alone', () => {
    const header = Buffer.alloc(16);
    assert.equal(canonicalPyc(Buffer.concat([header, Buffer.from('?')])), undefined);
    assert.equal(canonicalPyc(Buffer.concat([header, Buffer.from('N')])), undefined, 'not a code object');
    assert.equal(canonicalPyc(Buffer.concat([header, Buffer.from('NN')])), undefined, 'data after it');
  });
});
