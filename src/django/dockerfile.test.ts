// The generated Dockerfile for each way a project declares its dependencies, and the image's CPU.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Declared } from './detect/requirements.js';
import type { DjangoProject } from './detect.js';
import { cmdServingElsewhere, dockerfile } from './dockerfile.js';
import { imagePlatform } from './image.js';

const project = (declared: Partial<Declared>, root = '/r', home = '/r'): DjangoProject =>
  ({
    root,
    home,
    settingsModule: 'shop.settings.production',
    wsgi: 'shop.wsgi:application',
    declared: {
      installer: 'pip',
      main: 'requirements.txt',
      files: [],
      packages: new Map(),
      warnings: [],
      ...declared,
    },
  }) as DjangoProject;

describe('generated Dockerfile', () => {
  it('copies every included requirement file into its own folder before installing', () => {
    const text = dockerfile(
      project({
        files: ['requirements.txt', 'requirements/prod.txt', 'requirements/base.txt', 'constraints.txt'],
      }),
      'shop',
      '3.13',
    );
    assert.match(text, /^FROM python:3\.13-slim$/m);
    assert.match(text, /^COPY requirements\.txt constraints\.txt \.\/$/m);
    assert.match(text, /^COPY requirements\/prod\.txt requirements\/base\.txt requirements\/$/m);
    const install = 'RUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt';
    assert.ok(
      text.includes(install) && text.indexOf(install) < text.indexOf('COPY . .'),
      'dependencies first',
    );
    // The download cache stays with the builder: not turned off, not in the image.
    assert.doesNotMatch(text, /PIP_NO_CACHE_DIR/);
    assert.match(text, /^ENV DJANGO_SETTINGS_MODULE=shop\.settings\.production$/m);
  });

  it('installs from the lockfile with its own tool, and what the contract adds apart', () => {
    const uv = dockerfile(
      project({ installer: 'uv', main: 'pyproject.toml', files: ['pyproject.toml', 'uv.lock'] }),
      'shop',
      '3.12',
      ['boto3', 'django-storages[s3]'],
    );
    assert.match(uv, /uv sync --locked --no-dev --no-install-project --inexact/);
    assert.match(
      uv,
      /^RUN --mount=type=cache,target=\/root\/\.cache pip install boto3 "django-storages\[s3\]"$/m,
    );
    assert.match(uv, /^RUN --mount=type=cache,target=\/root\/\.cache python -m venv \/opt\/tools /m);
    const poetry = dockerfile(
      project({ installer: 'poetry', main: 'pyproject.toml', files: ['pyproject.toml', 'poetry.lock'] }),
      'shop',
      '3.12',
    );
    assert.match(poetry, /poetry install --only main --no-root/);
    const pipenv = dockerfile(
      project({ installer: 'pipenv', main: 'Pipfile', files: ['Pipfile', 'Pipfile.lock'] }),
      'shop',
      '3.12',
    );
    assert.match(
      pipenv,
      /pipenv requirements > \/tmp\/requirements\.txt && pip install -r \/tmp\/requirements\.txt/,
    );
    const pep621 = dockerfile(
      project({ installer: 'pip', main: 'pyproject.toml', files: ['pyproject.toml'] }),
      'shop',
      '3.12',
    );
    assert.match(pep621, /tomllib.*\['project'\]\['dependencies'\]/);
  });

  it("runs from manage.py's folder when the dependencies sit above it", () => {
    const text = dockerfile(project({ files: ['requirements.txt'] }, '/r/netbox', '/r'), 'netbox', '3.12');
    assert.match(text, /^COPY \. \.\nWORKDIR \/app\/netbox$/m);
  });
});

describe('image platform', () => {
  it('arm64 for Graviton instance types, amd64 for x86 ones and for Fargate', () => {
    const web = (compute: 'ec2' | 'fargate', instanceType: string) =>
      imagePlatform({ web: { compute, instanceType } } as Parameters<typeof imagePlatform>[0]);
    assert.equal(web('ec2', 't4g.small'), 'linux/arm64');
    assert.equal(web('ec2', 'c7gn.large'), 'linux/arm64');
    assert.equal(web('ec2', 't3.small'), 'linux/amd64');
    assert.equal(web('fargate', 't4g.small'), 'linux/amd64');
    const fargate = (architecture?: 'arm64' | 'x86_64') =>
      imagePlatform({ web: { compute: 'fargate', architecture } } as Parameters<typeof imagePlatform>[0]);
    assert.equal(fargate('arm64'), 'linux/arm64', 'web.architecture: arm64 on Fargate');
    assert.equal(fargate('x86_64'), 'linux/amd64');
    assert.equal(fargate(), 'linux/amd64');
  });
});

describe("a project's own Dockerfile", () => {
  it('is told apart when its command serves elsewhere than port 8000', () => {
    const uwsgi = 'FROM python:3.11\nCOPY . .\nCMD uwsgi --http=0.0.0.0:80 --module=backend.wsgi\n';
    assert.equal(cmdServingElsewhere(uwsgi), 'uwsgi --http=0.0.0.0:80 --module=backend.wsgi');
    // On 8000 or $PORT, behind an ENTRYPOINT (a command would only be its arguments), or not a server: left alone.
    assert.equal(cmdServingElsewhere('FROM python\nCMD gunicorn app.wsgi -b 0.0.0.0:8000\n'), undefined);
    assert.equal(
      cmdServingElsewhere('FROM python\nCMD ["sh", "-c", "gunicorn x --bind :$PORT"]\n'),
      undefined,
    );
    assert.equal(cmdServingElsewhere('FROM python\nENTRYPOINT ["/init"]\nCMD uwsgi --http :80\n'), undefined);
    assert.equal(cmdServingElsewhere('FROM python\nCMD ["python", "worker.py"]\n'), undefined);
    // Only the last stage is the image.
    assert.equal(
      cmdServingElsewhere('FROM a\nCMD uwsgi --http :80\nFROM b\nCMD gunicorn x:8000\n'),
      undefined,
    );
  });
});
