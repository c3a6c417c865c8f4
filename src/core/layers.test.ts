// The engine knows no cloud: nothing in core/, its tests included, imports from aws/, so tags and error hints
// reach it through the clients in its context (tests that need AWS's types live with them or in test/).
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../../test/support/paths.js';

it('core/ imports nothing from aws/', async () => {
  // The sources, also when this test runs compiled (scripts/test.sh runs the suite from .build/).
  const dir = join(repoRoot, 'src', 'core');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('engine.ts'), 'the engine is among the files read');
  for (const f of files) {
    const text = await readFile(join(dir, f), 'utf8');
    assert.doesNotMatch(text, /from '\.\.\/aws\//, `${f} imports from aws/`);
  }
});
