// Finding a container builder: the first that answers, and when none does, why each installed one did not.
import assert from 'node:assert/strict';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findBuilder, NoImageBuilder } from './image.js';

/** Runs `body` with PATH holding only these programs: name -> the real program it runs. */
async function withPath<T>(programs: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-path-'));
  for (const [name, target] of Object.entries(programs)) await symlink(target, join(dir, name));
  const saved = process.env.PATH;
  process.env.PATH = dir;
  try {
    return await body();
  } finally {
    process.env.PATH = saved;
  }
}

describe('the image builder', () => {
  it('names the builder that is installed but fails, where none answers', async () => {
    // A docker whose engine is not there fails its `version`; podman and buildah are not installed.
    const error = await withPath({ docker: '/bin/false' }, () => findBuilder()).catch((e: unknown) => e);
    assert.ok(error instanceof NoImageBuilder);
    assert.match(
      error.message,
      /^no container builder answers: docker is installed but `docker version` failed: exit code 1\. Start it/,
    );
    assert.match(error.message, /pass --image <uri>$/);
    assert.doesNotMatch(error.message, /(podman|buildah) is installed/);
  });

  it('says none is installed when none is', async () => {
    const error = await withPath({}, () => findBuilder()).catch((e: unknown) => e);
    assert.ok(error instanceof NoImageBuilder);
    assert.match(
      error.message,
      /^no container builder on this machine \(looked for docker, podman and buildah\)/,
    );
  });

  it('takes the first that answers', async () => {
    assert.equal(
      await withPath({ docker: '/bin/false', buildah: '/bin/true' }, () => findBuilder()),
      'buildah',
    );
  });
});
