// The production Dockerfile `touchdown init` writes: it copies every file the project's install reads
// (-r/-c includes, pyproject with its lockfile, Pipfile.lock) and installs with the project's own tool.
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import type { DjangoProject } from './detect.js';

/** Tools that install from a lockfile live in their own virtualenv, so an exact sync of the app's leaves them be. */
const TOOLS = '/opt/tools/bin';

/**
 * pip's, uv's and poetry's download caches (under root's ~/.cache) kept by the builder between builds and out of
 * the image: a rebuild after one requirement changed downloads that one. Docker (BuildKit) and podman/buildah
 * support it: https://docs.docker.com/build/cache/optimize/#use-cache-mounts
 */
const CACHED = 'RUN --mount=type=cache,target=/root/.cache';

function copyLines(files: string[]): string[] {
  const byFolder = new Map<string, string[]>();
  for (const file of files) {
    const folder = dirname(file) === '.' ? './' : `${posix.normalize(dirname(file))}/`;
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), file]);
  }
  return [...byFolder].map(([folder, list]) => `COPY ${list.join(' ')} ${folder}`);
}

const quote = (spec: string) => (/^[\w.-]+$/.test(spec) ? spec : `"${spec}"`);

/** The RUN lines that install what the project declares, then what the settings contract adds. */
function installLines(p: DjangoProject, extra: string[]): string[] {
  const d = p.declared;
  const tools = (pkgs: string) => `python -m venv /opt/tools && ${TOOLS}/pip install ${pkgs}`;
  const fromPyproject =
    // PEP 621 dependencies without a lockfile: install the list itself (the project need not be a package).
    `python -c "import tomllib; print('\\\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt && pip install -r /tmp/requirements.txt`;
  const lines: string[] = [];
  switch (d.installer) {
    case 'uv':
      // The image's CA store, as pip uses (uv otherwise trusts only its bundled roots): a company's proxy CA
      // added to the image works for both. UV_NATIVE_TLS is its older name.
      lines.push(
        `${CACHED} ${tools('"uv>=0.5,<1"')} \\\n && UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_SYSTEM_CERTS=1 UV_NATIVE_TLS=1 ${TOOLS}/uv sync --locked --no-dev --no-install-project --inexact`,
      );
      break;
    case 'poetry':
      lines.push(
        `${CACHED} ${tools('"poetry>=2,<3"')} \\\n && POETRY_VIRTUALENVS_CREATE=false ${TOOLS}/poetry install --only main --no-root --no-interaction`,
      );
      break;
    case 'pdm':
      lines.push(
        d.files.includes('pdm.lock')
          ? `${CACHED} ${tools('"pdm>=2,<3"')} \\\n && ${TOOLS}/pdm export --prod --no-hashes -o /tmp/requirements.txt && pip install -r /tmp/requirements.txt`
          : `${CACHED} ${fromPyproject}`,
      );
      break;
    case 'pipenv':
      lines.push(
        d.files.includes('Pipfile.lock')
          ? `${CACHED} ${tools('pipenv')} \\\n && ${TOOLS}/pipenv requirements > /tmp/requirements.txt && pip install -r /tmp/requirements.txt`
          : `${CACHED} ${tools('pipenv')} \\\n && PIPENV_SKIP_LOCK=1 ${TOOLS}/pipenv install --system --skip-lock`,
      );
      break;
    case 'pip':
      lines.push(
        d.main === 'pyproject.toml' ? `${CACHED} ${fromPyproject}` : `${CACHED} pip install -r ${d.main}`,
      );
      break;
    default:
      break;
  }
  if (extra.length > 0)
    lines.push(
      `# What Touchdown's settings need beyond the project's own list.\n${CACHED} pip install ${extra.map(quote).join(' ')}`,
    );
  return lines;
}

/**
 * A production image: the dependency layer first (rebuilt only when a declared file changes), the code,
 * a non-root user, gunicorn. `extra` are packages the settings contract needs that init could not add to
 * the project's own files (a lockfile is the project's tool's to change).
 */
export function dockerfile(p: DjangoProject, app: string, python: string, extra: string[] = []): string {
  return `# A production image for ${app}, written by touchdown init.
# collectstatic runs at release time (touchdown deploy), straight to the static bucket.
FROM python:${python}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 UV_LINK_MODE=copy \\
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app
${[...copyLines(p.declared.files), ...installLines(p, extra)].join('\n')}
COPY . .${relative(p.home, p.root) ? `\nWORKDIR /app/${relative(p.home, p.root).split(sep).join('/')}` : ''}
RUN useradd --create-home --uid 10001 app && chown -R app /app
USER app
ENV DJANGO_SETTINGS_MODULE=${p.settingsModule}
EXPOSE 8000
${
  p.wsgi
    ? '# gthread workers: threads serve requests while others wait on the database.'
    : '# An ASGI application: uvicorn workers under gunicorn, which restarts them and stops them gracefully.'
}
CMD ["sh", "-c", "${serveCommand(p)}"]
`;
}

/** The web process: gunicorn on $PORT (8000, where the load balancer sends), gthread or uvicorn workers. */
export function serveCommand(p: Pick<DjangoProject, 'wsgi' | 'asgi'>): string {
  const workers = p.wsgi
    ? '--threads 4 --worker-class gthread'
    : '--worker-class uvicorn_worker.UvicornWorker';
  return `exec gunicorn ${p.wsgi ?? p.asgi} --bind 0.0.0.0:\${PORT:-8000} --workers \${WEB_CONCURRENCY:-2} ${workers} --timeout 30 --graceful-timeout 20 --access-logfile -`;
}

/** The last stage's instruction `word` (CMD, ENTRYPOINT), its arguments as written. */
function lastInstruction(text: string, word: string): string | undefined {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stage = lines.slice(lines.findLastIndex((l) => /^\s*FROM\s/i.test(l)));
  return stage
    .findLast((l) => new RegExp(`^\\s*${word}\\s`, 'i').test(l))
    ?.trim()
    .replace(/^\w+\s+/, '');
}

/**
 * A project's own Dockerfile whose command serves elsewhere than port 8000 (`uwsgi --http=0.0.0.0:80`): its last
 * stage's CMD, when it names no 8000 and no $PORT and no ENTRYPOINT wraps it (a command replaces CMD only).
 */
export function cmdServingElsewhere(text: string): string | undefined {
  const cmd = lastInstruction(text, 'CMD');
  if (!cmd || lastInstruction(text, 'ENTRYPOINT') || /\b8000\b|\bPORT\b/.test(cmd)) return undefined;
  // Only a command that serves HTTP: a port, a bind address or a known server.
  return /:\d{2,5}\b|--bind|--http|gunicorn|uwsgi|uvicorn|daphne|granian|runserver/.test(cmd)
    ? cmd
    : undefined;
}

/**
 * The ENTRYPOINT of a project's own Dockerfile when Touchdown's commands would not run through it: ECS replaces
 * CMD only, so migrate, collectstatic and the web command reach the entrypoint as arguments, and a script that
 * does not run them (`exec "$@"`) starts its own server instead (djangogirls: migrate, then runserver), or one
 * not in the repository (s6's /init) cannot be read. https://docs.docker.com/reference/dockerfile/#entrypoint
 */
export async function entrypointIgnoringCommand(home: string, text: string): Promise<string | undefined> {
  const entrypoint = lastInstruction(text, 'ENTRYPOINT');
  if (!entrypoint) return undefined;
  const first = entrypoint.startsWith('[')
    ? String(JSON.parse(entrypoint)[0] ?? '')
    : entrypoint.split(/\s+/)[0]!;
  const script = await findByName(home, basename(first), 3);
  const body = script ? await readFile(script, 'utf8') : '';
  return /"\$@"|"\$\{@\}"|\$\*/.test(body) ? undefined : entrypoint;
}

async function findByName(dir: string, name: string, depth: number): Promise<string | undefined> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const here = entries.find((e) => e.isFile() && e.name === name);
  if (here) return join(dir, here.name);
  if (depth === 0) return undefined;
  for (const e of entries.filter((e) => e.isDirectory() && !/^(\.|node_modules$)/.test(e.name))) {
    const found = await findByName(join(dir, e.name), name, depth - 1);
    if (found) return found;
  }
  return undefined;
}
