// The zip Lambda runs (web.compute: lambda): the Django project, its requirements installed for Lambda's
// platform, and Touchdown's handler. Built deterministically (sorted entries, fixed times and modes), so an
// unchanged project gives the same bytes, the same S3 key and the same CodeSha256: a second deploy does nothing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ZipFile } from 'yazl';
import type { AwsClients } from '../aws/clients.js';
import { ignoreNotFound } from '../aws/errors.js';
import { ConfigError } from '../core/errors.js';
import { compileProject, compileTree, pythonForBytecode } from './lambda-bytecode.js';
import { isRuntimeSdkPath, sdkKeptBy } from './lambda-runtime-sdk.js';

/** The WSGI adapter for API Gateway's events, added to every package (a maintained one, by Adam Johnson). */
export const APIG_WSGI = 'apig-wsgi==2.20.0';
/** The module Lambda calls: `touchdown_lambda.handler`. */
export const HANDLER_MODULE = 'touchdown_lambda';

const MB = 1024 * 1024;
/** Lambda's limit on a function's unpacked code. */
const MAX_UNZIPPED = 250 * MB;
/** Local time components, so the DOS timestamps in the zip are the same in every time zone. */
const FIXED_TIME = new Date(1980, 0, 1, 0, 0, 0);
/** Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): wheels for any glibc up to it fit. */
const NEWEST_GLIBC_MINOR = 34;
/** What never belongs in the package: tools' folders, bytecode, local data and secrets (.env). */
const SKIPPED_NAMES = new Set([
  '.git',
  '.hg',
  '.svn',
  '.touchdown',
  '__pycache__',
  '.venv',
  'venv',
  'node_modules',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.tox',
  '.DS_Store',
  '.env',
]);
const SKIPPED_SUFFIXES = ['.pyc', '.pyo', '.sqlite3'];
/** Web servers the container image runs the app with; on Lambda, API Gateway and Touchdown's handler serve it. */
const WEB_SERVERS = ['gunicorn', 'uvicorn', 'daphne', 'hypercorn', 'waitress'];
const isWebServer = (top: string) =>
  WEB_SERVERS.some((s) => top === s || (top.toLowerCase().startsWith(`${s}-`) && top.endsWith('.dist-info')));
/** Django's usual MEDIA_ROOT and STATIC_ROOT at the project's top: uploads and build output, not code. */
const SKIPPED_TOP = new Set(['media', 'staticfiles']);

export interface PackageOptions {
  /** The Django project: the directory of manage.py. */
  project: string;
  /** The requirements file, relative to the project. */
  requirements: string;
  /** Python version of the Lambda runtime, e.g. '3.12'. */
  python: string;
  architecture: 'arm64' | 'x86_64';
  /** Installed requirements are kept here between deploys, by what was installed. */
  cacheDir: string;
  /** @default python3, then python: a Python with pip, which installs the requirements. */
  pythonCommand?: string;
  log?: (line: string) => void;
}

export interface LambdaPackage {
  zip: Buffer;
  /** Hex SHA-256 of the zip: its name in S3. */
  sha256: string;
  files: number;
  unzippedBytes: number;
}

/** Builds the package; throws with pip's own words when a requirement has no wheel for Lambda's platform. */
export async function buildLambdaPackage(o: PackageOptions): Promise<LambdaPackage> {
  const log = o.log ?? (() => {});
  const python = await pythonForBytecode(o.python, o.pythonCommand);
  if (!python) {
    log(
      `no Python ${o.python} on this machine: the package ships source only, which Lambda compiles at each cold start`,
    );
  }
  const { dir: dependencies, requirements } = await installedRequirements(o, log, python);
  const sdkKept = await sdkKeptBy(requirements, dependencies);
  log(
    sdkKept
      ? `boto3 and botocore packaged: ${sdkKept} may ask for more than the Lambda runtime's own`
      : "boto3 and botocore left to the Lambda runtime's own",
  );
  const entries = new Map<string, string>();
  for (const [path, file] of await filesUnder(dependencies, dependencyFilter)) {
    if ((sdkKept || !isRuntimeSdkPath(path)) && !isWebServer(path.split('/')[0]!)) entries.set(path, file);
  }
  // The project's own files win over a dependency of the same path.
  const project = await filesUnder(o.project, projectFilter);
  project.set(`${HANDLER_MODULE}.py`, handlerSource());
  for (const [path, file] of project) entries.set(path, file);
  const built = await builtBefore(o.cacheDir, [dependencies, sdkKept, python ? o.python : ''], project);
  if (built.pkg) {
    log(`package unchanged since it was last built: ${built.pkg.files} files, reused`);
    return built.pkg;
  }
  const bytecode = python ? await compileProject(python, project) : undefined;
  for (const [path, file] of bytecode?.compiled ?? []) entries.set(path, file);
  // A dependency's Python 2 leftovers are common and never imported; the project's own files are the user's to fix.
  const [broken, ...moreBroken] = bytecode?.broken ?? [];
  if (broken)
    log(
      moreBroken.length === 0
        ? `warning: ${broken} does not compile with Python ${o.python}: the function fails if it imports it`
        : `warning: ${broken} and ${moreBroken.length} more of the project's files do not compile with Python ` +
            `${o.python}: the function fails if it imports them`,
    );

  warnUnsettled(log, o.python, bytecode?.unsettled ?? []);

  const zip = new ZipFile();
  let unzippedBytes = 0;
  for (const path of [...entries.keys()].sort()) {
    const file = entries.get(path)!;
    const info = await stat(file);
    unzippedBytes += info.size;
    zip.addBuffer(await readFile(file), path, {
      mtime: FIXED_TIME,
      forceDosTimestamp: true,
      // Lambda runs the code as another user: everything readable, executables kept executable.
      mode: info.mode & 0o111 ? 0o100755 : 0o100644,
    });
  }
  if (unzippedBytes > MAX_UNZIPPED) {
    throw new ConfigError(
      `the Lambda package unpacks to ${Math.ceil(unzippedBytes / MB)} MB; Lambda allows 250 MB: ` +
        `trim ${o.requirements} (development tools, large optional extras) or use web.compute: fargate`,
    );
  }
  zip.end();
  const bytes = await collect(zip.outputStream as Readable);
  await bytecode?.cleanup();
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  log(
    `package: ${entries.size} files, ${(bytes.length / MB).toFixed(1)} MB (${Math.ceil(unzippedBytes / MB)} MB unpacked)`,
  );
  const pkg = { zip: bytes, sha256, files: entries.size, unzippedBytes };
  await built.keep(pkg);
  return pkg;
}

/**
 * The package built before from the same installed requirements and the same project files (by content and
 * mode), kept beside the installs: an unchanged project is not zipped again (seconds of CPU for 40 MB).
 */
async function builtBefore(
  cacheDir: string,
  inputs: unknown[],
  project: Map<string, string>,
): Promise<{ pkg?: LambdaPackage; keep(pkg: LambdaPackage): Promise<void> }> {
  const hash = createHash('sha256').update(JSON.stringify(inputs));
  for (const path of [...project.keys()].sort()) {
    const file = project.get(path)!;
    const [info, bytes] = await Promise.all([stat(file), readFile(file)]);
    hash.update(`\0${path}\0${info.mode & 0o111 ? 'x' : '-'}\0`).update(bytes);
  }
  const base = join(cacheDir, `package-${hash.digest('hex').slice(0, 16)}`);
  const keep = async (pkg: LambdaPackage) => {
    const { zip, ...about } = pkg;
    await writeFile(`${base}.zip.partial-${process.pid}`, zip);
    await writeFile(`${base}.json`, JSON.stringify(about));
    await rename(`${base}.zip.partial-${process.pid}`, `${base}.zip`);
    await pruneCache(cacheDir, `${base}.zip`, /^package-[0-9a-f]+\.zip$/);
  };
  const [zip, about] = await Promise.all([
    readFile(`${base}.zip`).catch(() => undefined),
    readFile(`${base}.json`, 'utf8').catch(() => undefined),
  ]);
  if (!zip || !about) return { keep };
  const { sha256, files, unzippedBytes } = JSON.parse(about) as Omit<LambdaPackage, 'zip'>;
  // A zip cut short (a crash while writing) is built again.
  if (createHash('sha256').update(zip).digest('hex') !== sha256) return { keep };
  await utimes(`${base}.zip`, new Date(), new Date());
  return { pkg: { zip, sha256, files, unzippedBytes }, keep };
}

/** Puts the package in the stack's artifacts bucket under its hash (once) and returns its s3:// location. */
export async function uploadLambdaPackage(
  aws: AwsClients,
  bucket: string,
  pkg: LambdaPackage,
  log: (line: string) => void = () => {},
): Promise<string> {
  const s3 = await aws.s3();
  const key = `lambda/${pkg.sha256}.zip`;
  const there = await ignoreNotFound(s3.headObject({ Bucket: bucket, Key: key }));
  if (there) {
    log(`s3://${bucket}/${key} is already there`);
  } else {
    log(`uploading ${(pkg.zip.length / MB).toFixed(1)} MB to s3://${bucket}/${key}`);
    await s3.putObject({
      Bucket: bucket,
      Key: key,
      Body: pkg.zip,
      ServerSideEncryption: 'AES256',
    });
  }
  return `s3://${bucket}/${key}`;
}

/** `s3://bucket/key` → its parts; undefined for anything else (a container image, say). */
export function packageLocation(uri: string): { s3Bucket: string; s3Key: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+\.zip)$/.exec(uri);
  return m ? { s3Bucket: m[1]!, s3Key: m[2]! } : undefined;
}

/** The platforms pip may pick wheels for: any manylinux the Lambda runtime's glibc runs. */
export function lambdaPlatforms(architecture: 'arm64' | 'x86_64'): string[] {
  const arch = architecture === 'arm64' ? 'aarch64' : 'x86_64';
  const minors = Array.from({ length: NEWEST_GLIBC_MINOR - 16 }, (_, i) => NEWEST_GLIBC_MINOR - i);
  // manylinux2014 also admits manylinux2010 and manylinux1 wheels (pip expands it).
  return [...minors.map((m) => `manylinux_2_${m}_${arch}`), `manylinux2014_${arch}`];
}

/** The requirements installed for Lambda, from the cache when the same set was installed before. */
/**
 * The requirements file and every file it includes with -r/--requirement or -c/--constraint, as pip reads them
 * (an include is relative to the file that names it), by path relative to the project, in the order met.
 */
export async function requirementFiles(
  file: string,
  project: string,
): Promise<[path: string, text: string][]> {
  const seen = new Map<string, string>();
  const read = async (path: string, from?: string): Promise<void> => {
    if (seen.has(path)) return;
    const text = await readFile(path, 'utf8').catch(() => {
      throw new ConfigError(
        from
          ? `${from}: includes ${relative(project, path)}, which cannot be read; fix the path or add the file`
          : `django.requirements: cannot read ${path}; Lambda needs the project's requirements to install them`,
      );
    });
    seen.set(path, text);
    for (const [i, line] of text.split('\n').entries()) {
      const include = /^\s*(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+)(\S+)/.exec(line)?.[1];
      if (include) await read(join(path, '..', include), `${relative(project, path)}:${i + 1}`);
    }
  };
  await read(file);
  return [...seen].map(([path, text]) => [relative(project, path), text]);
}

async function installedRequirements(
  o: PackageOptions,
  log: (line: string) => void,
  python: string | undefined,
): Promise<{ dir: string; requirements: string[] }> {
  const requirementsFile = isAbsolute(o.requirements) ? o.requirements : join(o.project, o.requirements);
  const requirements = await requirementFiles(requirementsFile, o.project);
  const platforms = lambdaPlatforms(o.architecture);
  // Keyed by every file pip reads (-r and -c includes too): a change to any of them installs again.
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        requirements,
        python: o.python,
        platforms,
        adapter: APIG_WSGI,
        // The way bytecode is written (src/django/pyc.ts) is part of the install: caches from before it install again.
        bytecode: python ? 'settled' : false,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  const dir = join(o.cacheDir, `deps-${key}`);
  const done = join(dir, '.touchdown-complete');
  if (await stat(done).catch(() => undefined)) {
    log(`requirements for Python ${o.python} (${o.architecture}) already installed`);
    await utimes(done, new Date(), new Date());
    return { dir, requirements: requirements.map(([, text]) => text) };
  }
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  log(`installing ${o.requirements} for Lambda (Python ${o.python}, ${o.architecture})`);
  const args = [
    '-m',
    'pip',
    'install',
    '--target',
    partial,
    ...platforms.flatMap((p) => ['--platform', p]),
    '--implementation',
    'cp',
    '--python-version',
    o.python,
    '--only-binary=:all:',
    // pip's bytecode embeds times; compileTree writes hash-based bytecode for the runtime's Python instead.
    '--no-compile',
    '--disable-pip-version-check',
    '--no-input',
    '-r',
    requirementsFile,
    APIG_WSGI,
  ];
  try {
    await runPip(o.pythonCommand, args, o.project, python);
    if (python) warnUnsettled(log, o.python, (await compileTree(python, partial)).unsettled);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
  await writeFile(join(partial, '.touchdown-complete'), `${requirements}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  await pruneCache(o.cacheDir, dir);
  return { dir, requirements: requirements.map(([, text]) => text) };
}

/** Bytecode whose format Touchdown cannot read is shipped as Python wrote it: said once, not a failure. */
function warnUnsettled(log: (line: string) => void, version: string, unsettled: string[]): void {
  if (unsettled.length === 0) return;
  log(
    `warning: ${unsettled.length} .pyc files (${unsettled[0]}${unsettled.length > 1 ? ', …' : ''}) are in a ` +
      `bytecode format Touchdown does not know (Python ${version}): two builds of the same input may differ in them`,
  );
}

/**
 * pip, run by the given Python, else by the runtime's own version when this machine has it (pip 23 checked
 * Requires-Python against the Python running it despite --python-version: Django 6.1 "requires a different
 * Python: 3.11.7" on a machine whose python3 is 3.11), else python3.
 */
async function runPip(
  command: string | undefined,
  args: string[],
  cwd: string,
  runtime?: string,
): Promise<void> {
  const candidates = command ? [command] : [...(runtime ? [runtime] : []), 'python3', 'python'];
  for (const python of candidates) {
    const result = await new Promise<{ code: number | string; output: string }>((resolve) => {
      execFile(python, args, { cwd, maxBuffer: 64 * MB }, (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number | string }).code ?? 1) : 0,
          output: `${stdout}${stderr}`,
        }),
      );
    });
    // Not there, or a Python without pip (uv installs them so): the next one.
    if (result.code === 'ENOENT' || /No module named pip\b/.test(result.output)) continue;
    if (result.code === 0) return;
    const tail = result.output
      .split('\n')
      .filter((l) => l.trim() && !/^WARNING: Location .* is ignored/.test(l))
      .slice(-12)
      .join('\n');
    throw new ConfigError(
      `installing the requirements for Lambda failed. Every requirement needs a wheel for Linux ` +
        `(${args[args.indexOf('--python-version') + 1]}, manylinux): pin versions that publish one. pip said:\n${tail}`,
    );
  }
  throw new ConfigError(
    'packaging for Lambda needs Python with pip on this machine (looked for python3 and python); install it',
  );
}

/** Keeps the three installs (or packages) used last: each is tens of megabytes. */
async function pruneCache(cacheDir: string, keep: string, kind = /^deps-[0-9a-f]+$/): Promise<void> {
  const installs = (await readdir(cacheDir, { withFileTypes: true }))
    .filter((d) => kind.test(d.name))
    .map((d) => join(cacheDir, d.name));
  const used = await Promise.all(
    installs.map(async (d) => ({
      d,
      at:
        (await stat(d.endsWith('.zip') ? d : join(d, '.touchdown-complete')).catch(() => undefined))
          ?.mtimeMs ?? 0,
    })),
  );
  const stale = used
    .filter((u) => u.d !== keep)
    .sort((a, b) => b.at - a.at)
    .slice(2);
  for (const { d } of stale) {
    await rm(d, { recursive: true, force: true });
    if (d.endsWith('.zip')) await rm(d.replace(/\.zip$/, '.json'), { force: true });
  }
}

type Filter = (path: string[], isDirectory: boolean) => boolean;

/**
 * Console scripts (bin/) carry this machine's interpreter path and are no use on Lambda. Bytecode under the
 * dependencies is Touchdown's own (pip installs none), compiled for the runtime.
 */
const dependencyFilter: Filter = (path, isDirectory) =>
  !(path.length === 1 && (path[0] === 'bin' || path[0] === '.touchdown-complete')) &&
  // Translation sources: gettext reads the compiled .mo beside each (Django's are 9 MB of a 55 MB package).
  !(!isDirectory && path.at(-1)!.endsWith('.po') && path.includes('LC_MESSAGES')) &&
  (ordinary(path, isDirectory) || isCompiled(path, isDirectory));

const isCompiled = (path: string[], isDirectory: boolean) =>
  isDirectory
    ? path.at(-1) === '__pycache__'
    : path.at(-2) === '__pycache__' && path.at(-1)!.endsWith('.pyc');

const projectFilter: Filter = (path, isDirectory) =>
  !(path.length === 1 && isDirectory && SKIPPED_TOP.has(path[0]!)) && ordinary(path, isDirectory);

function ordinary(path: string[], isDirectory: boolean): boolean {
  const name = path.at(-1)!;
  if (SKIPPED_NAMES.has(name) || name.startsWith('.env.')) return false;
  return isDirectory || !SKIPPED_SUFFIXES.some((s) => name.endsWith(s));
}

/** Files under a directory by their zip path (forward slashes), following symlinks to files only. */
async function filesUnder(root: string, keep: Filter): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const parts = relative(root, full).split(sep);
      const isDirectory = entry.isDirectory();
      if (!keep(parts, isDirectory)) continue;
      if (isDirectory) await walk(full);
      else if (
        entry.isFile() ||
        (entry.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isFile())
      )
        out.set(parts.join('/'), full);
    }
  };
  await walk(root);
  return out;
}

function handlerSource(): string {
  // Beside this module in the source tree, and copied beside it by the build.
  return fileURLToPath(new URL(`./lambda/${HANDLER_MODULE}.py`, import.meta.url));
}

function collect(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('error', reject);
    stream.once('end', () => resolve(Buffer.concat(chunks)));
  });
}
