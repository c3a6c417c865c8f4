// The Lambda package of examples/xkcd, built for real: requirements installed by pip for Lambda's platform,
// a zip that is the same for the same input, and Touchdown's handler serving the real app (API Gateway v2
// events, PostgreSQL, Redis) and running management commands, with its secret key read from Parameter Store.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pythonForBytecode } from '../src/django/lambda-bytecode.js';
import { buildLambdaPackage, HANDLER_MODULE, type PackageOptions } from '../src/django/lambda-package.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot, venvPython } from './support/paths.js';
import { ensureServices, freshDatabase } from './support/services.js';

const run = promisify(execFile);
const t = useLocalAws();

/** A private copy of the example, so that a test may change a file of it. */
async function copyOfXkcd(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-xkcd-package-'));
  await cp(join(repoRoot, 'examples', 'xkcd'), dir, {
    recursive: true,
    filter: (src) => !/(__pycache__|\.touchdown|media|staticfiles)$/.test(src),
  });
  return dir;
}

/** The zip's entries with their modes, times and CRCs, read by Python's own zipfile. */
async function entriesOf(
  zip: Buffer,
): Promise<{ name: string; mode: number; time: number[]; crc: number }[]> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-zip-'));
  await writeFile(join(dir, 'p.zip'), zip);
  const { stdout } = await run(
    venvPython,
    [
      '-c',
      'import json, sys, zipfile; print(json.dumps([{"name": i.filename, "mode": i.external_attr >> 16, "time": i.date_time, "crc": i.CRC} for i in zipfile.ZipFile(sys.argv[1]).infolist()]))',
      join(dir, 'p.zip'),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout);
}

describe('the Lambda package', () => {
  let project: string;
  let options: PackageOptions;
  before(async () => {
    project = await copyOfXkcd();
    options = {
      project,
      requirements: 'requirements.txt',
      python: '3.12',
      architecture: 'arm64',
      cacheDir: join(project, '.touchdown', 'lambda'),
      pythonCommand: venvPython,
    };
  });

  it("holds the project, its requirements for Lambda's platform and the handler, and is the same for the same input", async () => {
    const first = await buildLambdaPackage(options);
    const entries = await entriesOf(first.zip);
    const names = entries.map((e) => e.name);
    assert.deepEqual(names, [...names].sort(), 'entries in sorted order');
    for (const expected of [
      'manage.py',
      'xkcd_app/settings.py',
      'xkcd_app/migrations/0002_load_comics.py',
      'xkcd_app/templates/xkcd_app/homepage.html',
      `${HANDLER_MODULE}.py`,
      'apig_wsgi/__init__.py',
      'django/__init__.py',
      'storages/backends/s3.py',
    ]) {
      assert.ok(names.includes(expected), `${expected} is in the package`);
    }
    // psycopg's C build for Lambda's Graviton processors, not this machine's.
    const native = names.filter((n) => n.startsWith('psycopg_binary/') && n.endsWith('.so'));
    assert.ok(native.length > 0);
    assert.ok(
      native.every((n) => /cpython-312-aarch64-linux-gnu\.so$/.test(n)),
      native.join(', '),
    );
    for (const name of names) {
      assert.doesNotMatch(name, /(^|\/)(\.touchdown|\.git|bin)\/|^\.env$/, name);
      // Bytecode only as Touchdown compiles it: for the runtime's Python 3.12, in __pycache__.
      if (name.endsWith('.pyc')) assert.match(name, /(^|\/)__pycache__\/[^/]+\.cpython-312\.pyc$/, name);
    }
    // Deterministic hash-based bytecode for the project, the handler and the dependencies, when this machine
    // has the runtime's Python (these machines do: the CI image carries 3.10 to 3.13).
    const python312 = await pythonForBytecode('3.12');
    assert.ok(python312, 'python3.12 on this machine');
    for (const compiled of [
      'xkcd_app/__pycache__/settings.cpython-312.pyc',
      `__pycache__/${HANDLER_MODULE}.cpython-312.pyc`,
      'django/__pycache__/__init__.cpython-312.pyc',
      'psycopg/__pycache__/__init__.cpython-312.pyc',
    ]) {
      assert.ok(names.includes(compiled), `${compiled} is in the package`);
    }
    // boto3 and botocore are the Lambda runtime's: xkcd asks for no version the runtime may lack.
    assert.ok(!names.some((n) => /^(boto3|botocore|s3transfer)(\/|-)/.test(n)), 'no SDK in the package');
    assert.ok(
      !names.some((n) => n.startsWith('django/') && n.endsWith('.po')),
      "no translation sources of Django's",
    );
    assert.ok(names.includes('django/conf/locale/fr/LC_MESSAGES/django.mo'), 'its compiled translations');
    assert.ok(first.unzippedBytes < 45 * 1024 * 1024, `${first.unzippedBytes} bytes unpacked`);
    assert.ok(entries.every((e) => e.time.join('-') === '1980-1-1-0-0-0'));
    assert.ok(entries.every((e) => e.mode === 0o100644 || e.mode === 0o100755));
    assert.equal(first.files, names.length);

    // The same input, installed again from nothing: the same bytes.
    const again = await buildLambdaPackage({ ...options, cacheDir: join(project, '.touchdown', 'other') });
    if (again.sha256 !== first.sha256) {
      // Name what differs: a loaded run once saw two builds differ, and the hashes alone said nothing.
      const before = new Map(entries.map((e) => [e.name, e.crc]));
      const after = new Map((await entriesOf(again.zip)).map((e) => [e.name, e.crc]));
      const differ = [...new Set([...before.keys(), ...after.keys()])].filter(
        (n) => before.get(n) !== after.get(n),
      );
      assert.fail(`the second build differs in ${differ.length} entries: ${differ.slice(0, 20).join(', ')}`);
    }
    assert.ok(again.zip.equals(first.zip));

    // A changed file: another package.
    await writeFile(join(project, 'xkcd_app', 'urls.py'), '# changed\n', { flag: 'a' });
    const changed = await buildLambdaPackage(options);
    assert.notEqual(changed.sha256, first.sha256);
    // The project's own tree holds no bytecode of Touchdown's: unchecked .pyc files would hide later edits.
    const { stdout } = await run('find', [project, '-name', '*.pyc', '-not', '-path', '*/.touchdown/*']);
    assert.equal(stdout.trim(), '');
  });

  it('packages boto3 and botocore when the project asks for a version the runtime may not have', async () => {
    const project = await copyOfXkcd();
    await writeFile(join(project, 'requirements.txt'), 'boto3==1.40.0\n');
    // And a file of the project's own that Python 3 cannot compile: named, not shipped without a word.
    await writeFile(join(project, 'xkcd_app', 'legacy.py'), 'print "python 2"\n');
    const lines: string[] = [];
    const pkg = await buildLambdaPackage({
      ...options,
      project,
      cacheDir: join(project, 'cache'),
      log: (l) => lines.push(l),
    });
    const names = (await entriesOf(pkg.zip)).map((e) => e.name);
    assert.ok(names.includes('botocore/__init__.py') && names.includes('boto3/__init__.py'));
    assert.ok(
      lines.includes(
        "boto3 and botocore packaged: boto3==1.40.0 may ask for more than the Lambda runtime's own",
      ),
    );
    assert.ok(
      lines.includes(
        `warning: xkcd_app/legacy.py does not compile with Python ${options.python}: the function fails if it imports it`,
      ),
      lines.join('\n'),
    );
  });

  it("installs what needs the runtime's Python when this machine's python3 is older (pip is run by the runtime's)", async () => {
    // Django 6.1 requires Python 3.12; this machine's python3 is 3.11, whose pip refused it despite --python-version.
    const project = await copyOfXkcd();
    await writeFile(join(project, 'requirements.txt'), 'Django>=6.1,<6.2\n');
    const { pythonCommand: _venv, ...machine } = options;
    const pkg = await buildLambdaPackage({ ...machine, project, cacheDir: join(project, 'cache') });
    const names = (await entriesOf(pkg.zip)).map((e) => e.name);
    assert.ok(names.includes('django/__init__.py'));
    assert.ok(names.includes('django/__pycache__/__init__.cpython-312.pyc'));
  });

  it('says which requirement has no wheel for Lambda, in pip’s words', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'touchdown-bad-requirements-'));
    await writeFile(join(dir, 'requirements.txt'), 'touchdown-no-such-package-xyz==1.0\n');
    await assert.rejects(
      buildLambdaPackage({ ...options, project: dir, cacheDir: join(dir, 'cache') }),
      /installing the requirements for Lambda failed\. Every requirement needs a wheel .*\n[\s\S]*touchdown-no-such-package-xyz/,
    );
  });
});

describe("the package's handler, run here", () => {
  let task: string;
  let database: string;
  before(async () => {
    await ensureServices('postgres', 'redis');
    database = await freshDatabase('xkcd_lambda_handler');
    // Built for this machine's Python and processor, so that it runs here as it would on Lambda.
    const project = await copyOfXkcd();
    const { stdout } = await run(venvPython, [
      '-c',
      'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")',
    ]);
    const pkg = await buildLambdaPackage({
      project,
      requirements: 'requirements.txt',
      python: stdout.trim(),
      architecture: 'x86_64',
      cacheDir: join(project, '.touchdown', 'lambda'),
      pythonCommand: venvPython,
    });
    task = await mkdtemp(join(tmpdir(), 'touchdown-lambda-task-'));
    await writeFile(join(task, 'package.zip'), pkg.zip);
    await run(venvPython, ['-m', 'zipfile', '-e', join(task, 'package.zip'), join(task, 'var-task')]);
    // The runtime's own SDK, which Lambda puts on the path after the package: boto3 and what it needs, nothing else.
    const { stdout: site } = await run(venvPython, [
      '-c',
      'import boto3, os; print(os.path.dirname(os.path.dirname(boto3.__file__)))',
    ]);
    await mkdir(join(task, 'runtime'));
    for (const name of ['boto3', 'botocore', 's3transfer', 'jmespath', 'dateutil', 'six.py', 'urllib3']) {
      await symlink(join(site.trim(), name), join(task, 'runtime', name));
    }
  });

  /** Runs the events one after another in one Python process, as one warm Lambda instance would. */
  async function invoke(events: unknown[], env: Record<string, string>): Promise<unknown[]> {
    const root = join(task, 'var-task');
    // -S: none of this machine's packages, only the package's (Lambda puts /var/task first on the path).
    const driver = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(root)})`,
      `sys.path.append(${JSON.stringify(join(task, 'runtime'))})`,
      'import touchdown_lambda',
      'events = json.loads(sys.stdin.read())',
      'print(json.dumps([touchdown_lambda.handler(e, None) for e in events]))',
    ].join('\n');
    const child = execFile(venvPython, ['-S', '-c', driver], {
      cwd: root,
      // Lambda sets both region variables; botocore reads the second.
      env: { PATH: process.env.PATH ?? '', AWS_DEFAULT_REGION: t.aws.region, ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    child.stdin!.end(JSON.stringify(events));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(code, 0, stderr);
    return JSON.parse(stdout.trim().split('\n').at(-1)!);
  }

  const host = 'abc123defg.execute-api.us-east-1.amazonaws.com';
  const request = (path: string, query = '') => ({
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    cookies: [],
    headers: {
      host,
      accept: 'text/html',
      'user-agent': 'touchdown-test',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123defg',
      domainName: host,
      http: {
        method: 'GET',
        path,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'touchdown-test',
      },
      requestId: 'request-1',
      routeKey: '$default',
      stage: '$default',
    },
    isBase64Encoded: false,
  });
  const manage = (...args: string[]) => ({ touchdown: 'manage', args });

  it('migrates, serves pages from PostgreSQL with sessions in Redis, and reads its secret key from Parameter Store', async () => {
    const secretKey = `from-parameter-store-${'k'.repeat(40)}`;
    await t.boto.call('ssm', 'PutParameter', {
      Name: '/xkcd/test/DJANGO_SECRET_KEY',
      Value: secretKey,
      Type: 'SecureString',
    });
    const [migrate, page, health, settings, broken] = (await invoke(
      [
        manage('migrate', '--noinput'),
        request('/', 'comic=3'),
        request('/healthz'),
        manage(
          'shell',
          '-c',
          `from django.conf import settings; print(settings.SECRET_KEY == ${JSON.stringify(secretKey)})`,
        ),
        manage('migrate', 'no_such_app'),
      ],
      {
        ...t.aws.env,
        DJANGO_SETTINGS_MODULE: 'xkcd_app.settings',
        TOUCHDOWN_WSGI: 'xkcd_app.wsgi:application',
        TOUCHDOWN_PARAMETERS: JSON.stringify({ DJANGO_SECRET_KEY: '/xkcd/test/DJANGO_SECRET_KEY' }),
        TOUCHDOWN_REQUEST_TIMEOUT: '20',
        TOUCHDOWN_BEHIND_PROXY: 'true',
        DJANGO_DEBUG: 'false',
        ALLOWED_HOSTS: host,
        CSRF_TRUSTED_ORIGINS: `https://${host}`,
        DATABASE_URL: database,
        REDIS_URL: 'redis://localhost:6379/12',
        DJANGO_MEDIA_ROOT: await mkdtemp(join(tmpdir(), 'xkcd-lambda-media-')),
      },
    )) as [
      { exitCode: number; output: string },
      { statusCode: number; headers: Record<string, string>; cookies?: string[]; body: string },
      { statusCode: number; body: string },
      { exitCode: number; output: string },
      { exitCode: number; output: string },
    ];
    assert.equal(migrate.exitCode, 0, migrate.output);
    assert.match(migrate.output, /Applying xkcd_app\.0002_load_comics\.\.\. OK/);

    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.headers['Content-Type'] ?? page.headers['content-type'] ?? '', /^text\/html/);
    assert.match(page.body, /<h2 class="header" id="title">#3 \| Cache Invalidation<\/h2>/);
    assert.match(page.body, /Viewed <strong id="views">1<\/strong> time\./, 'counted in PostgreSQL');
    // Sessions in Redis; cookies marked Secure, since API Gateway said the request came over HTTPS.
    assert.ok(
      page.cookies?.some((c) => /^\s*sessionid=.*; Secure/.test(c)),
      JSON.stringify(page.cookies),
    );

    assert.equal(health.statusCode, 200);
    assert.equal(health.body, 'ok');

    assert.equal(settings.exitCode, 0, settings.output);
    assert.equal(
      settings.output.trim().split('\n').at(-1),
      'True',
      'the secret key came from Parameter Store',
    );

    assert.equal(broken.exitCode, 1);
    assert.match(broken.output, /No installed app with label 'no_such_app'/);
  });

  it('refuses to start when a parameter is missing, naming the setting', async () => {
    await assert.rejects(
      invoke([manage('check')], {
        ...t.aws.env,
        DJANGO_SETTINGS_MODULE: 'xkcd_app.settings',
        TOUCHDOWN_WSGI: 'xkcd_app.wsgi:application',
        TOUCHDOWN_PARAMETERS: JSON.stringify({ STRIPE_KEY: '/xkcd/test/STRIPE_KEY' }),
      }),
      /Parameter Store has no value for STRIPE_KEY: set it with `touchdown secrets set`/,
    );
  });
});
