// The files `touchdown init` proposes for a detected Django project: a manifest, a production Dockerfile,
// the settings snippet, and the requirements the settings contract needs.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DjangoProject } from './detect.js';

export interface InitPlan {
  files: { path: string; content: string; why: string }[];
  /** The settings module's file, relative to the project root. */
  settingsFile: string;
  /** Packages the project should add to its requirements. */
  missingRequirements: string[];
  /** Lines to add at the end of the settings module. */
  settingsLines: string[];
}

const PYTHONS = ['3.10', '3.11', '3.12', '3.13'];
const GENERIC_FOLDERS = new Set(['src', 'app', 'backend', 'server', 'web', 'django', 'project', 'code']);

export async function planInit(project: DjangoProject): Promise<InitPlan> {
  const app = appName(project);
  const python = PYTHONS.includes(project.python) ? project.python : '3.12';
  const files = [
    {
      path: 'touchdown.yml',
      content: manifest(project, app, python),
      why: 'what to run on AWS and on this machine',
    },
    {
      path: `${project.settingsModule.split('.').slice(0, -1).join('/')}/touchdown_settings.py`,
      content: await settingsSnippet(),
      why: 'reads DATABASE_URL, REDIS_URL, buckets and secrets from the environment',
    },
  ];
  const missing = missingRequirements(project);
  if (!project.requirementsFile) {
    const reqs = ['Django>=5.2,<6.0', ...missing].join('\n');
    files.push({ path: 'requirements.txt', content: `${reqs}\n`, why: 'what the image installs' });
  }
  if (!project.hasDockerfile) {
    files.push({
      path: 'Dockerfile',
      content: dockerfile(project, python),
      why: 'a production image: gunicorn, non-root',
    });
    files.push({
      path: '.dockerignore',
      content: DOCKERIGNORE,
      why: 'keeps the image small and free of local secrets',
    });
  }
  return {
    files,
    settingsFile: `${project.settingsModule.replaceAll('.', '/')}.py`,
    missingRequirements: project.requirementsFile ? missing : [],
    settingsLines: ['from .touchdown_settings import *  # noqa: E402,F401,F403  (keep this the last line)'],
  };
}

/**
 * The manifest's `app`, as AWS names allow: the project's folder (usually the repository's name), or its
 * settings package when the folder has a generic name like src or backend.
 */
export function appName(project: Pick<DjangoProject, 'root' | 'settingsModule'>): string {
  const folder = basename(project.root);
  const pkg = project.settingsModule.split('.').slice(0, -1).join('.');
  const name = (GENERIC_FOLDERS.has(folder.toLowerCase()) ? pkg : folder)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+|-+$/g, '')
    .slice(0, 30);
  return name.length >= 2 ? name : `${name}app`;
}

function manifest(p: DjangoProject, app: string, python: string): string {
  const lines = [
    '# yaml-language-server: $schema=https://touchdown.dev/schema/touchdown.schema.json',
    '# Your Django app on AWS (touchdown deploy) and on this machine (touchdown up).',
    `app: ${app}`,
    'django:',
    `  settings: ${p.settingsModule}`,
    `  wsgi: ${p.wsgi}`,
    `  python: "${python}"`,
  ];
  if (p.requirementsFile && p.requirementsFile !== 'requirements.txt')
    lines.push(`  requirements: ${p.requirementsFile}`);
  lines.push(
    '',
    '# RDS PostgreSQL: db.t4g.micro, 20 GB growing as needed, 7 days of backups, reachable only from the app.',
    'database:',
    '  maxStorage: 100',
  );
  if (p.uses.redis || p.uses.celery)
    lines.push('', '# Valkey (Redis-compatible) for the cache and sessions.', 'cache:', '  engine: valkey');
  else if (p.uses.memcached) lines.push('', 'cache:', '  engine: memcached');
  lines.push('', 'web:', '  count: 2', '  healthCheck: /');
  if (p.uses.celery && p.celeryApp) {
    lines.push(
      '',
      '# Celery workers, with SQS as the broker on AWS.',
      'workers:',
      '  default:',
      `    command: celery -A ${p.celeryApp} worker --loglevel=info`,
    );
  }
  lines.push(
    '',
    '# Secrets your code reads from the environment; set them with `touchdown secrets set NAME`.',
    'secrets: []',
    '',
    '# Uncomment to serve your own domain over HTTPS (the zone must be in Route53):',
    '# domain:',
    `#   name: www.${app}.com`,
    `#   zone: ${app}.com`,
    '',
  );
  return lines.join('\n');
}

function dockerfile(p: DjangoProject, python: string): string {
  const install =
    p.requirementsFile === 'pyproject.toml'
      ? 'COPY pyproject.toml ./\nRUN pip install .'
      : p.requirementsFile === 'Pipfile'
        ? 'COPY Pipfile Pipfile.lock* ./\nRUN pip install pipenv && pipenv install --system --deploy'
        : 'COPY requirements.txt ./\nRUN pip install -r requirements.txt';
  return `# A production image for ${p.settingsModule.split('.')[0]}, written by touchdown init.
# collectstatic runs at release time (touchdown deploy), straight to the static bucket.
FROM python:${python}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
${install}
COPY . .
RUN useradd --create-home --uid 10001 app && chown -R app /app
USER app
EXPOSE 8000
# gthread workers: threads serve requests while others wait on the database.
CMD ["sh", "-c", "exec gunicorn ${p.wsgi} --bind 0.0.0.0:\${PORT:-8000} --workers \${WEB_CONCURRENCY:-2} --threads 4 --worker-class gthread --timeout 30 --graceful-timeout 20 --access-logfile -"]
`;
}

const DOCKERIGNORE = `.git
.venv
venv
__pycache__
*.pyc
.env
.touchdown
node_modules
media
staticfiles
`;

function missingRequirements(p: DjangoProject): string[] {
  const wanted: [string, boolean][] = [
    ['gunicorn', !p.uses.gunicorn],
    ['psycopg[binary]', !p.uses.postgres],
    ['django-storages[s3]', !p.uses.storages],
    ['boto3', !p.dependencies.has('boto3')],
    ['redis', (p.uses.celery || p.uses.redis) && !p.dependencies.has('redis')],
    ['celery[sqs]', p.uses.celery && !p.dependencies.has('kombu')],
  ];
  return wanted.filter(([, missing]) => missing).map(([name]) => name);
}

async function settingsSnippet(): Promise<string> {
  // Shipped beside this module in the source tree and copied next to the build's output.
  const candidates = ['./settings/touchdown_settings.py', '../../src/django/settings/touchdown_settings.py'];
  for (const c of candidates) {
    const text = await readFile(fileURLToPath(new URL(c, import.meta.url)), 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  throw new Error('touchdown_settings.py is missing from this installation of touchdown');
}
