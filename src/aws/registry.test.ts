// The registry follows from the type files: a new type is one file (and its test), then
// `npx tsx scripts/build-registry.ts`. This fails while the list is out of date, and on a kind declared twice.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { registrySource } from '../../scripts/build-registry.js';
import { resourceTypes } from './registry.js';

it('lists every resource type file, as scripts/build-registry.ts writes it', async () => {
  const written = await readFile(new URL('./registry.ts', import.meta.url), 'utf8');
  assert.equal(written, await registrySource(), 'run `npx tsx scripts/build-registry.ts`');
  assert.ok(resourceTypes.length >= 52, `${resourceTypes.length} types listed`);
});

it('gives each type its own kind (the address prefix written into AWS tags)', () => {
  const kinds = resourceTypes.map((t) => t.kind);
  assert.deepEqual(
    kinds.filter((k, i) => kinds.indexOf(k) !== i),
    [],
  );
});
