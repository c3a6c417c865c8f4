// The registry follows from the type files: a type declared in its own file is found, with nothing to add
// anywhere else. Checked against the files' own text, and for kinds declared twice. The registry reads its
// folders when loaded from the sources, so the first two cases load it there, in a Node of their own (the suite
// itself runs bundled, where the bundler has already listed the files).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../test/support/paths.js';
import { resourceTypes } from './registry.js';

const awsDir = join(repoRoot, 'src', 'aws');

/** Runs `code` (an ES module) in a Node that loads the TypeScript sources, and parses what it prints. */
async function inSources<T>(code: string): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '--eval', code],
    { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' } },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

it('finds every type its service folders declare', async () => {
  const found = await inSources<{ declared: number; missing: string[]; registered: number }>(`
    import { readdirSync, readFileSync } from 'node:fs';
    import { resourceTypes } from './src/aws/registry.ts';
    let declared = 0;
    const missing = [];
    for (const d of readdirSync('src/aws', { withFileTypes: true }).filter((e) => e.isDirectory())) {
      for (const f of readdirSync('src/aws/' + d.name)) {
        if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
        const text = readFileSync('src/aws/' + d.name + '/' + f, 'utf8');
        for (const m of text.matchAll(/^export const (\\w+) = defineResourceType\\(/gm)) {
          declared++;
          const module = await import('./src/aws/' + d.name + '/' + f);
          if (!resourceTypes.includes(module[m[1]])) missing.push(d.name + '/' + f + ': ' + m[1]);
        }
      }
    }
    console.log(JSON.stringify({ declared, missing, registered: resourceTypes.length }));
  `);
  assert.deepEqual(found.missing, [], 'each is registered');
  assert.ok(found.declared >= 52, `${found.declared} types read from the files`);
  assert.equal(found.registered, found.declared);
  assert.equal(resourceTypes.length, found.declared, 'the bundled registry lists the same types');
});

it('finds a type added as one new file', async () => {
  const folder = join(awsDir, 'zz-example');
  await mkdir(folder, { recursive: true });
  try {
    await writeFile(
      join(folder, 'thing.ts'),
      [
        "import { defineResourceType } from '../../core/resource.js';",
        'export const Thing = defineResourceType({',
        "  kind: 'zz-thing', noun: 'thing', fields: {}, outputs: [], defaultOutput: 'id' as never,",
        "  identity: { by: 'address' },",
        '  find: async () => [], create: async () => { throw new Error(); }, delete: async () => {},',
        '});',
      ].join('\n'),
    );
    const kinds = await inSources<string[]>(`
      import { resourceTypes } from './src/aws/registry.ts';
      console.log(JSON.stringify(resourceTypes.map((t) => t.kind)));
    `);
    assert.ok(kinds.includes('zz-thing'), 'the new type is registered');
    assert.equal(kinds.length, resourceTypes.length + 1);
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
