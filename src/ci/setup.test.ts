import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { detectTestCommand, githubRepo, withCiSection } from './setup.js';

describe('what touchdown ci reads from the project', () => {
  it('reads owner/name from GitHub remotes of every form, and nothing from other hosts', () => {
    assert.equal(githubRepo('git@github.com:octo-org/blog.git'), 'octo-org/blog');
    assert.equal(githubRepo('https://github.com/octo-org/blog'), 'octo-org/blog');
    assert.equal(githubRepo('https://github.com/octo-org/my.site.git/'), 'octo-org/my.site');
    assert.equal(githubRepo('ssh://git@github.com/octo-org/blog.git'), 'octo-org/blog');
    assert.equal(githubRepo('git@gitlab.com:octo-org/blog.git'), undefined);
  });

  it('puts ci: at the top for production and under stages for another stage, keeping comments', () => {
    const text = '# the blog\napp: blog # its name\nstages:\n  staging:\n    web: { count: 1 }\n';
    const ci = { provider: 'github' as const, repo: 'octo-org/blog', branch: 'develop' };
    const staging = withCiSection(text, 'staging', ci)!;
    assert.deepEqual(parse(staging).stages.staging, { web: { count: 1 }, ci });
    assert.equal(parse(staging).ci, undefined);
    assert.match(staging, /# the blog\napp: blog # its name/);
    const production = withCiSection(text, 'production', { ...ci, branch: 'main' })!;
    assert.deepEqual(parse(production).ci, { ...ci, branch: 'main' });
    assert.equal(
      withCiSection(production, 'production', { ...ci, branch: 'main' }),
      undefined,
      'nothing to change',
    );
  });

  it('tests with pytest when the project configures it, else with manage.py test beside manage.py', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'touchdown-tests-'));
    assert.deepEqual(await detectTestCommand(dir, 'src'), {
      command: 'python manage.py test',
      dir: 'src',
      why: 'no pytest configuration found',
    });
    await writeFile(join(dir, 'pyproject.toml'), '[project]\nname = "x"\n');
    assert.equal((await detectTestCommand(dir, '.')).command, 'python manage.py test');
    await writeFile(
      join(dir, 'pyproject.toml'),
      '[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "x.settings"\n',
    );
    assert.deepEqual(await detectTestCommand(dir, 'src'), {
      command: 'python -m pytest',
      dir: '',
      why: 'pyproject.toml configures pytest',
    });
  });
});
