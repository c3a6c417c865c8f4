// The Lambda package of examples/xkcd: build time (cold and from the requirements cache), sizes, determinism
// and cold start (import plus the first request, run here as Lambda runs it), against `zappa package` and
// against the same package without bytecode (what Touchdown shipped before), all in the same run.
//
//   node --import tsx bench/lambda-package.ts [--starts=5] [--zappa=no]
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildLambdaPackage } from '../src/django/lambda-package.js';
import { repoRoot, venvPython } from '../test/support/paths.js';
import { ensureServices, freshDatabase } from '../test/support/services.js';
import { arg, median, writeResults } from './results.js';

const run = promisify(execFile);
const starts = Number(arg('starts') ?? 5);
const MB = 1024 * 1024;

async function copyOfXkcd(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-xkcd-'));
  await cp(join(repoRoot, 'examples', 'xkcd'), dir, {
    recursive: true,
    filter: (src) => !/(__pycache__|\.touchdown|media|staticfiles)$/.test(src),
  });
  return dir;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: Math.round(performance.now() - start), value };
}

async function unzip(zip: Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-lambda-task-'));
  await writeFile(join(dir, 'package.zip'), zip);
  await run(venvPython, ['-m', 'zipfile', '-e', join(dir, 'package.zip'), join(dir, 'var-task')]);
  return join(dir, 'var-task');
}

/** Lambda's runtime SDK beside the package, as Lambda puts it on the path after the code. */
async function runtimeSdk(): Promise<string> {
  const { stdout } = await run(venvPython, [
    '-c',
    'import boto3, os; print(os.path.dirname(os.path.dirname(boto3.__file__)))',
  ]);
  const dir = await mkdtemp(join(tmpdir(), 'bench-lambda-runtime-'));
  for (const name of ['boto3', 'botocore', 's3transfer', 'jmespath', 'dateutil', 'six.py', 'urllib3']) {
    await symlink(join(stdout.trim(), name), join(dir, name));
  }
  return dir;
}

const request = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: 'comic=3',
  headers: { host: 'bench.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443' },
  requestContext: {
    domainName: 'bench.example.com',
    http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'bench' },
    stage: '$default',
  },
  isBase64Encoded: false,
};

/** One cold start: a new Python, the handler imported, one request answered; milliseconds to the answer. */
async function coldStart(root: string, runtime: string, env: Record<string, string>): Promise<number> {
  const driver = [
    'import json, sys, time',
    `sys.path.insert(0, ${JSON.stringify(root)})`,
    `sys.path.append(${JSON.stringify(runtime)})`,
    'import touchdown_lambda',
    `answer = touchdown_lambda.handler(json.loads(${JSON.stringify(JSON.stringify(request))}), None)`,
    'assert answer["statusCode"] == 200, answer',
  ].join('\n');
  const start = performance.now();
  const child = spawn(venvPython, ['-S', '-c', driver], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`the cold start failed: ${stderr.slice(-2000)}`);
  return Math.round(performance.now() - start);
}

async function duSize(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', dir]);
  return Number(stdout.split('\t')[0]);
}

/** `zappa package` of the same project in a virtualenv of its own, twice, or why it could not run here. */
async function zappa(project: string): Promise<Record<string, unknown>> {
  const venv = join(repoRoot, '.venv-zappa');
  const python = join(venv, 'bin', 'python');
  if (!(await stat(python).catch(() => undefined))) await run('python3', ['-m', 'venv', venv]);
  await run(
    python,
    [
      '-m',
      'pip',
      'install',
      '-q',
      '--disable-pip-version-check',
      'zappa',
      '-r',
      join(project, 'requirements.txt'),
    ],
    {
      maxBuffer: 64 * MB,
    },
  );
  const { stdout: version } = await run(python, [
    '-c',
    'import importlib.metadata as m; print(m.version("zappa"))',
  ]);
  await writeFile(
    join(project, 'zappa_settings.json'),
    JSON.stringify({
      bench: {
        django_settings: 'xkcd_app.settings',
        project_name: 'xkcd',
        runtime: 'python3.11',
        s3_bucket: 'bench-zappa',
        aws_region: 'us-east-1',
        architecture: 'x86_64',
      },
    }),
  );
  const env = {
    ...process.env,
    VIRTUAL_ENV: venv,
    PATH: `${join(venv, 'bin')}:${process.env.PATH}`,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
  const build = async (out: string) =>
    timed(() =>
      run(join(venv, 'bin', 'zappa'), ['package', 'bench', '-o', out], {
        cwd: project,
        env,
        maxBuffer: 64 * MB,
      }),
    );
  const first = await build(join(project, 'zappa-1.zip'));
  const second = await build(join(project, 'zappa-2.zip'));
  const [a, b] = await Promise.all([
    readFile(join(project, 'zappa-1.zip')),
    readFile(join(project, 'zappa-2.zip')),
  ]);
  const unpacked = await unzip(a);
  return {
    version: version.trim(),
    buildMs: first.ms,
    rebuildMs: second.ms,
    zipMB: Number((a.length / MB).toFixed(1)),
    unzippedMB: Number(((await duSize(unpacked)) / MB).toFixed(1)),
    identicalBuilds: a.equals(b),
  };
}

async function main(): Promise<void> {
  await ensureServices('postgres', 'redis');
  const project = await copyOfXkcd();
  const { stdout: version } = await run(venvPython, [
    '-c',
    'import sys; print("%d.%d" % sys.version_info[:2])',
  ]);
  const options = {
    project,
    requirements: 'requirements.txt',
    // The Python and processor of this machine, so that the package runs here as it would on Lambda.
    python: version.trim(),
    architecture: 'x86_64' as const,
    pythonCommand: venvPython,
  };
  const cold = await timed(() =>
    buildLambdaPackage({ ...options, cacheDir: join(project, '.touchdown', 'a') }),
  );
  const warm = await timed(() =>
    buildLambdaPackage({ ...options, cacheDir: join(project, '.touchdown', 'a') }),
  );
  const again = await buildLambdaPackage({ ...options, cacheDir: join(project, '.touchdown', 'b') });
  const pkg = cold.value;

  const root = await unzip(pkg.zip);
  const runtime = await runtimeSdk();
  const database = await freshDatabase('bench_lambda_package');
  const env = {
    PATH: process.env.PATH ?? '',
    DJANGO_SETTINGS_MODULE: 'xkcd_app.settings',
    TOUCHDOWN_WSGI: 'xkcd_app.wsgi:application',
    TOUCHDOWN_BEHIND_PROXY: 'true',
    DJANGO_SECRET_KEY: 'bench-'.padEnd(50, 'k'),
    DJANGO_DEBUG: 'false',
    ALLOWED_HOSTS: 'bench.example.com',
    DATABASE_URL: database,
    REDIS_URL: 'redis://localhost:6379/13',
    DJANGO_MEDIA_ROOT: await mkdtemp(join(tmpdir(), 'bench-media-')),
    // Lambda's /var/task is read-only: nothing a cold start compiles is kept for the next one.
    PYTHONDONTWRITEBYTECODE: '1',
  };
  await run(venvPython, ['-S', root.replace(/var-task$/, 'var-task/manage.py'), 'migrate', '--noinput'], {
    cwd: root,
    env: { ...env, PYTHONPATH: `${root}:${runtime}` },
  });
  // The baseline: the same files without bytecode, as Touchdown packaged them before.
  const sourceOnly = await mkdtemp(join(tmpdir(), 'bench-lambda-source-'));
  await cp(root, sourceOnly, { recursive: true, filter: (src) => !src.endsWith('__pycache__') });

  const withBytecode: number[] = [];
  const withoutBytecode: number[] = [];
  // Alternating, so that the machine's load falls on both alike.
  for (let i = 0; i < starts; i++) {
    withBytecode.push(await coldStart(root, runtime, env));
    withoutBytecode.push(await coldStart(sourceOnly, runtime, env));
  }

  let zappaFigures: Record<string, unknown>;
  if (arg('zappa') === 'no') zappaFigures = { measured: false, why: '--zappa=no' };
  else {
    zappaFigures = await zappa(await copyOfXkcd()).catch((err: Error) => ({
      measured: false,
      why: err.message.split('\n').slice(-5).join(' '),
    }));
  }

  const figures = {
    touchdown: {
      buildMs: cold.ms,
      fromCacheMs: warm.ms,
      zipMB: Number((pkg.zip.length / MB).toFixed(1)),
      unzippedMB: Number((pkg.unzippedBytes / MB).toFixed(1)),
      files: pkg.files,
      identicalBuilds: again.sha256 === pkg.sha256,
      sha256: createHash('sha256').update(pkg.zip).digest('hex'),
      coldStartMs: { median: median(withBytecode), samples: withBytecode },
    },
    sourceOnlyBaseline: {
      unzippedMB: Number(((await duSize(sourceOnly)) / MB).toFixed(1)),
      coldStartMs: { median: median(withoutBytecode), samples: withoutBytecode },
    },
    coldStartRatio: Number((median(withBytecode) / median(withoutBytecode)).toFixed(2)),
    zappa: zappaFigures,
  };
  console.table({
    'touchdown (bytecode, runtime SDK)': {
      'build s': cold.ms / 1000,
      'from cache s': warm.ms / 1000,
      'zip MB': figures.touchdown.zipMB,
      'unzipped MB': figures.touchdown.unzippedMB,
      'same bytes twice': figures.touchdown.identicalBuilds,
      'cold start ms': median(withBytecode),
    },
    'same package, source only': {
      'unzipped MB': figures.sourceOnlyBaseline.unzippedMB,
      'cold start ms': median(withoutBytecode),
    },
    ...('buildMs' in zappaFigures
      ? {
          [`zappa ${zappaFigures.version} package`]: {
            'build s': (zappaFigures.buildMs as number) / 1000,
            'from cache s': (zappaFigures.rebuildMs as number) / 1000,
            'zip MB': zappaFigures.zipMB,
            'unzipped MB': zappaFigures.unzippedMB,
            'same bytes twice': zappaFigures.identicalBuilds,
          },
        }
      : {}),
  });
  console.log(`cold start with bytecode ÷ source only: ${figures.coldStartRatio}`);
  if (!('buildMs' in zappaFigures)) console.log(`zappa: not measured (${zappaFigures.why})`);
  await writeResults('lambda-package', figures);
  await rm(sourceOnly, { recursive: true, force: true });
}

await main();
