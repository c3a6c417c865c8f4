// The bad-input suite (issue 12): what a new user gets wrong, in the manifest, a TypeScript config, on the
// command line or in the environment. Each case runs the real command and asserts its exit code, a message
// naming the field or flag and the fix, and that nothing was asked to change: AWS_ENDPOINT_URL points at an
// endpoint of the case's own that records every request (most cases must not reach it at all).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AwsClients, requestHandlerOptions } from '../src/aws/clients.js';
import { resourceTypes } from '../src/aws/registry.js';
import { parseManifest } from '../src/config/load-manifest.js';
import { ConfigError } from '../src/core/errors.js';
import { Secrets } from '../src/django/secrets.js';
import { runCliWithEnv } from './support/cli.js';
import {
  changes,
  closedPort,
  type Misbehaviour,
  startFakeEndpoint,
  waitsInARow,
} from './support/fake-endpoints.js';
import { repoRoot } from './support/paths.js';

const BASE = `app: shop
django:
  settings: shop.settings
  wsgi: shop.wsgi:application
`;
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop-production-app:v1';
const STACK_TS = (body: string, name = 'bad-input') => `import { defineStack } from 'touchdown';
export default defineStack('${name}', (aws) => {
${body}
});
`;

interface Case {
  what: string;
  /** Files of the project: name → text (a name ending in / is a directory). */
  files?: Record<string, string>;
  args: string[];
  env?: Record<string, string>;
  /** The endpoint AWS_ENDPOINT_URL names: one that refuses everything (default), or a fault. */
  endpoint?: Misbehaviour | 'closed';
  code?: number;
  /** The message: names the field or flag, and the fix. */
  says: RegExp;
  /** A part of the message that must appear exactly once. */
  once?: RegExp;
  /** Where the message goes: stderr (default) or stdout (--json). */
  on?: 'stderr' | 'stdout';
  /** AWS requests the case may make before refusing: none (default), or reads only. */
  /** none: no call at all; reads: nothing that changes; lock: no change but taking the stack's lock. */
  calls?: 'none' | 'reads' | 'lock';
  /**
   * The most seconds it may wait on the endpoint (a hung one must fail within 30): the waits it makes one after
   * another, each its read timeout, counted by the endpoint rather than timed on a busy machine's clock.
   */
  within?: number;
}

const yml = (text: string) => ({ 'touchdown.yml': text });
const manifest = (what: string, text: string, says: RegExp, args = ['plan']): Case => ({
  what,
  files: yml(text),
  args,
  says,
});

const CASES: Case[] = [
  // touchdown.yml: YAML itself
  manifest(
    'an empty touchdown.yml',
    '',
    /touchdown\.yml is empty: it needs at least app: and django:.*touchdown init/,
  ),
  manifest('a touchdown.yml of comments only', '# to do\n', /touchdown\.yml is empty/),
  manifest('a list at the top', '- app: shop\n', /touchdown\.yml:1:1: the file holds a list.*"key: value"/),
  manifest(
    'one bare word',
    'shop\n',
    /touchdown\.yml:1:1: the file holds the single value "shop".*"app: mysite"/,
  ),
  manifest(
    'an unquoted python: 3.10',
    `${BASE}  python: 3.10\n`,
    /touchdown\.yml:5:3: django\.python: write it in quotes, "3\.10".*YAML reads 3\.10 as 3\.1/,
  ),
  manifest(
    'a key with non-ASCII letters',
    `${BASE}dätabase: {}\n`,
    /touchdown\.yml:5:1: dätabase: unknown setting; did you mean "database"\?/,
  ),
  manifest(
    'an environment name with non-ASCII letters',
    `${BASE}environment:\n  CAFÉ: x\n`,
    /touchdown\.yml:6:3: environment\.CAFÉ: use upper-case letters, digits and underscores/,
  ),
  manifest(
    'a key indented too far',
    `${BASE}web:\n  count: 2\n   cpu: 256\n`,
    /touchdown\.yml:7: this line is indented differently from the keys beside it: line it up/,
  ),
  manifest(
    'an unclosed {',
    `${BASE}web: { count: 2\ncache: {}\n`,
    /touchdown\.yml:5: the \{ opened here is never closed: add the closing \}/,
  ),
  manifest(
    'an unclosed [',
    `${BASE}secrets: [A, B\nweb: {}\n`,
    /touchdown\.yml:5: the \[ opened here is never closed: add the closing \]/,
  ),
  manifest(
    'an unclosed quote',
    `${BASE}web:\n  command: "gunicorn\n`,
    /touchdown\.yml:6: the " opened here is never closed/,
  ),
  manifest('a tab as indentation', `${BASE}web:\n\tcount: 2\n`, /touchdown\.yml:6: .*indent with spaces/),
  manifest(
    'a key given twice',
    `${BASE}web: {}\nweb: {}\n`,
    /touchdown\.yml:6: .*appears twice at this level; keep one/,
  ),
  manifest('a value holding ": "', `${BASE}web:\n  command: a: b\n`, /touchdown\.yml:6: .*must be in quotes/),
  // touchdown.yml: values
  manifest(
    'a misspelt key',
    `${BASE}databse: {}\n`,
    /touchdown\.yml:5:1: databse: unknown setting; did you mean "database"\?/,
  ),
  manifest(
    'a word where a number goes',
    `${BASE}web: { count: two }\n`,
    /touchdown\.yml:5:\d+: web\.count: .*expected number/,
  ),
  manifest(
    'a database too small',
    `${BASE}database: { storage: 5 }\n`,
    /database\.storage: RDS PostgreSQL needs at least 20 GB/,
  ),
  manifest(
    'more tasks than allowed',
    `${BASE}web: { count: 500 }\n`,
    /touchdown\.yml:5:\d+: web\.count: use at most 100/,
  ),
  manifest(
    'a five-field cron',
    `${BASE}schedules:\n  - { name: nightly, cron: "0 3 * * *", command: clearsessions }\n`,
    /schedules\.0\.cron: "0 3 \* \* \*" has 5 fields; AWS cron has six.*"0 3 \* \* \? \*"/,
  ),
  manifest(
    'two schedules of one name',
    `${BASE}schedules:\n  - { name: a, cron: "0 3 * * ? *", command: x }\n  - { name: a, cron: "0 4 * * ? *", command: y }\n`,
    /schedules\.1\.name: "a" is used twice; give each schedule its own name/,
  ),
  manifest(
    'a domain outside its zone',
    `${BASE}domain: { name: www.shop.com, zone: other.com }\n`,
    /domain\.zone: .*use its parent domain/,
  ),
  manifest('a domain without its zone', `${BASE}domain: { name: www.shop.com }\n`, /domain\.zone: required/),
  manifest(
    'Lambda with Celery workers',
    `${BASE}web: { compute: lambda }\nworkers:\n  default: { command: celery -A shop worker }\n`,
    /workers: Lambda runs no Celery workers: use web\.compute fargate \(or ec2\), or remove workers/,
  ),
  manifest(
    'Lambda on Python 3.11',
    `${BASE}  python: "3.11"\nweb: { compute: lambda }\n`,
    /django\.python: Lambda runs Python 3\.12 or newer.*set django\.python to "3\.12"/,
  ),
  manifest(
    'a Fargate size AWS does not run',
    `${BASE}web: { cpu: 256, memory: 4096 }\n`,
    /web\.memory: Fargate does not run 256 CPU units with 4096 MiB; with 256 use one of 512, 1024, 2048/,
  ),
  manifest('email without a domain', `${BASE}email: { from: hello@shop.com }\n`, /email: email needs domain/),
  manifest(
    'autoscaling upside down',
    `${BASE}web: { count: 2, autoscaling: { min: 5, max: 2, cpu: 60 } }\n`,
    /web\.autoscaling\.min: min 5 is above max 2/,
  ),
  manifest(
    'autoscaling on nothing',
    `${BASE}web: { count: 2, autoscaling: { min: 1, max: 3 } }\n`,
    /web\.autoscaling: say what to scale on: cpu/,
  ),
  manifest(
    'maxStorage below storage',
    `${BASE}database: { storage: 50, maxStorage: 40 }\n`,
    /database\.maxStorage: maxStorage must be above storage \(50 GB\)/,
  ),
  manifest(
    'a secret also in environment',
    `${BASE}secrets: [STRIPE_KEY]\nenvironment: { STRIPE_KEY: abc }\n`,
    /environment\.STRIPE_KEY: STRIPE_KEY is declared as a secret: remove it from environment/,
  ),
  manifest(
    'a badly named secret',
    `${BASE}secrets: [stripe-key]\n`,
    /secrets\.0: use upper-case letters, digits and underscores/,
  ),
  manifest(
    'EC2 without a NAT',
    `${BASE}web: { compute: ec2 }\n`,
    /network\.nat: tasks on EC2 instances get no public address.*set network\.nat to "instance"/,
  ),
  manifest(
    'a choice not offered',
    `${BASE}network: { nat: always }\n`,
    /network\.nat: use one of "none", "instance", "gateway"/,
  ),
  manifest(
    'a network that is not a /16',
    `${BASE}network: { cidr: 10.0.0.0/24 }\n`,
    /network\.cidr: a \/16 block such as 10\.0\.0\.0\/16/,
  ),
  manifest(
    'an app name with capitals',
    'app: My_Shop\ndjango:\n  settings: a.b\n  wsgi: a.wsgi\n',
    /touchdown\.yml:1:\d+: app: use 2 to 30 lower-case letters/,
  ),
  manifest(
    'a region that does not exist',
    `${BASE}region: us-east-7\n`,
    /touchdown\.yml:5:\d+: region: "us-east-7" is not an AWS region; did you mean us-east-1\?/,
  ),
  manifest(
    'a secret-looking name under environment',
    `${BASE}environment:\n  DATABASE_PASSWORD: hunter2hunter2\n`,
    /touchdown\.yml:6:3: environment\.DATABASE_PASSWORD: looks like a secret.*secrets: \[DATABASE_PASSWORD\].*touchdown secrets set DATABASE_PASSWORD/,
  ),
  manifest(
    'a Stripe key under a neutral name, on Lambda (the release stack checked before any change)',
    `${BASE}web: { compute: lambda }\nenvironment:\n  PAYMENTS: sk_live_4eC39HqLyjWDarjtT1zdp7dc\n`,
    /touchdown\.yml \(stage production\): lambda-function\.web: environment\.PAYMENTS: looks like a secret.*store it in SSM/,
  ),
  manifest(
    'a number under environment',
    `${BASE}environment:\n  PORT: 8000\n`,
    /touchdown\.yml:6:3: environment\.PORT: write it in quotes, "8000"/,
  ),
  manifest(
    'more environment than a task definition holds',
    `${BASE}environment:\n  BIG: "${'x'.repeat(50_000)}"\n`,
    /environment: \d+ bytes of settings; ECS takes at most 64 KiB.*move large values/,
  ),
  // touchdown.yml: stages
  manifest(
    'a bad value in a stage not asked for',
    `${BASE}stages:\n  staging:\n    web: { count: 0 }\n`,
    /touchdown\.yml:7:\d+: stages\.staging\.web\.count: use 1 or more/,
  ),
  manifest(
    'a misspelt key in a stage',
    `${BASE}stages:\n  qa:\n    wbe: {}\n`,
    /touchdown\.yml:7:5: stages\.qa\.wbe: unknown setting; did you mean "web"\?/,
  ),
  manifest('a stage named with capitals', `${BASE}stages:\n  Staging: {}\n`, /stages\.Staging: /),
  manifest(
    'an unknown --stage',
    `${BASE}stages:\n  staging: {}\n`,
    /--stage nope: touchdown\.yml has no stage "nope"; its stages are production, staging\. To create it, declare it in touchdown\.yml: stages: \{ nope: \{\} \}/,
    ['plan', '--stage', 'nope'],
  ),
  manifest(
    'an unknown --stage on deploy',
    BASE,
    /--stage qa: touchdown\.yml has no stage "qa"; its stages are production/,
    ['deploy', '--stage', 'qa', '--image', IMAGE, '--yes'],
  ),
  // The command line
  manifest(
    '--region that is no region',
    BASE,
    /--region: "us-east-7" is not an AWS region; did you mean us-east-1\?/,
    ['plan', '--region', 'us-east-7'],
  ),
  {
    what: 'AWS_REGION that is no region',
    files: yml(BASE),
    args: ['plan'],
    env: { AWS_REGION: 'mars-1' },
    says: /AWS_REGION: "mars-1" is not an AWS region/,
  },
  manifest(
    '--concurrency 0',
    BASE,
    /option '--concurrency <n>' argument '0' is invalid\. expected a whole number of at least 1/,
    ['plan', '--concurrency', '0'],
  ),
  manifest('--concurrency abc', BASE, /option '--concurrency <n>' argument 'abc' is invalid/, [
    'plan',
    '--concurrency',
    'abc',
  ]),
  manifest('--lock-timeout forever', BASE, /"forever" is not a duration: write it like 30s, 10m or 1h/, [
    'plan',
    '--lock-timeout',
    'forever',
  ]),
  manifest('an unknown flag', BASE, /unknown option '--yse'\s+\(Did you mean --yes\?\)/, ['deploy', '--yse']),
  manifest('an unknown command', BASE, /unknown command 'deplyo'\s+\(Did you mean deploy\?\)/, ['deplyo']),
  manifest(
    'graph in a format it does not draw',
    BASE,
    /argument 'png' is invalid\. Allowed choices are dot, mermaid/,
    ['graph', '--format', 'png'],
  ),
  manifest(
    '--image with a space',
    BASE,
    /--image shop app:v1: it holds a space; write registry\/repository:tag/,
    ['deploy', '--image', 'shop app:v1', '--yes'],
  ),
  manifest(
    '--image as a URL',
    BASE,
    /--image https:\/\/ecr\.example\.com\/shop:v1: drop the https:\/\/ in front/,
    ['deploy', '--image', 'https://ecr.example.com/shop:v1', '--yes'],
  ),
  manifest('--image with capitals', BASE, /--image .*\/Shop:v1: repository names are lower case/, [
    'deploy',
    '--image',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/Shop:v1',
    '--yes',
  ]),
  manifest(
    '--image without a tag',
    BASE,
    /--image .*\/shop: name an exact image with a tag or digest.*rollback cannot return to it/,
    ['deploy', '--image', '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop', '--yes'],
  ),
  {
    what: 'deploy with no container builder and no --image',
    files: yml(BASE),
    args: ['deploy', '--yes'],
    env: { PATH: '/nonexistent' },
    says: /no container builder on this machine \(looked for docker, podman and buildah\)\. Install one of them, or build the image elsewhere.*--image <uri>/,
  },
  manifest(
    '--config that does not exist',
    BASE,
    /--config nowhere\.yml: no such file; give the path of your touchdown\.yml/,
    ['plan', '--config', 'nowhere.yml'],
  ),
  {
    what: '--config naming a directory',
    files: { 'app/': '', 'app/touchdown.yml': BASE },
    args: ['plan', '--config', 'app'],
    says: /--config app is a directory; pass the file itself, e\.g\. --config app\/touchdown\.yml/,
  },
  {
    what: '--config of another kind of file',
    files: { 'settings.txt': BASE },
    args: ['plan', '--config', 'settings.txt'],
    says: /--config settings\.txt: Touchdown reads a touchdown\.yml \(YAML\) or a touchdown\.config\.ts/,
  },
  {
    what: 'no configuration here',
    files: {},
    args: ['plan'],
    says: /no touchdown\.yml or touchdown\.config\.ts in .*touchdown init writes a touchdown\.yml.*--config PATH/,
  },
  {
    what: 'a directory named touchdown.yml',
    files: { 'touchdown.yml/': '' },
    args: ['plan'],
    says: /touchdown\.yml is a directory, not a file.*rename the directory/,
  },
  {
    what: '--json with a bad manifest: the error is JSON on stdout',
    files: yml(`${BASE}web: { count: 0 }\n`),
    args: ['plan', '--json'],
    on: 'stdout',
    says: /"kind": "input",\s*"message": "touchdown\.yml:5:\d+: web\.count: use 1 or more"/,
  },
  {
    what: '--json with an unknown flag',
    files: yml(BASE),
    args: ['plan', '--json', '--bogus'],
    on: 'stdout',
    says: /"message": "unknown option '--bogus'"/,
  },
  // touchdown.config.ts
  {
    what: 'a TypeScript config that does not parse',
    files: { 'touchdown.config.ts': STACK_TS('  aws.addVpc({ name: "main", cidrBlock: ') },
    args: ['plan'],
    says: /loading .*touchdown\.config\.ts: .*(Expected|Unexpected|expected)/,
  },
  {
    what: 'a TypeScript config without defineStack',
    files: { 'touchdown.config.ts': 'export default { name: "x" };\n' },
    args: ['plan'],
    says: /touchdown\.config\.ts must export default defineStack\('name', \(aws\) => \{ \.\.\. \}\)/,
  },
  {
    what: 'a TypeScript config that throws',
    files: { 'touchdown.config.ts': STACK_TS('  throw new Error("no VPC for you");') },
    args: ['plan'],
    says: /no VPC for you/,
  },
  {
    what: 'a CIDR with host bits',
    files: { 'touchdown.config.ts': STACK_TS("  aws.addVpc({ name: 'main', cidrBlock: '10.9.0.1/16' });") },
    args: ['plan'],
    says: /vpc\.main: argument "cidrBlock": "10\.9\.0\.1\/16" has host bits set; did you mean 10\.9\.0\.0\/16\?/,
  },
  {
    what: 'two resources of one name',
    files: {
      'touchdown.config.ts': STACK_TS(
        "  aws.addBucket({ name: 'files' });\n  aws.addBucket({ name: 'files' });",
      ),
    },
    args: ['plan'],
    says: /bucket\.files: declared twice; give one of them another name/,
  },
  {
    what: 'a stack name with capitals',
    files: { 'touchdown.config.ts': STACK_TS("  aws.addBucket({ name: 'files' });", 'Bad_Name') },
    args: ['plan'],
    says: /stack name "Bad_Name": use 1 to 40 lower-case letters/,
  },
  {
    what: 'a region that does not exist, for a TypeScript stack',
    files: { 'touchdown.config.ts': STACK_TS("  aws.addBucket({ name: 'files' });") },
    args: ['plan', '--region', 'eu-west'],
    says: /--region: "eu-west" is not an AWS region; did you mean eu-west-1\?/,
  },
  {
    what: 'deploy on a TypeScript stack',
    files: { 'touchdown.config.ts': STACK_TS("  aws.addBucket({ name: 'files' });") },
    args: ['deploy', '--image', IMAGE, '--yes'],
    says: /touchdown deploy works on a Django app's touchdown\.yml.*use plan and apply/,
  },
  // The environment: AWS itself unreachable or misbehaving (the command reads first, and stops there)
  {
    what: 'a closed port',
    files: yml(BASE),
    args: ['plan'],
    endpoint: 'closed',
    calls: 'reads',
    says: /(sts GetCallerIdentity|ssm GetParametersByPath|ssm GetParameter|ec2 DescribeAvailabilityZones): cannot reach http:\/\/localhost:\d+: nothing listens there \(connection refused\).*check the network, a proxy, or AWS_ENDPOINT_URL/,
  },
  {
    what: 'a hung endpoint (accepts, never answers)',
    files: yml(BASE),
    args: ['plan'],
    endpoint: 'hang',
    calls: 'reads',
    within: 30,
    says: /(sts GetCallerIdentity|ssm GetParametersByPath|ssm GetParameter|ec2 DescribeAvailabilityZones): http:\/\/localhost:\d+ did not answer in time \(2 attempts\): check the network/,
  },
  {
    what: 'a server error answer',
    files: yml(BASE),
    args: ['plan'],
    endpoint: 'server-error',
    calls: 'reads',
    says: /(sts GetCallerIdentity|ssm GetParametersByPath|ssm GetParameter|ec2 DescribeAvailabilityZones): http:\/\/localhost:\d+ answered HTTP 500, a server error \(\d+ attempts\)\nwhat to do: .*run the same command again/,
  },
  {
    what: 'a garbage answer',
    files: yml(BASE),
    args: ['plan'],
    endpoint: 'garbage',
    calls: 'reads',
    says: /(sts GetCallerIdentity|ssm GetParametersByPath|ssm GetParameter|ec2 DescribeAvailabilityZones): http:\/\/localhost:\d+ answered HTTP 200 \(text\/xml\) with something that is not an AWS answer/,
  },
  {
    what: 'a refusal by AWS (access denied)',
    files: yml(BASE),
    args: ['plan'],
    endpoint: 'refuse-all',
    calls: 'reads',
    says: /AccessDenied.*refused by the test \((sts GetCallerIdentity|ssm GetParametersByPath|ssm GetParameter|ec2 DescribeAvailabilityZones) at http:\/\/localhost:\d+: HTTP 40[03]\)[\s\S]*what to do: the credentials in use lack a permission/,
  },
  {
    what: 'missing credentials',
    files: yml(BASE),
    args: ['plan'],
    env: {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_PROFILE: 'touchdown-no-such-profile',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    },
    calls: 'reads',
    says: /no AWS credentials for .*: set AWS_PROFILE \(after aws configure or aws sso login\), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
  },
  {
    what: 'AWS failing in the middle of a deploy: the failed step is said once',
    files: yml(BASE),
    args: ['deploy', '--image', IMAGE, '--yes'],
    endpoint: 'identity-only',
    calls: 'lock',
    // The first write is the stack lock's (S3, before any step); a failure inside a step reads "<step> failed: …".
    says: /(infrastructure failed: reading .* of stack "shop-production": |s3 PutObject: ).*answered HTTP 500, a server error/,
    once: /answered HTTP 500/g,
  },
  {
    what: 'a server error, with --json',
    files: yml(BASE),
    args: ['plan', '--json'],
    endpoint: 'server-error',
    calls: 'reads',
    on: 'stdout',
    says: /"kind": "aws",\s*"message": ".*answered HTTP 500/,
  },
];

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'touchdown-bad-input-'));
  for (const [name, text] of Object.entries(files)) {
    if (name.endsWith('/')) await mkdir(join(dir, name), { recursive: true });
    else await writeFile(join(dir, name), text);
  }
  return dir;
}

/** This process's environment before any case: a case run here has the process's for its time. */
const TEST_ENV = { ...process.env } as Record<string, string>;

/**
 * The command, in this test's process where it can run there (one at a time; spawning each of the eighty cases
 * cost a command's start each, half a CPU second); a case that waits on timeouts runs as a process of its own.
 */
function run(args: string[], cwd: string, env: Record<string, string>, ownProcess: boolean) {
  return runCliWithEnv(args, { cwd, env, process: ownProcess });
}

describe('bad input: refused with the field and the fix, nothing changed', { concurrency: 4 }, () => {
  it('has at least sixty cases', () => assert.ok(CASES.length >= 60, `${CASES.length} cases`));
  for (const c of CASES) {
    it(c.what, { timeout: 90_000 }, async () => {
      const endpoint =
        c.endpoint === 'closed' ? undefined : await startFakeEndpoint(c.endpoint ?? 'refuse-all');
      const url = endpoint?.url ?? (await closedPort());
      try {
        const cwd = await project(c.files ?? {});
        const env: Record<string, string> = {
          ...TEST_ENV,
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_REGION: 'us-east-1',
          AWS_ENDPOINT_URL: url,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          NO_COLOR: '1',
          ...c.env,
        };
        for (const [k, v] of Object.entries(env)) if (v === '') delete env[k];
        delete env.TOUCHDOWN_LOCK_BUCKET;
        const r = await run(c.args, cwd, env, c.within !== undefined);
        const said = c.on === 'stdout' ? r.stdout : r.stderr;
        assert.equal(r.code, c.code ?? 1, `exit code\n${r.stdout}\n${r.stderr}`);
        assert.match(said, c.says);
        if (c.on !== 'stdout') assert.equal(r.stdout.trim(), '', 'nothing on stdout but a result');
        else JSON.parse(r.stdout);
        if (c.once) assert.equal(said.match(c.once)?.length, 1, `said once:\n${said}`);
        const lines = said.split('\n').filter((l) => l.trim() !== '' && !/^\s*"/.test(l));
        assert.equal(new Set(lines).size, lines.length, `each line once:\n${said}`);
        if (c.within) {
          assert.ok(endpoint && endpoint.held.length > 0, 'the command reached the endpoint');
          // Each call gave up on its own (its connection closed before the command ended) and was tried twice.
          const tries: Record<string, number> = {};
          for (const h of endpoint.held) tries[h.operation] = (tries[h.operation] ?? 0) + 1;
          assert.deepEqual(new Set(Object.values(tries)), new Set([2]), JSON.stringify(endpoint.held));
          const inARow = waitsInARow(endpoint.held);
          const readTimeout = Math.max(
            ...endpoint.held.map((h) => requestHandlerOptions(h.service).socketTimeout),
          );
          assert.ok(
            (inARow * readTimeout) / 1000 < c.within,
            `${inARow} waits of ${readTimeout / 1000} s one after another, not within ${c.within} s`,
          );
        }
        if (endpoint) {
          if ((c.calls ?? 'none') === 'none') assert.deepEqual(endpoint.asked, [], 'no AWS call at all');
          else {
            // Taking the stack's lock (its bucket and object in the account's lock bucket) is the first write of a run.
            const lockWrites = (a: { path: string }) =>
              c.calls === 'lock' && a.path.startsWith('/touchdown-locks-');
            assert.deepEqual(
              changes(endpoint.asked).filter((a) => !lockWrites(a)),
              [],
              'no AWS call that changes something',
            );
          }
        }
      } finally {
        await endpoint?.close();
      }
    });
  }
});

describe('secret values Parameter Store would refuse', () => {
  for (const [what, value, says] of [
    ['an empty value', '', /^STRIPE_KEY: the value is empty; give the secret's value$/],
    [
      'a value over 4 KB',
      'k'.repeat(5000),
      /^STRIPE_KEY: 5000 bytes; Parameter Store keeps up to 4096 per secret: keep a larger one/,
    ],
  ] as const) {
    it(`refuses ${what} before calling AWS`, async () => {
      const endpoint = await startFakeEndpoint('refuse-all');
      try {
        const aws = new AwsClients({ region: 'us-east-1', endpoint: endpoint.url });
        const secrets = new Secrets(
          aws,
          parseManifest(`${BASE}secrets: [STRIPE_KEY]\n`, '/shop/touchdown.yml'),
        );
        await assert.rejects(
          secrets.set('STRIPE_KEY', value),
          (err) => err instanceof ConfigError && says.test(err.message),
        );
        assert.deepEqual(endpoint.asked, [], 'no AWS call');
        assert.deepEqual(aws.calls, []);
      } finally {
        await endpoint.close();
      }
    });
  }
});

describe('what the README promises', () => {
  it('counts the resource types the registry has', async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const said = /(\d+) resource types are available/.exec(readme);
    assert.ok(said, 'README says how many resource types there are');
    assert.equal(Number(said[1]), resourceTypes.length);
  });
});
