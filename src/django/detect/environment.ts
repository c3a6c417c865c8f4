// The names the project's settings read from the environment (os.environ, os.getenv, django-environ,
// python-decouple), and which of Touchdown's values each one stands for.
import { relative } from 'node:path';
import { lineAt } from './files.js';

export type Role = 'secret-key' | 'database' | 'cache' | 'broker' | 'hosts' | 'debug' | 'other';

export interface EnvironmentRead {
  name: string;
  /** The settings fail to load without it (no default given). */
  required: boolean;
  role: Role;
  /** file:line of the first read. */
  where: string;
}

/** What Touchdown provides to every process, by role. */
export const TOUCHDOWN_NAMES: Record<Exclude<Role, 'other'>, string[]> = {
  'secret-key': ['DJANGO_SECRET_KEY'],
  database: ['DATABASE_URL'],
  cache: ['REDIS_URL', 'CACHE_URL'],
  broker: ['CELERY_BROKER_URL'],
  hosts: ['ALLOWED_HOSTS', 'CSRF_TRUSTED_ORIGINS'],
  debug: ['DJANGO_DEBUG'],
};

const READS = [
  // os.environ["X"] (required), os.environ.get("X"), os.getenv("X", d)
  { re: /os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]/g, required: () => true },
  { re: /os\.(?:environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']\s*(,?)/g, required: () => false },
  // django-environ env("X"), env.str/bool/int/list/db/cache("X"), python-decouple config("X")
  {
    re: /\b(?:env(?:\.(?:str|bool|int|float|list|tuple|dict|json|url|db|db_url|cache|cache_url|email|email_url|path))?|config)\(\s*["']([A-Z][A-Z0-9_]*)["']([^)\n]*)/g,
    required: (rest: string) => !/default\s*=|,\s*["'\d\w[({]/.test(rest),
  },
];

function roleOf(name: string, line: string): Role {
  if (/^\s*SECRET_KEY\s*=/.test(line) || /SECRET_KEY$/.test(name)) return 'secret-key';
  if (/^(DATABASE|DB|POSTGRES|PG|SQL|MYSQL)_?/.test(name) || /env\.db(_url)?\(/.test(line)) return 'database';
  if (/BROKER/.test(name)) return 'broker';
  if (/^(REDIS|CACHE|MEMCACHE)/.test(name)) return 'cache';
  if (/ALLOWED_HOSTS|CSRF_TRUSTED_ORIGINS/.test(name)) return 'hosts';
  if (/(^|_)DEBUG$/.test(name)) return 'debug';
  return 'other';
}

/** Every name read in the settings files, first read first. */
export function environmentReads(root: string, files: { file: string; text: string }[]): EnvironmentRead[] {
  const reads = new Map<string, EnvironmentRead>();
  for (const { file, text } of files) {
    for (const { re, required } of READS) {
      for (const m of text.matchAll(re)) {
        const name = m[1]!;
        const lineStart = text.lastIndexOf('\n', m.index) + 1;
        const line = text.slice(
          lineStart,
          text.indexOf('\n', m.index) === -1 ? undefined : text.indexOf('\n', m.index),
        );
        const isRequired = required(m[2] ?? '');
        const known = reads.get(name);
        if (known) {
          known.required &&= isRequired;
          continue;
        }
        reads.set(name, {
          name,
          required: isRequired,
          role: roleOf(name, line),
          where: `${relative(root, file)}:${lineAt(text, m.index)}`,
        });
      }
    }
  }
  return [...reads.values()];
}
