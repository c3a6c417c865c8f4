// `touchdown up` in tests: a private copy of an example project (its own app name, so its database, Redis
// database and buckets are its own), the real CLI, and independent looks at what runs (/proc, psql).
import { execFile } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type CliResult, collect, touchdownBin } from './cli.js';
import { repoRoot, venvPython } from './paths.js';

const run = promisify(execFile);

/** A copy of examples/<example> renamed to `app`, without anything a run left in the original. */
export async function copyOfProject(example: string, app: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `touchdown-up-${example}-`));
  await cp(join(repoRoot, 'examples', example), dir, {
    recursive: true,
    filter: (src) =>
      !/(\.touchdown|__pycache__|\/media|\/staticfiles)(\/|$)/.test(src.slice(repoRoot.length)),
  });
  const manifest = join(dir, 'touchdown.yml');
  const text = await readFile(manifest, 'utf8');
  await writeFile(manifest, text.replace(/^app: .*$/m, `app: ${app}`));
  return dir;
}

/** The environment of a user's shell: no AWS settings, so `up` chooses its own local AWS unless told. */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(AWS_|TOUCHDOWN_|DATABASE_URL$|REDIS_URL$)/.test(k)) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

export async function touchdown(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = userEnv(),
  timeoutMs = 240_000,
): Promise<CliResult> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [touchdownBin, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = await collect(child);
  clearTimeout(timer);
  return result;
}

export interface StateFile {
  pid: number;
  status: string;
  url?: string;
  localAws?: { endpoint: string; startedByTouchdown: boolean };
  buckets?: { static?: string; media?: string };
  processes: Record<string, { pid?: number; state: string; restarts: number; port?: number }>;
  services: { redis?: { database: number }; postgres?: { database: string } };
}

export async function stateOf(dir: string, stack: string): Promise<StateFile> {
  return JSON.parse(
    await readFile(join(dir, '.touchdown', 'local', stack, 'state.json'), 'utf8'),
  ) as StateFile;
}

/** Pids of every process on this machine started for the stack, read from /proc, not from Touchdown. */
export async function processesOf(stack: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(`TOUCHDOWN_LOCAL_STACK=${stack}`)) pids.push(Number(entry));
  }
  return pids;
}

/** One SQL statement through psql as postgres, as a person would check. */
export async function psql(sql: string, database = 'postgres'): Promise<string> {
  const { stdout } = await run('psql', ['-U', 'postgres', '-h', 'localhost', '-d', database, '-tAc', sql]);
  return stdout.trim();
}

/** A PNG made by Pillow, the library the worker reads it with. */
export async function png(): Promise<Buffer> {
  const script =
    'import io, sys\nfrom PIL import Image\nb = io.BytesIO()\nImage.new("RGB", (800, 600), (200, 80, 40)).save(b, "PNG")\nsys.stdout.buffer.write(b.getvalue())';
  const { stdout } = await run(venvPython, ['-c', script], { encoding: 'buffer' });
  return stdout;
}

/** Posts a blog entry with a photo through the admin, as an editor does; the worker then makes its thumbnail. */
export async function addBlogPost(
  browser: {
    csrf(path: string): Promise<string>;
    request(path: string, init: RequestInit): Promise<Response>;
  },
  title: string,
  body: string,
): Promise<Response> {
  const form = new FormData();
  form.set('csrfmiddlewaretoken', await browser.csrf('/admin/posts/post/add/'));
  form.set('title', title);
  form.set('slug', title.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
  form.set('body', body);
  form.set('published_at_0', '2026-01-01');
  form.set('published_at_1', '10:00:00');
  form.set('image', new Blob([await png()], { type: 'image/png' }), 'photo.png');
  return browser.request('/admin/posts/post/add/', { method: 'POST', body: form });
}

/** An editor account, written straight into PostgreSQL with Django's password hash format. */
export async function createEditor(database: string, username: string, password: string): Promise<void> {
  const salt = randomBytes(9).toString('hex');
  const iterations = 100_000;
  const hash = pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('base64');
  await psql(
    `INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
     VALUES ('pbkdf2_sha256$${iterations}$${salt}$${hash}', true, '${username}', '', '', 'editor@example.com', true, true, now())`,
    database,
  );
}

export { venvPython };
