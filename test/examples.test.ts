// The example apps' own Django tests, against real PostgreSQL and Redis.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot, venvPython } from './support/paths.js';
import { ensureServices } from './support/services.js';

const run = promisify(execFile);

describe('example apps', () => {
  before(() => ensureServices('postgres', 'redis'));

  for (const [example, db] of [
    ['xkcd', 14],
    ['blog', 13],
  ] as const) {
    it(`${example} passes its own Django tests on PostgreSQL and Redis`, async () => {
      const { stderr } = await run(venvPython, ['manage.py', 'test', '--noinput', '-v', '1'], {
        cwd: join(repoRoot, 'examples', example),
        env: {
          ...process.env,
          DATABASE_URL: `postgres://postgres@localhost:5432/${example}_tests`,
          REDIS_URL: `redis://localhost:6379/${db}`,
          // Uploads during tests go to a temporary folder, not into the example's source tree.
          DJANGO_MEDIA_ROOT: await mkdtemp(join(tmpdir(), `${example}-media-`)),
        },
      });
      assert.match(stderr, /Ran [1-9]\d* tests? in .*\n\nOK/);
    });
  }

  it('ships the settings snippet touchdown init writes, unchanged', async () => {
    const snippet = await readFile(
      join(repoRoot, 'src', 'django', 'settings', 'touchdown_settings.py'),
      'utf8',
    );
    for (const [example, project] of [
      ['xkcd', 'xkcd_app'],
      ['blog', 'blog'],
    ] as const) {
      const copy = await readFile(
        join(repoRoot, 'examples', example, project, 'touchdown_settings.py'),
        'utf8',
      );
      assert.equal(copy, snippet, `examples/${example} has an outdated touchdown_settings.py: copy it again`);
    }
  });
});
