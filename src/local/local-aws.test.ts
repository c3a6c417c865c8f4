// Whether a local AWS answers: a slow one is there (moto on a busy machine), a port nobody listens on is not.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { it } from 'node:test';
import { answers, freePort } from './local-aws.js';

it('counts a local AWS that takes seconds to answer as answering', async () => {
  // Past the 2 s this check once allowed, which stopped up on a loaded machine.
  const slow = createServer((_req, res) => setTimeout(() => res.end('moto'), 2_500));
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  const { port } = slow.address() as { port: number };
  try {
    assert.equal(await answers(`http://localhost:${port}`), true);
  } finally {
    slow.close();
  }
});

// The test's own timeout is far under the check's: waiting for a refused port would fail it.
it('says at once that nothing answers where nothing listens', { timeout: 10_000 }, async () => {
  assert.equal(await answers(`http://localhost:${await freePort()}`), false);
});
