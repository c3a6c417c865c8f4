// touchdown.yml: what a Django developer declares. One schema serves validation, defaults, editor completion
// (published as JSON Schema) and the blueprint that turns it into AWS resources.
import { z } from 'zod';
import { isSecretName } from '../aws/ecs/task-definition.js';
import { ciProblems, ciSchema } from '../ci/manifest.js';
import { parseCidr } from '../core/args.js';
import { usageSchema } from '../cost/usage.js';
import { AWS_REGIONS, regionProblem } from './regions.js';

/** Room for environment in a 64 KiB task definition, leaving the rest for Touchdown's own settings. */
export const ENVIRONMENT_LIMIT = 48 * 1024;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The Fargate CPU units and the memory sizes (MiB) AWS allows with each. */
export const FARGATE_SIZES: Record<number, number[]> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: Array.from({ length: 13 }, (_, i) => 4096 + i * 1024),
  4096: Array.from({ length: 23 }, (_, i) => 8192 + i * 1024),
};

/** EventBridge Scheduler's cron: six fields, one of day-of-month and day-of-week must be "?". */
export function cronProblem(expression: string): string | undefined {
  const m = /^cron\((.*)\)$/.exec(expression.trim());
  const body = m ? m[1]! : expression.trim();
  const fields = body.split(/\s+/);
  if (fields.length !== 6) {
    return `"${expression}" has ${fields.length} fields; AWS cron has six: minutes hours day-of-month month day-of-week year, e.g. "0 3 * * ? *" for 03:00 every day`;
  }
  const [min, hour, dom, mon, dow, year] = fields as [string, string, string, string, string, string];
  const ranges: [string, string, number, number][] = [
    ['minutes', min, 0, 59],
    ['hours', hour, 0, 23],
    ['day-of-month', dom, 1, 31],
    ['month', mon, 1, 12],
    ['year', year, 1970, 2199],
  ];
  for (const [name, value, lo, hi] of ranges) {
    if (!/^(\*|\?|[0-9A-Z,\-/LW#]+)$/.test(value)) return `${name} "${value}" is not a cron field`;
    for (const n of value.split(/[,\-/]/).filter((x) => /^\d+$/.test(x))) {
      if (Number(n) < lo || Number(n) > hi) return `${name} ${n} is outside ${lo}-${hi}`;
    }
  }
  if (!/^(\*|\?|[0-9A-Z,\-/L#]+)$/.test(dow)) return `day-of-week "${dow}" is not a cron field`;
  if ((dom === '?') === (dow === '?')) {
    return `one of day-of-month ("${dom}") and day-of-week ("${dow}") must be "?", e.g. "0 3 * * ? *"`;
  }
  return undefined;
}

const cron = z.string().superRefine((v, ctx) => {
  const problem = cronProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const envName = z
  .string()
  .regex(ENV_NAME, 'use upper-case letters, digits and underscores, like STRIPE_API_KEY');

const fargateSize = {
  /** CPU units: 256 (¼ vCPU), 512, 1024, 2048 or 4096. */
  cpu: z
    .union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)])
    .optional(),
  /** Memory in MiB; AWS allows only some sizes with each CPU. */
  memory: z.number().int().positive().optional(),
};

const autoscaling = z.strictObject({
  min: z.number().int().min(0).max(1000),
  max: z.number().int().min(1).max(1000),
  /** Keep average CPU near this percentage. */
  cpu: z.number().min(10).max(95).optional(),
  /** Or keep requests per task near this number (per minute, from the load balancer). */
  requestsPerTarget: z.number().int().positive().optional(),
});

export const manifestSchema = z
  .strictObject({
    /** Your application's name: stacks are named <app>-<stage>. */
    app: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,28}[a-z0-9]$/,
        'use 2 to 30 lower-case letters, digits and hyphens, starting with a letter',
      ),
    /** AWS region; AWS_REGION and --region override it. */
    region: z.enum(AWS_REGIONS, { error: (issue) => regionProblem(String(issue.input)) }).optional(),
    django: z.strictObject({
      /** Directory of manage.py, relative to this file. */
      project: z.string().default('.'),
      /** Settings module, e.g. mysite.settings. */
      settings: z.string().regex(/^[A-Za-z_][\w.]*$/, 'a Python module path like mysite.settings'),
      /** WSGI application, e.g. mysite.wsgi:application. */
      wsgi: z
        .string()
        .regex(/^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$/, 'a module and attribute like mysite.wsgi:application')
        .optional(),
      /** ASGI application, for a project that has no WSGI one (served by gunicorn's uvicorn workers). */
      asgi: z
        .string()
        .regex(/^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$/, 'a module and attribute like mysite.asgi:application')
        .optional(),
      python: z.enum(['3.10', '3.11', '3.12', '3.13', '3.14']).default('3.12'),
      /**
       * The name the settings read the secret key from when it is not DJANGO_SECRET_KEY (e.g. SECRET_KEY): the key
       * Touchdown generates reaches the processes under this name too.
       */
      secretKeyName: envName.optional(),
      requirements: z.string().default('requirements.txt'),
      /** The Dockerfile to build; `touchdown init` writes one when the project has none. */
      dockerfile: z.string().default('Dockerfile'),
    }),
    network: z
      .strictObject({
        /** Availability zones to spread over. */
        azs: z.union([z.literal(2), z.literal(3)]).default(2),
        /**
         * How app subnets reach the internet: none (app subnets are public, tasks get public IPs, no NAT cost),
         * instance (one t4g.nano NAT instance in the first zone, ~$7/month with its public address; if that zone
         * fails, the others lose their way out too), gateway (managed NAT gateways, ~$32 per AZ per month).
         */
        nat: z.enum(['none', 'instance', 'gateway']).default('none'),
        cidr: z
          .string()
          .refine((v) => parseCidr(v)?.prefix === 16, 'a /16 block such as 10.0.0.0/16')
          .default('10.0.0.0/16'),
      })
      .default({ azs: 2, nat: 'none', cidr: '10.0.0.0/16' }),
    database: z
      .strictObject({
        engine: z.literal('postgres').default('postgres'),
        version: z
          .string()
          .regex(/^\d+(\.\d+)?$/)
          .default('16'),
        instance: z
          .string()
          .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class like db.t4g.micro')
          .default('db.t4g.micro'),
        /** Storage in GB (20 to 65536). */
        storage: z.number().int().min(20, 'RDS PostgreSQL needs at least 20 GB').max(65536).default(20),
        /** Let storage grow by itself up to this many GB. */
        maxStorage: z.number().int().max(65536).optional(),
        /** Days of automated backups (0 to 35); point-in-time restore needs at least 1. */
        backups: z.number().int().min(0).max(35).default(7),
        multiAz: z.boolean().default(false),
        deletionProtection: z.boolean().default(true),
      })
      .optional(),
    cache: z
      .strictObject({
        engine: z.enum(['valkey', 'redis', 'memcached']).default('valkey'),
        node: z
          .string()
          .regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, 'a node type like cache.t4g.micro')
          .default('cache.t4g.micro'),
      })
      .optional(),
    buckets: z
      .strictObject({
        /** A private bucket for collectstatic, served through CloudFront. */
        static: z.boolean().default(true),
        /** A private bucket for uploads (FileField, ImageField). */
        media: z.boolean().default(true),
      })
      .default({ static: true, media: true }),
    /** CloudFront in front of the buckets and the app. */
    cdn: z.boolean().default(true),
    domain: z
      .strictObject({
        /** The site's host name, e.g. www.example.com. */
        name: z.string().regex(HOSTNAME, 'a host name like www.example.com'),
        /** The Route53 hosted zone it lives in, e.g. example.com. */
        zone: z.string().regex(HOSTNAME, 'a domain like example.com'),
      })
      .optional(),
    email: z
      .strictObject({
        /** Sender address; its domain is verified with SES (DKIM records written to the zone). */
        from: z.email(),
      })
      .optional(),
    web: z
      .strictObject({
        /**
         * fargate (default); ec2 (the same containers on an auto scaling group of web.instanceType instances that
         * ECS sizes to the tasks, seed 000; needs network.nat); or lambda (API Gateway, seed 002).
         */
        compute: z.enum(['fargate', 'ec2', 'lambda']).default('fargate'),
        ...fargateSize,
        /** Web tasks to run; on ec2 also the fewest instances kept (autoscaling.min when set). */
        count: z.number().int().min(1).max(100).default(2),
        autoscaling: autoscaling.optional(),
        /** Overrides the container's command (default: gunicorn on port 8000 with the settings contract). */
        command: z.string().optional(),
        /** A path that answers 200 when the app is up. */
        healthCheck: z.string().startsWith('/').default('/'),
        /**
         * rolling: ECS replaces tasks in batches (old and new serve together for a while);
         * switch: new tasks start beside the old, and traffic moves at once when they are healthy.
         */
        traffic: z.enum(['rolling', 'switch']).default('rolling'),
        /**
         * EC2 instance type (compute: ec2). Graviton types (t4g, m7g, c7g…) run arm64 images: build the image for
         * linux/arm64, or pick an x86_64 type such as t3.small.
         */
        instanceType: z
          .string()
          .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type like t4g.small')
          .default('t4g.small'),
        /** Seconds a request may take (compute: lambda; API Gateway stops at 29). */
        timeout: z.number().int().min(1).max(29).default(29),
        /**
         * The processor the app runs on: arm64 (Graviton, about 20% cheaper) or x86_64. compute: lambda installs the
         * package's wheels for it (x86_64 for a requirement that publishes no arm64 wheel); compute: fargate builds
         * the image for it (linux/arm64 or linux/amd64). On ec2, web.instanceType decides.
         * @default arm64 on lambda, x86_64 on fargate
         */
        architecture: z.enum(['arm64', 'x86_64']).optional(),
      })
      .default({
        compute: 'fargate',
        count: 2,
        healthCheck: '/',
        traffic: 'rolling',
        instanceType: 't4g.small',
        timeout: 29,
      }),
    /**
     * Search on OpenSearch Service (seed 002): a private domain the app reaches as OPENSEARCH_URL, signing with its
     * role. `touchdown up` takes the URL of an OpenSearch you run (--opensearch-url).
     */
    search: z
      .strictObject({
        /** OpenSearch version, e.g. "2.19". */
        version: z
          .string()
          .regex(/^\d+\.\d+$/, 'a version like "2.19"')
          .default('2.19'),
        /** Data node type. */
        instance: z
          .string()
          .regex(/^[a-z0-9]+\.[a-z0-9]+\.search$/, 'an OpenSearch instance type like t3.small.search')
          .default('t3.small.search'),
        /** Data nodes: 1, or a multiple of network.azs (spread over the zones). */
        nodes: z.number().int().min(1).max(80).default(1),
        /** Storage per node in GB (gp3). */
        storage: z.number().int().min(10).max(3584).default(10),
        /** UTC hour of the daily automated snapshot. */
        snapshotHour: z.number().int().min(0).max(23).default(3),
      })
      .optional(),
    /**
     * The Celery broker on AWS, written as workers.broker: "sqs" (default, a queue per stack) or "rabbitmq" (an
     * Amazon MQ broker, one node); { engine: rabbitmq, cluster: true, instance: mq.m7g.large } for three nodes.
     */
    broker: z
      .union(
        [
          z.enum(['sqs', 'rabbitmq']),
          z.strictObject({
            engine: z.literal('rabbitmq'),
            /** mq.t3.micro runs one node only; a cluster needs mq.m5 or mq.m7g. */
            instance: z
              .string()
              .regex(/^mq\.[a-z0-9]+\.[a-z0-9]+$/, 'an Amazon MQ instance type like mq.m7g.large')
              .default('mq.t3.micro'),
            /** Three nodes over the zones (CLUSTER_MULTI_AZ). */
            cluster: z.boolean().default(false),
          }),
        ],
        {
          error: () =>
            'write sqs, rabbitmq, or { engine: rabbitmq, cluster: true, instance: mq.m7g.large } for a three-node broker',
        },
      )
      .default('sqs'),
    /** Celery workers by name, e.g. default: { command: "celery -A blog worker" }. */
    workers: z
      .record(
        z.string().regex(/^[a-z][a-z0-9-]*$/),
        z.strictObject({
          command: z.string(),
          count: z.number().int().min(0).max(100).default(1),
          ...fargateSize,
        }),
      )
      .default({}),
    /** Scheduled management commands (seed 002's nightly jobs). */
    schedules: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z][a-z0-9-]*$/),
          /** AWS cron (six fields) in UTC, e.g. "0 3 * * ? *". */
          cron,
          /** A management command with its arguments, e.g. "clearsessions". */
          command: z.string().min(1),
        }),
      )
      .default([]),
    /** Names of secrets your code reads; set them with `touchdown secrets set NAME`. */
    secrets: z.array(envName).default([]),
    /** Plain settings for every process (not secrets). */
    environment: z.record(envName, z.string()).default({}),
    release: z
      .strictObject({
        migrate: z.boolean().default(true),
        collectstatic: z.boolean().default(true),
        /** Snapshot the database before migrating. */
        snapshot: z.boolean().default(false),
        /**
         * Management commands run after migrate and collectstatic, in order, each as a one-off task (an Invoke on
         * Lambda, a process in `touchdown up`), e.g. ["compress", "compilemessages", "loaddata initial.json"]. As with
         * migrate, a failing one stops the release and the previous one keeps serving.
         */
        commands: z
          .array(
            z
              .string()
              .trim()
              .min(1)
              .refine((c) => !/^(\S*python\S*\s+)?(\S*\/)?(manage\.py|django-admin)\b/.test(c), {
                message:
                  'a management command with its arguments, without "python manage.py": e.g. "compress"',
              }),
          )
          .default([]),
      })
      .default({ migrate: true, collectstatic: true, snapshot: false, commands: [] }),
    /** Where `touchdown up` runs the stack locally. */
    local: z
      .strictObject({
        /** The Celery broker on this machine: SQS on the local AWS (default) or RabbitMQ. */
        broker: z.enum(['sqs', 'rabbitmq']).default('sqs'),
        /** Web processes behind the local entry point. */
        processes: z.number().int().min(1).max(32).default(2),
        port: z.number().int().min(1).max(65535).default(8000),
      })
      .default({ broker: 'sqs', processes: 2, port: 8000 }),
    /** A month's traffic, for the estimate of usage-priced parts (`touchdown cost`, plans); see docs/costs.md. */
    usage: usageSchema.optional(),
    /** Continuous deployment: the CI service, repository and branch that deploy this stage (`touchdown ci`). */
    ci: ciSchema.optional(),
    /** Environments such as staging and production; each overrides any value above. */
    stages: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.record(z.string(), z.unknown())).default({}),
  })
  .superRefine((m, ctx) => {
    const problem = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (m.domain && m.domain.name !== m.domain.zone && !m.domain.name.endsWith(`.${m.domain.zone}`)) {
      problem(
        ['domain', 'zone'],
        `"${m.domain.name}" is not inside the zone "${m.domain.zone}": use its parent domain`,
      );
    }
    if (m.email && !m.domain)
      problem(['email'], 'email needs domain: SES verifies the sender domain with DNS records in its zone');
    if (m.web.compute === 'lambda' && Object.keys(m.workers).length > 0) {
      problem(
        ['workers'],
        'Lambda runs no Celery workers: use web.compute fargate (or ec2), or remove workers',
      );
    }
    if (m.web.compute === 'ec2' && m.network.nat === 'none') {
      problem(
        ['network', 'nat'],
        'tasks on EC2 instances get no public address, so without a NAT they cannot reach the internet: set ' +
          'network.nat to "instance" (about $7 a month) or "gateway"',
      );
    }
    if (m.search && m.search.nodes > 1 && m.search.nodes % m.network.azs !== 0) {
      problem(
        ['search', 'nodes'],
        `${m.search.nodes} nodes do not spread evenly over network.azs (${m.network.azs}): use 1 or a multiple of ${m.network.azs}`,
      );
    }
    if (typeof m.broker === 'object' && m.broker.cluster && m.broker.instance.startsWith('mq.t3.')) {
      problem(['broker', 'instance'], 'mq.t3.micro runs a single node: use mq.m7g.large for a cluster');
    }
    if (m.search && m.web.compute === 'lambda') {
      problem(
        ['search'],
        'search needs web.compute fargate or ec2 (the app reaches the domain from its VPC)',
      );
    }
    if (m.broker !== 'sqs' && m.web.compute === 'lambda') {
      problem(['broker'], 'Lambda runs no Celery workers: remove workers.broker');
    }
    if (m.web.compute === 'lambda' && m.web.autoscaling) {
      problem(['web', 'autoscaling'], 'Lambda scales by itself: remove web.autoscaling');
    }
    if (m.web.compute === 'lambda') lambdaProblems(m, problem);
    if (m.web.compute === 'ec2' && m.web.architecture !== undefined) {
      problem(
        ['web', 'architecture'],
        'on ec2 web.instanceType decides the processor (t4g, m7g, c7g… are arm64, t3 and m7i x86_64): remove web.architecture',
      );
    }
    ciProblems(m, problem);
    const sized: [string[], { cpu?: number; memory?: number }][] = [
      [['web'], m.web],
      ...Object.entries(m.workers).map(([k, w]): [string[], typeof w] => [['workers', k], w]),
    ];
    for (const [where, { cpu, memory }] of sized) {
      if (cpu !== undefined && memory !== undefined && !FARGATE_SIZES[cpu]!.includes(memory)) {
        const allowed = FARGATE_SIZES[cpu]!.join(', ');
        problem(
          [...where, 'memory'],
          `Fargate does not run ${cpu} CPU units with ${memory} MiB; with ${cpu} use one of ${allowed}`,
        );
      }
    }
    const a = m.web.autoscaling;
    if (a) {
      if (a.min > a.max) problem(['web', 'autoscaling', 'min'], `min ${a.min} is above max ${a.max}`);
      if (m.web.count < a.min || m.web.count > a.max) {
        problem(['web', 'count'], `count ${m.web.count} is outside autoscaling's ${a.min} to ${a.max}`);
      }
      if (a.cpu === undefined && a.requestsPerTarget === undefined) {
        problem(['web', 'autoscaling'], 'say what to scale on: cpu (a percentage) or requestsPerTarget');
      }
      if (a.requestsPerTarget !== undefined && m.web.traffic === 'switch') {
        problem(
          ['web', 'autoscaling', 'requestsPerTarget'],
          'requests are counted at one target group, and web.traffic: switch moves the service between two at each release: scale on cpu, or use web.traffic: rolling',
        );
      }
    }
    if (m.database?.maxStorage !== undefined && m.database.maxStorage <= m.database.storage) {
      problem(['database', 'maxStorage'], `maxStorage must be above storage (${m.database.storage} GB)`);
    }
    if (m.cdn && !m.buckets.static && !m.buckets.media && m.web.compute === 'lambda') {
      problem(['cdn'], 'nothing to put behind the CDN: enable a bucket or set cdn: false');
    }
    const names = m.schedules.map((s) => s.name);
    names.forEach((n, i) => {
      if (names.indexOf(n) !== i)
        problem(['schedules', i, 'name'], `"${n}" is used twice; give each schedule its own name`);
    });
    if (!m.django.wsgi && !m.django.asgi) {
      problem(['django', 'wsgi'], 'say what serves the app: wsgi (e.g. mysite.wsgi:application) or asgi');
    }
    for (const s of m.secrets) {
      if (s in m.environment)
        problem(['environment', s], `${s} is declared as a secret: remove it from environment`);
    }
    for (const name of Object.keys(m.environment)) {
      if (isSecretName(name) && !m.secrets.includes(name)) {
        problem(
          ['environment', name],
          'looks like a secret, and environment values are visible to anyone who can read the task ' +
            `definition: move it to secrets: [${name}] and set it with touchdown secrets set ${name}`,
        );
      }
    }
    // ECS refuses a task definition over 64 KiB; each process's definition carries all of environment.
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
    const envBytes = Object.entries(m.environment).reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 32,
      0,
    );
    if (envBytes > ENVIRONMENT_LIMIT) {
      problem(
        ['environment'],
        `${envBytes} bytes of settings; ECS takes at most 64 KiB per task definition, so keep environment ` +
          `under ${ENVIRONMENT_LIMIT} bytes: move large values to a file in the image or to S3`,
      );
    }
  });

/** What web.compute: lambda cannot run, each with its fix. */
function lambdaProblems(
  m: {
    django: { python: string; wsgi?: string };
    web: { cpu?: number; memory?: number; command?: string };
    network: { nat: string };
    database?: unknown;
    cache?: unknown;
  },
  problem: (path: (string | number)[], message: string) => void,
): void {
  if (Number(m.django.python.split('.')[1]) < 12) {
    problem(
      ['django', 'python'],
      `Lambda runs Python 3.12 or newer, not ${m.django.python}: set django.python to "3.12" or "3.13"`,
    );
  }
  if (m.web.cpu !== undefined) {
    problem(
      ['web', 'cpu'],
      'Lambda gives CPU in proportion to memory: remove web.cpu and size web.memory instead',
    );
  }
  if (m.web.memory !== undefined && (m.web.memory < 128 || m.web.memory > 10240)) {
    problem(
      ['web', 'memory'],
      `Lambda takes 128 to 10240 MB, not ${m.web.memory}: 1024 (the default) suits most Django apps`,
    );
  }
  if (m.web.command !== undefined) {
    problem(['web', 'command'], "on Lambda Touchdown's handler serves django.wsgi: remove web.command");
  }
  if (!m.django.wsgi) {
    problem(
      ['django', 'asgi'],
      "Lambda's handler serves a WSGI application: set django.wsgi, or compute: fargate",
    );
  }
  if ((m.database || m.cache) && m.network.nat === 'none') {
    problem(
      ['network', 'nat'],
      'a Lambda function in the VPC (to reach the database and cache) gets no public address, so without a NAT ' +
        'it cannot reach Parameter Store or S3: set network.nat to "instance" (one small NAT instance, about ' +
        '$3 a month) or "gateway" (about $32 a month per zone)',
    );
  }
}

/**
 * `workers.broker` is written among the workers but names none: it is read as the manifest's `broker`, so that
 * every worker entry stays a worker. Issues about it are reported back at workers.broker.
 */
export function liftBroker(input: unknown): unknown {
  const workers = (input as { workers?: unknown })?.workers;
  if (typeof workers !== 'object' || workers === null || !('broker' in workers)) return input;
  const { broker, ...rest } = workers as Record<string, unknown>;
  return { ...(input as object), workers: rest, broker };
}

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;
