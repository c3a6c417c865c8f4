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
  // An assignment (`os.environ["X"] = "1"`) sets rather than reads.
  { re: /os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\](?!\s*=[^=])/g, required: () => true },
  { re: /os\.(?:environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']\s*(,?)/g, required: () => false },
  // django-environ env("X"), env.str/bool/int/list/db/cache("X"), python-decouple config("X")
  {
    re: /\b(?:env(?:\.(?:str|bool|int|float|list|tuple|dict|json|url|db|db_url|cache|cache_url|email|email_url|path))?|config)\(\s*["']([A-Z][A-Z0-9_]*)["']([^)]*)/g,
    required: (rest: string) => !/default\s*=|,\s*["'\d\w[({]/.test(rest),
  },
];

function roleOf(name: string, line: string): Role {
  if (/^\s*SECRET_KEY\s*=/.test(line) || /^(DJANGO_)?SECRET_KEY$/.test(name)) return 'secret-key';
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
  const order = new Map<string, number>();
  for (const [n, { file, text }] of files.entries()) {
    for (const { re, required } of READS) {
      for (const m of text.matchAll(re)) {
        const name = m[1]!;
        const lineStart = text.lastIndexOf('\n', m.index) + 1;
        const line = text.slice(
          lineStart,
          text.indexOf('\n', m.index) === -1 ? undefined : text.indexOf('\n', m.index),
        );
        // A read guarded by `"X" in os.environ` (or os.environ.get) does not fail when X is unset.
        const guarded = new RegExp(`["']${name}["']\\s+in\\s+os\\.environ`).test(text);
        const isRequired = required(m[2] ?? '') && !guarded;
        const known = reads.get(name);
        if (known) {
          known.required &&= isRequired;
          continue;
        }
        order.set(name, n * 1e9 + m.index);
        reads.set(name, {
          name,
          required: isRequired,
          role: roleOf(name, line),
          where: `${relative(root, file)}:${lineAt(text, m.index)}`,
        });
      }
    }
  }
  // In the order the settings read them.
  return [...reads.values()].sort((a, b) => order.get(a.name)! - order.get(b.name)!);
}
