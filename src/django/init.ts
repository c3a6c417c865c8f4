// The files `touchdown init` proposes for a detected Django project: a manifest, a production Dockerfile,
// the settings snippet, and the requirements the settings contract needs.
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOUCHDOWN_NAMES } from './detect/environment.js';
import { declares } from './detect/requirements.js';
import type { DjangoProject } from './detect.js';
import { cmdServingElsewhere, dockerfile, entrypointIgnoringCommand, serveCommand } from './dockerfile.js';

export interface InitPlan {
  files: { path: string; content: string; why: string }[];
  /** Every path in this plan is relative to project.home; the settings module's file: */
  settingsFile: string;
  /** Packages the project should add to its requirements. */
  missingRequirements: string[];
  /** The requirements file init may add them to (a plain pip requirements file), if any. */
  requirementsTarget: string | undefined;
  /** Lines to add at the end of the settings module. */
  settingsLines: string[];
  /** What init found, as rows of a short table: what, value, why. */
  found: [string, string, string][];
  /** Things the user must look at: each says what and how to fix it. */
  warnings: string[];
}

const GENERIC_FOLDERS = new Set(['src', 'app', 'backend', 'server', 'web', 'django', 'project', 'code']);
const SECRET_LIKE = /SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE/;

export async function planInit(project: DjangoProject): Promise<InitPlan> {
  const app = appName(project);
  const python = project.python;
  const missing = missingRequirements(project);
  const d = project.declared;
  // Requirement files are the project's to extend; a lockfile is its tool's (uv add, poetry add).
  const requirementsTarget = d.installer === 'pip' && d.main !== 'pyproject.toml' ? d.main : undefined;
  const { secrets, warnings, notes, secretKeyName } = environmentWiring(project);
  // manage.py's folder as seen from home ('' when they are one).
  const djangoDir = relative(project.home, project.root);
  const settingsFile = join(djangoDir, project.settingsFile);
  // The project's own Dockerfile is kept: its command must serve where the load balancer sends (port 8000).
  const own = (await readFile(join(project.home, 'Dockerfile'), 'utf8').catch(() => undefined)) ?? '';
  const ownCmd = cmdServingElsewhere(own);
  // One whose ENTRYPOINT would swallow Touchdown's commands: Touchdown's own image goes beside it.
  const ownEntrypoint = await entrypointIgnoringCommand(project.home, own);
  const dockerfilePath = ownEntrypoint ? 'Dockerfile.touchdown' : 'Dockerfile';
  const files = [
    {
      path: 'touchdown.yml',
      content: manifest(project, app, python, { secrets, notes, secretKeyName, ownCmd, ownEntrypoint }),
      why: 'what to run on AWS and on this machine',
    },
    {
      path: join(dirname(settingsFile), 'touchdown_settings.py'),
      content: await settingsSnippet(),
      why: 'reads DATABASE_URL, REDIS_URL, buckets and secrets from the environment',
    },
  ];
  if (!d.main) {
    const reqs = ['Django>=5.2,<6.0', ...missing].join('\n');
    files.push({ path: 'requirements.txt', content: `${reqs}\n`, why: 'what the image installs' });
  }
  files.push({
    path: dockerfilePath,
    content: dockerfile(
      {
        ...project,
        declared: d.main
          ? d
          : { ...d, installer: 'pip', main: 'requirements.txt', files: ['requirements.txt'] },
      },
      app,
      python,
      d.main && !requirementsTarget ? missing : [],
    ),
    why: `a production image: installs ${d.files.length ? d.files.join(', ') : 'requirements.txt'}, gunicorn, non-root`,
  });
  files.push({
    path: '.dockerignore',
    content: DOCKERIGNORE,
    why: 'keeps the image small and free of local secrets',
  });
  if (project.declared.warnings.length) warnings.push(...project.declared.warnings);
  const oldDjango = await djangoBefore42(project);
  if (oldDjango) warnings.push(oldDjango);
  if (project.health.why.startsWith('no route')) warnings.push(project.health.why);
  if (/set django\.settings/.test(project.settingsWhy.why))
    warnings.push(`settings: ${project.settingsWhy.why}`);
  return {
    files,
    settingsFile,
    missingRequirements: d.main ? missing : [],
    requirementsTarget,
    // A top-level settings module (oscar's sandbox: `settings` beside manage.py) has no package to import from.
    settingsLines: [
      `from ${project.settingsModule.includes('.') ? '.' : ''}touchdown_settings import *  # noqa: E402,F401,F403  (keep this the last line)`,
    ],
    found: [
      ['settings', project.settingsModule, project.settingsWhy.why],
      project.wsgi ? ['WSGI', project.wsgi, project.wsgiWhy] : ['ASGI', project.asgi!, project.wsgiWhy],
      ['Python', python, project.pythonWhy],
      [
        'dependencies',
        d.main
          ? `${d.files.join(', ')}${d.installer && d.installer !== 'pip' ? ` (${d.installer})` : ''}`
          : 'none declared',
        d.main ? `${d.packages.size} packages` : 'requirements.txt written',
      ],
      ...(project.celery
        ? [
            ['Celery', `celery -A ${project.celery.app}`, `Celery( in ${project.celery.file}`] as [
              string,
              string,
              string,
            ],
          ]
        : []),
      ['health check', project.health.path, project.health.why],
      ...(ownEntrypoint
        ? [
            [
              'image',
              'Dockerfile.touchdown',
              `the Dockerfile's ENTRYPOINT does not run the commands it is given: ${ownEntrypoint}`,
            ] as [string, string, string],
          ]
        : []),
      ...(ownCmd
        ? [
            ['web command', 'gunicorn on port 8000', `the Dockerfile's CMD serves elsewhere: ${ownCmd}`] as [
              string,
              string,
              string,
            ],
          ]
        : []),
      ...(project.environment.length
        ? [
            ['environment', namesList(project.environment.map((e) => e.name)), 'read by the settings'] as [
              string,
              string,
              string,
            ],
          ]
        : []),
    ],
    warnings,
  };
}

/** At most six names, then how many more. */
const namesList = (names: string[]) =>
  names.length > 6 ? `${names.slice(0, 6).join(', ')} and ${names.length - 6} more` : names.join(', ');

/**
 * How the names the settings read meet Touchdown's values. touchdown_settings runs last and sets SECRET_KEY,
 * DATABASES["default"], CACHES… from Touchdown's own names, so a read with a default needs nothing; a read
 * without one fails at import unless the process has that very name.
 */
function environmentWiring(p: DjangoProject): Wiring & { warnings: string[] } {
  const provided = new Set(Object.values(TOUCHDOWN_NAMES).flat());
  const secrets: string[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  let secretKeyName: string | undefined;
  for (const read of p.environment) {
    if (provided.has(read.name)) continue;
    if (read.role === 'secret-key' && !secretKeyName) {
      // SECRET_KEY = os.environ["SECRET_KEY"] fails at import before touchdown_settings runs: the generated key
      // must reach the process under the project's own name too.
      secretKeyName = read.name;
      notes.push(
        `${read.name} (${read.where}): the key Touchdown generates, under this name too (secretKeyName)`,
      );
      continue;
    }
    const by =
      read.role === 'other'
        ? undefined
        : read.role === 'hosts'
          ? /CSRF/.test(read.name)
            ? 'CSRF_TRUSTED_ORIGINS'
            : 'ALLOWED_HOSTS'
          : TOUCHDOWN_NAMES[read.role].join(' or ');
    if (!read.required) {
      if (by)
        notes.push(
          `${read.name} (${read.where}): touchdown_settings sets the same setting from ${by}, after it`,
        );
      continue;
    }
    if (read.role === 'secret-key' || (read.role === 'other' && SECRET_LIKE.test(read.name))) {
      secrets.push(read.name);
      notes.push(`${read.name} (${read.where}) is required: set it with touchdown secrets set ${read.name}`);
    } else {
      warnings.push(
        `${read.where} reads ${read.name} without a default, so the settings fail to load where it is unset` +
          (by
            ? `; Touchdown provides this as ${by}: give ${read.name} a default (touchdown_settings sets the setting after it)`
            : `: add ${read.name} to environment in touchdown.yml`),
      );
    }
  }
  return { secrets, warnings, notes, secretKeyName };
}

/** What the project's own Dockerfile does that Touchdown's processes cannot live with. */
interface Own {
  ownCmd?: string | undefined;
  ownEntrypoint?: string | undefined;
}

interface Wiring {
  secrets: string[];
  notes: string[];
  secretKeyName?: string;
}

/**
 * The manifest's `app`, as AWS names allow: the project's folder (usually the repository's name), or its
 * settings package when the folder has a generic name like src or backend.
 */
export function appName(project: Pick<DjangoProject, 'root' | 'settingsModule'>): string {
  const folder = basename(project.root);
  const pkg = project.settingsModule.split('.')[0]!;
  const name = (GENERIC_FOLDERS.has(folder.toLowerCase()) ? pkg : folder)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+|-+$/g, '')
    // Stack names are `<app>-<stage>` in at most 40 characters; "-production" leaves 29.
    .slice(0, 29)
    .replace(/-+$/, '');
  return name.length >= 2 ? name : `${name}app`;
}

function manifest(
  p: DjangoProject,
  app: string,
  python: string,
  { secrets, notes, secretKeyName, ownCmd, ownEntrypoint }: Wiring & Own,
): string {
  const lines = [
    '# yaml-language-server: $schema=https://touchdown.dev/schema/touchdown.schema.json',
    '# Your Django app on AWS (touchdown deploy) and on this machine (touchdown up).',
    `app: ${app}`,
    'django:',
    `  # ${p.settingsWhy.why}`,
    `  settings: ${p.settingsModule}`,
    p.wsgi
      ? `  wsgi: ${p.wsgi}`
      : `  # no WSGI application: gunicorn serves this one with uvicorn workers\n  asgi: ${p.asgi}`,
    `  # ${p.pythonWhy}`,
    `  python: "${python}"`,
  ];
  if (ownEntrypoint)
    lines.push(
      `  # your Dockerfile's ENTRYPOINT (${ownEntrypoint.slice(0, 50)}) does not run the commands it is given (migrate, gunicorn):`,
      '  dockerfile: Dockerfile.touchdown',
    );
  if (secretKeyName)
    lines.push(
      `  # your settings read the secret key from ${secretKeyName}`,
      `  secretKeyName: ${secretKeyName}`,
    );
  const djangoDir = relative(p.home, p.root);
  if (djangoDir)
    lines.splice(
      4,
      0,
      '  # manage.py is here; the image is built from the folder of this file',
      `  project: ${djangoDir}`,
    );
  // django.requirements is read from the Django project's folder.
  const requirements = p.requirementsFile && relative(p.root, join(p.home, p.requirementsFile));
  if (requirements && requirements !== 'requirements.txt') lines.push(`  requirements: ${requirements}`);
  lines.push(
    '',
    '# RDS PostgreSQL: db.t4g.micro, 20 GB growing as needed, 7 days of backups, reachable only from the app.',
    'database:',
    '  maxStorage: 100',
  );
  if (p.uses.redis || p.uses.celery)
    lines.push('', '# Valkey (Redis-compatible) for the cache and sessions.', 'cache:', '  engine: valkey');
  else if (p.uses.memcached) lines.push('', 'cache:', '  engine: memcached');
  lines.push('', 'web:', '  count: 2', `  # ${p.health.why}`, `  healthCheck: ${p.health.path}`);
  if (ownCmd)
    lines.push(
      `  # your Dockerfile's CMD (${ownCmd.slice(0, 60)}) does not serve on port 8000, where the load balancer sends:`,
      `  command: 'sh -c "${serveCommand(p)}"'`,
    );
  if (p.uses.celery && p.celeryApp) {
    lines.push(
      '',
      '# Celery workers, with SQS as the broker on AWS.',
      'workers:',
      '  default:',
      `    command: celery -A ${p.celeryApp} worker --loglevel=info`,
    );
  }
  // `{% compress %}` with COMPRESS_OFFLINE reads a manifest only `manage.py compress` builds: without it every
  // such page answers 500 (OfflineGenerationError). The settings snippet sends it to the static bucket.
  // https://django-compressor.readthedocs.io/en/stable/usage.html#offline-compression
  if (p.compressOffline && p.compressOffline !== 'False') {
    const literal = p.compressOffline === 'True';
    lines.push(
      '',
      literal
        ? "# Your settings turn on django-compressor's COMPRESS_OFFLINE: each release builds its manifest."
        : `# Your settings set django-compressor's COMPRESS_OFFLINE = ${p.compressOffline}: each release builds its manifest (--force: whatever that gives).`,
      'release:',
      `  commands: ["${literal ? 'compress' : 'compress --force'}"]`,
    );
  }
  if (notes.length) {
    lines.push('', '# Names your settings read from the environment, and how Touchdown meets them:');
    for (const note of notes) lines.push(`#   ${note}`);
  }
  lines.push(
    '',
    '# Secrets your code reads from the environment; set them with `touchdown secrets set NAME`.',
    `secrets: [${secrets.join(', ')}]`,
    '',
    '# Uncomment to serve your own domain over HTTPS (the zone must be in Route53):',
    '# domain:',
    `#   name: www.${app}.com`,
    `#   zone: ${app}.com`,
    '',
  );
  return lines.join('\n');
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

/** What the settings contract needs that the project does not declare (the SQS transport included). */
export function missingRequirements(p: DjangoProject): string[] {
  const has = (name: string, extra?: string) => declares(p.declared, name, extra);
  const wanted: [string, boolean][] = [
    ['gunicorn', !p.uses.gunicorn],
    // gunicorn's worker class for an ASGI application.
    ['uvicorn-worker', !p.wsgi && !has('uvicorn-worker')],
    ['psycopg[binary]', !p.uses.postgres],
    ['django-storages[s3]', !p.uses.storages],
    ['boto3', !has('boto3')],
    [
      'redis',
      (p.uses.celery || p.uses.redis) && !has('redis') && !has('django-redis') && !has('celery', 'redis'),
    ],
    // Celery reaches SQS through kombu's sqs extra (boto3, and pycurl or from kombu 5.5 on urllib3).
    ['celery[sqs]', p.uses.celery && !has('celery', 'sqs') && !has('kombu', 'sqs')],
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

/**
 * A requirement file pinning Django before 4.2 (djangogirls and taiga-back pin 3.2): STORAGES, which puts the
 * files in the buckets, and the Redis cache backend are 4.2's and 4.0's, so the contract would be half met.
 */
async function djangoBefore42(p: DjangoProject): Promise<string | undefined> {
  for (const file of p.declared.files) {
    const text = (await readFile(join(p.home, file), 'utf8').catch(() => '')) ?? '';
    const pin = /^django\s*(?:==|~=|<=?)\s*(\d+)\.(\d+)/im.exec(text);
    if (pin && (Number(pin[1]) < 4 || (Number(pin[1]) === 4 && Number(pin[2]) < 2)))
      return `${file} pins Django ${pin[1]}.${pin[2]}: Touchdown's settings need Django 4.2 or newer (STORAGES puts static and media files in the buckets; the Redis cache backend is 4.0's); upgrade Django, or they stay on each task's own disk`;
  }
  return undefined;
}
