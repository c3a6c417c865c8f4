// The Dockerfile `touchdown init` writes for each kind of project, built for real with podman (no registry
// can be pulled from here, so FROM is served by a local Debian base, scripts/test-base-image.sh), its
// dependency install from PyPI included; then the image's files say what was installed. The layouts are dealt
// to a few test files (test/image-build-*.test.ts), so that the builds run side by side, each file well inside
// the runner's time limit on a busy machine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { detectProject } from '../../src/django/detect.js';
import { buildArgs } from '../../src/django/image.js';
import { touchdownBin } from './cli.js';
import { layoutNames, makeLayout } from './layouts.js';
import { repoRoot } from './paths.js';

const run = promisify(execFile);
const podman = (...args: string[]) =>
  run('podman', ['--storage-driver', 'vfs', ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 900_000 });

/** What the settings contract puts in every image, beside what the project declares. */
const CONTRACT = ['gunicorn', 'django-storages', 'boto3', 'psycopg'];

const distName = (dir: string) =>
  dir
    .replace(/-[^-]+\.dist-info$/, '')
    .toLowerCase()
    .replace(/[_.]+/g, '-');

/** How many files the layouts are dealt to: test/image-build-<n>.test.ts, n from 1. */
export const IMAGE_BUILD_FILES = 3;

/** The generated Dockerfile of every `IMAGE_BUILD_FILES`-th layout from the `n`th (1-based), built and checked. */
export function imageBuilds(n: number): void {
  const names = layoutNames.filter((_, i) => i % IMAGE_BUILD_FILES === n - 1);
  let base = '';
  const built: string[] = [];

  describe(`the generated Dockerfile builds for each kind of project (${names.join(', ')})`, () => {
    if (n === 1)
      it('has a file for each share of the layouts', () => {
        for (let k = 1; k <= IMAGE_BUILD_FILES; k++)
          assert.ok(
            existsSync(join(repoRoot, 'test', `image-build-${k}.test.ts`)),
            `image-build-${k}.test.ts`,
          );
      });
    before(async () => {
      // Installs podman and debootstrap with apt when missing; builds the base once per machine.
      const { stdout } = await run('bash', [join(repoRoot, 'scripts', 'test-base-image.sh')], {
        timeout: 900_000,
      });
      base = stdout.trim().split('\n').at(-1)!;
    });
    after(async () => {
      // Images on the vfs driver are full copies: keep the base, drop what the tests built.
      for (const tag of built) await podman('rmi', '--force', tag).catch(() => undefined);
    });

    for (const name of names) {
      it(name, async () => {
        const layout = await makeLayout(name);
        // --force: the wagtail project ships its own Dockerfile; the generated one is what is tested here.
        await run(process.execPath, [touchdownBin, 'init', '--yes', '--force'], { cwd: layout.root });
        const project = await detectProject(layout.root);
        const tag = `localhost/td-layout-${name.toLowerCase()}:test`;
        built.push(tag);
        await podman(
          ...buildArgs('podman', {
            dockerfile: join(layout.root, 'Dockerfile'),
            context: layout.root,
            tag,
            platform: 'linux/amd64',
            extra: ['--isolation', 'chroot', '--pull=never', '--layers=false', '--from', base],
          }),
        ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
          throw new Error(
            `${name}: the build failed\n${(err.stdout ?? '').slice(-3000)}\n${err.stderr ?? err.message}`,
          );
        });

        const { stdout: mounted } = await podman('image', 'mount', tag);
        try {
          const root = mounted.trim();
          const lib = join(root, 'opt', 'venv', 'lib');
          const sitePackages = join(lib, (await readdir(lib))[0]!, 'site-packages');
          const installed = new Map(
            (await readdir(sitePackages))
              .filter((d) => d.endsWith('.dist-info'))
              .map((d) => [distName(d), /-([^-]+)\.dist-info$/.exec(d)![1]!]),
          );
          const wanted = [...project.declared.packages.keys(), ...CONTRACT];
          if (project.uses.celery) wanted.push('kombu', 'pycurl'); // celery[sqs]: the SQS transport
          for (const pkg of wanted)
            assert.ok(installed.has(pkg), `${name}: ${pkg} is not installed in the image`);
          // The project's code and the settings it runs with are in the image.
          assert.ok(await readFile(join(root, 'app', 'manage.py'), 'utf8'));
          if (name === 'uvPyproject') {
            // uv installed the lockfile's versions, and not the dev group.
            const lock = await readFile(join(layout.root, 'uv.lock'), 'utf8');
            const locked = /name = "django"\nversion = "([^"]+)"/.exec(lock)![1];
            assert.equal(installed.get('django'), locked);
            assert.ok(!installed.has('pytest'), 'the dev group stays out of the image');
          }
        } finally {
          await podman('image', 'unmount', tag);
        }
      });
    }
  });
}
