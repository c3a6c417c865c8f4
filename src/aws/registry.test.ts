// The registry follows from the type files: a type declared in its own file is found, with nothing to add
// anywhere else. Checked against the files' own text, and for kinds declared twice.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { it } from 'node:test';
import { resourceTypes } from './registry.js';

const awsDir = new URL('./', import.meta.url);

it('finds every type its service folders declare', async () => {
  let declared = 0;
  for (const d of (await readdir(awsDir, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    for (const f of await readdir(new URL(`${d.name}/`, awsDir))) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
      const text = await readFile(new URL(`${d.name}/${f}`, awsDir), 'utf8');
      for (const m of text.matchAll(/^export const (\w+) = defineResourceType\(/gm)) {
        declared++;
        const module = (await import(`./${d.name}/${f.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
        assert.ok(
          resourceTypes.includes(module[m[1]!] as never),
          `${d.name}/${f}: ${m[1]} is not registered`,
        );
      }
    }
  }
  assert.ok(declared >= 52, `${declared} types read from the files`);
  assert.equal(resourceTypes.length, declared);
});

it('finds a type added as one new file', async () => {
  const folder = new URL('zz-example/', awsDir);
  await mkdir(folder, { recursive: true });
  try {
    await writeFile(
      new URL('thing.ts', folder),
      [
        "import { defineResourceType } from '../../core/resource.js';",
        'export const Thing = defineResourceType({',
        "  kind: 'zz-thing', noun: 'thing', fields: {}, outputs: [], defaultOutput: 'id' as never,",
        "  identity: { by: 'address' },",
        '  find: async () => [], create: async () => { throw new Error(); }, delete: async () => {},',
        '});',
      ].join('\n'),
    );
    // A fresh copy of the registry module (the query makes it another module) reads the folders again.
    const fresh = (await import(`./registry.js?probe=${Date.now()}`)) as typeof import('./registry.js');
    assert.ok(
      fresh.resourceTypes.some((t) => t.kind === 'zz-thing'),
      'the new type is registered',
    );
    assert.equal(fresh.resourceTypes.length, resourceTypes.length + 1);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

it('gives each type its own kind (the address prefix written into AWS tags)', () => {
  const kinds = resourceTypes.map((t) => t.kind);
  assert.deepEqual(
    kinds.filter((k, i) => kinds.indexOf(k) !== i),
    [],
  );
});
