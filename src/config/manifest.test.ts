import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../test/support/paths.js';
import { ConfigError } from '../core/errors.js';
import { parseManifest } from './load-manifest.js';

const BASE = `app: shop
django:
  settings: shop.settings
  wsgi: shop.wsgi:application
`;

function problems(yaml: string, stage?: string): readonly string[] {
  try {
    parseManifest(yaml, '/project/touchdown.yml', stage);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('the manifest should have been refused');
}

describe('touchdown.yml', () => {
  it('fills in production-grade defaults for a minimal manifest', () => {
    const { manifest, stackName, stage } = parseManifest(BASE, 'touchdown.yml');
    assert.equal(stackName, 'shop-production');
    assert.equal(stage, 'production');
    assert.deepEqual(manifest.network, { azs: 2, nat: 'none', cidr: '10.0.0.0/16' });
    assert.equal(manifest.web.compute, 'fargate');
    assert.equal(manifest.web.count, 2);
    assert.deepEqual(manifest.release, { migrate: true, collectstatic: true, snapshot: false, commands: [] });
    assert.equal(manifest.database, undefined, 'no database unless asked for');
  });

  it('takes release commands, in order, after migrate and collectstatic', () => {
    const { manifest } = parseManifest(
      `${BASE}release:\n  commands: [compress, "loaddata initial.json"]\n`,
      'touchdown.yml',
    );
    assert.deepEqual(manifest.release.commands, ['compress', 'loaddata initial.json']);
  });

  it('lets a stage override any value, deeply', () => {
    const yaml = `${BASE}database: { storage: 20, multiAz: false }
web: { count: 2 }
stages:
  staging: { web: { count: 1 }, database: { storage: 30 } }
  production: { database: { multiAz: true } }
`;
    const staging = parseManifest(yaml, 'touchdown.yml', 'staging');
    assert.equal(staging.stackName, 'shop-staging');
    assert.equal(staging.manifest.web.count, 1);
    assert.equal(staging.manifest.database?.storage, 30);
    assert.equal(staging.manifest.database?.multiAz, false);
    const production = parseManifest(yaml, 'touchdown.yml');
    assert.equal(production.manifest.database?.multiAz, true);
    assert.equal(production.manifest.web.count, 2);
  });

  const cases: [string, string, RegExp][] = [
    [
      'an unknown key, with the likely one',
      `${BASE}databse: {}\n`,
      /^touchdown\.yml:5:1: databse: unknown setting; did you mean "database"\?$/,
    ],
    [
      'a wrong type',
      `${BASE}web: { count: two }\n`,
      /^touchdown\.yml:5:\d+: web\.count: Invalid input: expected number, received string$/,
    ],
    [
      'an impossible size',
      `${BASE}database: { storage: 5 }\n`,
      /^touchdown\.yml:5:\d+: database\.storage: RDS PostgreSQL needs at least 20 GB$/,
    ],
    [
      'an invalid cron',
      `${BASE}schedules:\n  - { name: nightly, cron: "0 3 * * *", command: clearsessions }\n`,
      /schedules\.0\.cron: "0 3 \* \* \*" has 5 fields; AWS cron has six/,
    ],
    [
      'a cron with both day fields',
      `${BASE}schedules:\n  - { name: nightly, cron: "cron(0 3 * * 1 *)", command: x }\n`,
      /one of day-of-month \("\*"\) and day-of-week \("1"\) must be "\?"/,
    ],
    [
      'a domain without its hosted zone',
      `${BASE}domain: { name: www.shop.com }\n`,
      /domain\.zone: required \(string\)$/,
    ],
    [
      'a domain outside its zone',
      `${BASE}domain: { name: www.shop.com, zone: other.com }\n`,
      /domain\.zone: "www\.shop\.com" is not inside the zone "other\.com": use its parent domain/,
    ],
    [
      'Lambda with Celery workers',
      `${BASE}web: { compute: lambda }\nworkers:\n  default: { command: celery -A shop worker }\n`,
      /workers: Lambda runs no Celery workers: use web\.compute fargate \(or ec2\), or remove workers/,
    ],
    [
      'an ASGI application on Lambda',
      `app: shop\ndjango:\n  settings: shop.settings\n  asgi: shop.asgi:application\nweb: { compute: lambda }\n`,
      /django\.asgi: Lambda's handler serves a WSGI application: set django\.wsgi, or compute: fargate/,
    ],
    [
      'neither WSGI nor ASGI',
      'app: shop\ndjango:\n  settings: shop.settings\n',
      /django\.wsgi: say what serves the app: wsgi \(e\.g\. mysite\.wsgi:application\) or asgi/,
    ],
    [
      'an impossible Fargate size',
      `${BASE}web: { cpu: 256, memory: 4096 }\n`,
      /web\.memory: Fargate does not run 256 CPU units with 4096 MiB; with 256 use one of 512, 1024, 2048/,
    ],
    ['email without a domain', `${BASE}email: { from: hello@shop.com }\n`, /email: email needs domain/],
    [
      'autoscaling upside down',
      `${BASE}web: { count: 2, autoscaling: { min: 5, max: 2, cpu: 60 } }\n`,
      /web\.autoscaling\.min: min 5 is above max 2/,
    ],
    [
      'a secret also in environment',
      `${BASE}secrets: [STRIPE_KEY]\nenvironment: { STRIPE_KEY: abc }\n`,
      /environment\.STRIPE_KEY: STRIPE_KEY is declared as a secret: remove it from environment/,
    ],
    [
      'a badly named secret',
      `${BASE}secrets: [stripe-key]\n`,
      /secrets\.0: use upper-case letters, digits and underscores/,
    ],
    [
      'EC2 instances without a NAT',
      `${BASE}web: { compute: ec2 }\n`,
      /network\.nat: tasks on EC2 instances get no public address.*set network\.nat to "instance"/,
    ],
    [
      'an instance type that is not one',
      `${BASE}web: { compute: ec2, instanceType: small }\nnetwork: { nat: instance }\n`,
      /web\.instanceType: an EC2 instance type like t4g\.small/,
    ],
    [
      'a release command written as a shell command',
      `${BASE}release: { commands: [compress, "python manage.py loaddata x.json"] }\n`,
      /release\.commands\.1: a management command with its arguments, without "python manage\.py"/,
    ],
    [
      'a choice not offered',
      `${BASE}network: { nat: always }\n`,
      /network\.nat: use one of "none", "instance", "gateway"/,
    ],
    [
      'an unquoted python: 3.10 (YAML reads the number 3.1)',
      'app: shop\ndjango:\n  settings: a.b\n  wsgi: a.wsgi\n  python: 3.10\n',
      /^touchdown\.yml:5:3: django\.python: write it in quotes, "3\.10".*YAML reads 3\.10 as 3\.1/,
    ],
    [
      'a number where environment takes text',
      `${BASE}environment:\n  PORT: 8000\n`,
      /^touchdown\.yml:6:3: environment\.PORT: write it in quotes, "8000"/,
    ],
    [
      'an environment name with non-ASCII letters',
      `${BASE}environment:\n  CAFÉ: x\n`,
      /^touchdown\.yml:6:3: environment\.CAFÉ: use upper-case letters, digits and underscores/,
    ],
    [
      'a secret typed into environment',
      `${BASE}environment:\n  STRIPE_SECRET_KEY: sk_live_abc\n`,
      /^touchdown\.yml:6:3: environment\.STRIPE_SECRET_KEY: looks like a secret.*secrets: \[STRIPE_SECRET_KEY\].*touchdown secrets set STRIPE_SECRET_KEY/,
    ],
    [
      'more environment than a task definition holds',
      `${BASE}environment:\n  BIG: "${'x'.repeat(50_000)}"\n`,
      /^touchdown\.yml:5:1: environment: \d+ bytes of settings; ECS takes at most 64 KiB/,
    ],
    [
      'a processor Lambda does not run, named as Docker names it',
      `${BASE}network: { nat: gateway }\nweb:\n  compute: lambda\n  architecture: amd64\n`,
      /^touchdown\.yml:8:3: web\.architecture: use one of "arm64", "x86_64"$/,
    ],
    [
      'a processor for EC2 instances, whose type decides it',
      `${BASE}network: { nat: gateway }\nweb:\n  compute: ec2\n  architecture: arm64\n`,
      /^touchdown\.yml:8:3: web\.architecture: on ec2 web\.instanceType decides the processor .*: remove web\.architecture/,
    ],
    [
      'a region that does not exist',
      `${BASE}region: us-east-7\n`,
      /^touchdown\.yml:5:\d+: region: "us-east-7" is not an AWS region; did you mean us-east-1\?/,
    ],
    ['an empty file', '', /^touchdown\.yml is empty: it needs at least app: and django:/],
    ['only comments', '# later\n', /^touchdown\.yml is empty/],
    ['a list at the top', '- app: shop\n', /^touchdown\.yml:1:1: the file holds a list.*"key: value"/],
    [
      'a key with non-ASCII letters',
      `${BASE}dätabase: {}\n`,
      /^touchdown\.yml:5:1: dätabase: unknown setting; did you mean "database"\?/,
    ],
    [
      'a key indented too far',
      `${BASE}web:\n  count: 2\n   cpu: 256\n`,
      /^touchdown\.yml:7: this line is indented differently/,
    ],
    [
      'an unclosed {',
      `${BASE}web: { count: 2\ncache: {}\n`,
      /^touchdown\.yml:5: the \{ opened here is never closed/,
    ],
    [
      'an unclosed quote',
      `${BASE}web:\n  command: "gunicorn\n`,
      /^touchdown\.yml:6: the " opened here is never closed/,
    ],
    ['a tab as indentation', `${BASE}web:\n\tcount: 2\n`, /^touchdown\.yml:6: .*indent with spaces/],
    ['a key given twice', `${BASE}web: {}\nweb: {}\n`, /^touchdown\.yml:6: .*keep one/],
    ['a value holding ": "', `${BASE}web:\n  command: a: b\n`, /^touchdown\.yml:6: .*must be in quotes/],
  ];
  for (const [what, yaml, expected] of cases) {
    it(`refuses ${what}, naming the field and the fix`, () => {
      const found = problems(yaml);
      assert.ok(
        found.some((p) => expected.test(p)),
        `expected ${expected} among:\n${found.join('\n')}`,
      );
    });
  }

  it('reports a bad value a stage sets where the stage sets it', () => {
    const yaml = `${BASE}stages:\n  staging:\n    web: { count: 0 }\n`;
    const [p] = problems(yaml, 'staging');
    assert.match(p!, /^touchdown\.yml:7:\d+: stages\.staging\.web\.count: /);
  });

  it("checks every stage, not only the one asked for, at the stage's own lines", () => {
    const yaml = `${BASE}stages:\n  staging:\n    web: { count: 0 }\n  qa:\n    wbe: {}\n`;
    const found = problems(yaml);
    assert.match(found.join('\n'), /^touchdown\.yml:7:\d+: stages\.staging\.web\.count: use 1 or more$/m);
    assert.match(
      found.join('\n'),
      /^touchdown\.yml:9:5: stages\.qa\.wbe: unknown setting; did you mean "web"\?$/m,
    );
  });

  it('names the stage whose overrides make a base value wrong', () => {
    const yaml = `${BASE}web: { count: 5 }\nstages:\n  staging:\n    web: { autoscaling: { min: 1, max: 2, cpu: 60 } }\n`;
    const found = problems(yaml);
    assert.match(
      found.join('\n'),
      /^touchdown\.yml:5:\d+: web\.count: count 5 is outside autoscaling's 1 to 2 \(with stage staging\)$/m,
    );
  });

  it('refuses a stage nobody declared, naming the known ones and how to create it', () => {
    assert.throws(() => parseManifest(BASE, 'touchdown.yml', 'nope'), {
      message:
        /^--stage nope: touchdown\.yml has no stage "nope"; its stages are production\. To create it, declare it/,
    });
  });

  it('names the stages when asked for one it does not declare', () => {
    assert.throws(
      () => parseManifest(`${BASE}stages: { staging: {}, production: {} }\n`, 'touchdown.yml', 'prod'),
      {
        message:
          '--stage prod: touchdown.yml has no stage "prod"; its stages are production, staging. To create it, declare it in touchdown.yml: stages: { prod: {} } (with the values it overrides)',
      },
    );
  });

  it('points at YAML syntax errors by line', () => {
    const found = problems(`${BASE}web:\n  count: [1\n`);
    assert.match(found[0]!, /^touchdown\.yml:\d+: /);
  });
});

describe('the published JSON Schema', () => {
  it('is up to date with the manifest schema (run `npm run build` after changing it)', async () => {
    const { readFile } = await import('node:fs/promises');
    const { manifestJsonSchema } = await import('./json-schema.js');
    const committed = JSON.parse(await readFile(join(repoRoot, 'schema', 'touchdown.schema.json'), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(manifestJsonSchema())));
    assert.deepEqual(committed.required, ['app', 'django']);
    assert.equal(committed.additionalProperties, false, 'editors flag unknown keys');
  });
});
