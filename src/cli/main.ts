// The touchdown command line. Only commander loads up front; each command loads what it needs when it runs.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { passThroughAfterOperand } from './pass-through.js';
import type { GlobalOptions } from './session.js';
import { streams } from './streams.js';

// Touchdown pins its AWS SDK release in its lockfile, so the SDK's notice about future Node versions is ours to act on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Runs one command line (`argv` as process.argv has it: node, the script, then the arguments) and resolves to its
 * exit code. It never exits the process, so a test may run it in its own (test/support/cli.ts).
 */
export async function main(argv: string[]): Promise<number> {
  streams.shown.clear();
  const exit = { code: 0 };
  const program = commandLine(argv, exit);
  try {
    await program.parseAsync(passThroughAfterOperand(argv, program, 'manage'));
  } catch (err) {
    // --help, --version and a mistake on the command line (already reported by commander).
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return exit.code;
}

function commandLine(argv: string[], exit: { code: number }): Command {
  /** --json anywhere on the command line, even one commander could not parse. */
  const wantsJson = () => argv.slice(2).includes('--json');

  async function finish(run: Promise<number>): Promise<void> {
    try {
      exit.code = await run;
    } catch (err) {
      const { reportError } = await import('./errors.js');
      exit.code = reportError(err, { json: wantsJson() });
    }
  }

  const program = new Command('touchdown')
    .exitOverride()
    .description('Declare AWS resources in TypeScript; plan, apply and destroy them.')
    .version('0.1.0')
    .option('-c, --config <path>', 'the stack definition (default: ./touchdown.config.ts)')
    .option('-s, --stack <name>', "override the stack's name (several copies of one definition)")
    .option('--stage <name>', 'the stage of touchdown.yml to work on (default: production)')
    .option(
      '-r, --region <region>',
      'AWS region (default: AWS_REGION, then the definition, then your AWS profile)',
    )
    .option('--json', 'print one JSON document for machines instead of text')
    .option('-y, --yes', 'do not ask before changing anything (required when stdin is not a terminal)')
    .option('--concurrency <n>', 'operations in flight at once', positiveInt, 10)
    .option('--lock-timeout <duration>', 'how long to wait for another run of this stack (e.g. 5m)', '0s')
    .option(
      '--lock-bucket <name>',
      "the S3 bucket holding the stack's lock, shared by every checkout and machine deploying it (default: TOUCHDOWN_LOCK_BUCKET, else the account's own touchdown-locks-<account>-<region>, made on first use)",
    )
    .option('--no-color', 'plain text without colours')
    .showHelpAfterError()
    // With --json, a mistake on the command line is a JSON document on stdout too (help text is left out).
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => (wantsJson() ? undefined : streams.stderr.write(text)),
      outputError: (text, write) => {
        if (!wantsJson()) return write(text);
        const message = text.replace(/^error: /, '').trim();
        streams.stdout.write(
          `${JSON.stringify({ error: { kind: 'input', message, nothingChanged: true } }, null, 2)}\n`,
        );
      },
    });

  program
    .command('plan')
    .description('show what apply would change, attribute by attribute')
    .option('--detailed-exitcode', 'exit 0 when nothing would change, 2 when something would, 1 on error')
    .action(async (opts, cmd: Command) => {
      const { planCommand } = await import('./commands/plan.js');
      return finish(planCommand({ ...global(cmd), ...opts }));
    });

  program
    .command('apply')
    .description('make AWS match the stack definition')
    .option('--force', 'also delete data stores that still hold data (buckets with objects)')
    .action(async (opts, cmd: Command) => {
      const { applyCommand } = await import('./commands/apply.js');
      return finish(applyCommand({ ...global(cmd), ...opts }));
    });

  program
    .command('destroy')
    .description('delete everything the stack owns, dependents first')
    .option('--force', 'also delete data stores that hold data (buckets with objects); their data is lost')
    .action(async (opts, cmd: Command) => {
      const { applyCommand } = await import('./commands/apply.js');
      return finish(applyCommand({ ...global(cmd), ...opts }, true));
    });

  program
    .command('graph')
    .description('print the resource graph (no AWS access needed)')
    .addOption(new Option('--format <format>', 'output format').choices(['dot', 'mermaid']).default('dot'))
    .action(async (opts, cmd: Command) => {
      const { graphCommand } = await import('./commands/graph.js');
      return finish(graphCommand({ ...global(cmd), ...opts }));
    });

  program
    .command('outputs')
    .description("print the stack's outputs, read from what exists")
    .argument('[name]', 'print only this output, unquoted (for scripts)')
    .option('--reveal', 'show sensitive outputs too')
    .action(async (name: string | undefined, opts, cmd: Command) => {
      const { outputsCommand } = await import('./commands/outputs.js');
      return finish(outputsCommand(name, { ...global(cmd), ...opts }));
    });

  program
    .command('init')
    .description('set up a Django project: touchdown.yml, a production Dockerfile, the settings snippet')
    .option('--force', 'replace files that exist (otherwise Touchdown asks, or leaves them)')
    .action(async (opts, cmd: Command) => {
      const { initCommand } = await import('./commands/init.js');
      return finish(initCommand({ ...global(cmd), ...opts }));
    });

  program
    .command('deploy')
    .description('deploy the Django app: infrastructure, image, migrate and collectstatic, then traffic')
    .option('--image <uri>', 'deploy an image built elsewhere (CI) instead of building one here')
    .action(async (opts, cmd: Command) => {
      const { deployCommand } = await import('./commands/deploy.js');
      return finish(deployCommand({ ...global(cmd), ...opts }));
    });

  program
    .command('cost')
    .description(
      "the stage's monthly estimate per resource and in total, from the price table (region-aware)",
    )
    .action(async (_opts, cmd: Command) => {
      const { costCommand } = await import('./commands/cost.js');
      return finish(costCommand(global(cmd)));
    });

  program
    .command('status')
    .description('the serving release, running tasks, URLs and pending changes')
    .action(async (_opts, cmd: Command) => {
      const { statusCommand } = await import('./commands/operate.js');
      return finish(statusCommand(global(cmd)));
    });

  program
    .command('scale')
    .description('change how many tasks run, e.g. web=3 worker-default=2 (the release is kept)')
    .argument('<counts...>', 'process=count pairs')
    .action(async (counts: string[], _opts, cmd: Command) => {
      const { scaleCommand } = await import('./commands/operate.js');
      return finish(scaleCommand(counts, global(cmd)));
    });

  program
    .command('rollback')
    .description('serve an earlier release again (its image; the database is left as it is)')
    .argument(
      '[release]',
      'the release number, from touchdown releases (default: the one before the current)',
    )
    .action(async (release: string | undefined, _opts, cmd: Command) => {
      const { rollbackCommand } = await import('./commands/operate.js');
      return finish(rollbackCommand(release, global(cmd)));
    });

  program
    .command('releases')
    .description('the release history, newest first: number, status, time, image, who (what rollback takes)')
    .action(async (_opts, cmd: Command) => {
      const { releasesCommand } = await import('./commands/releases.js');
      return finish(releasesCommand(global(cmd)));
    });

  program
    .command('manage')
    .description(
      'run a management command once with the serving release, e.g. manage createsuperuser --noinput',
    )
    .argument('<args...>', 'manage.py arguments')
    .option('--local', 'against the stack touchdown up runs on this machine, instead of AWS')
    .allowUnknownOption()
    .action(async (args: string[], opts, cmd: Command) => {
      if (opts.local) {
        const { localManageCommand } = await import('./commands/up.js');
        return finish(localManageCommand(args, global(cmd)));
      }
      const { manageCommand } = await import('./commands/operate.js');
      return finish(manageCommand(args, global(cmd)));
    });

  program
    .command('logs')
    .description("the app's logs: web, workers and release tasks")
    .option('-f, --follow', 'keep printing new lines')
    .option('--since <duration>', 'how far back to start', '10m')
    .option('--filter <pattern>', 'a CloudWatch filter pattern, e.g. ERROR')
    .option('--process <name>', 'only web, worker-<name> or release')
    .option('--local', 'the stack touchdown up runs on this machine, instead of AWS')
    .action(async (opts, cmd: Command) => {
      if (opts.local) {
        const { localLogsCommand } = await import('./commands/up.js');
        return finish(localLogsCommand({ ...global(cmd), ...opts }));
      }
      const { logsCommand } = await import('./commands/operate.js');
      return finish(logsCommand({ ...global(cmd), ...opts }));
    });

  program
    .command('up')
    .description('run the stack on this machine: PostgreSQL, Redis, a local AWS, gunicorn, Celery, schedules')
    .option('-d, --detach', 'run in the background; touchdown down stops it')
    .option('--port <n>', 'where the app is served (default: local.port, 8000)', positiveInt)
    .option('--python <path>', 'the Python to run the app with (default: $VIRTUAL_ENV, .venv, python3)')
    .option('--database-url <url>', 'PostgreSQL, as a user who may create databases (default: DATABASE_URL)')
    .option('--redis-url <url>', 'the Redis server (default: REDIS_URL, then redis://localhost:6379)')
    .option('--rabbitmq-url <url>', 'the RabbitMQ broker (default: RABBITMQ_URL, then guest@localhost:5672)')
    .option('--memcached <host:port>', 'the memcached server (default: localhost:11211)')
    .option(
      '--opensearch-url <url>',
      'the OpenSearch for search: (default: TOUCHDOWN_OPENSEARCH_URL, OPENSEARCH_URL)',
    )
    .option('--local-aws <url>', 'a running local AWS (default: TOUCHDOWN_LOCAL_AWS, else moto_server)')
    .addOption(new Option('--supervise').hideHelp())
    .action(async (opts, cmd: Command) => {
      const { upCommand } = await import('./commands/up.js');
      return finish(upCommand({ ...global(cmd), ...opts }));
    });

  program
    .command('down')
    .description('stop the stack touchdown up runs on this machine; its data is kept unless --volumes')
    .option('--volumes', 'also remove its data: database, Redis database, queue, buckets and parameters')
    .option(
      '--database-url <url>',
      'the PostgreSQL user to drop the database with (default: the one up used)',
    )
    .option('--redis-url <url>', 'the Redis server (default: the one up used)')
    .option('--rabbitmq-url <url>', 'the RabbitMQ broker (default: RABBITMQ_URL, then the local one)')
    .option('--local-aws <url>', 'the local AWS to empty, when it was not started by up')
    .action(async (opts, cmd: Command) => {
      const { downCommand } = await import('./commands/up.js');
      return finish(downCommand({ ...global(cmd), ...opts }));
    });

  program
    .command('secrets')
    .description("the app's secrets in Parameter Store: set NAME [VALUE] | get NAME | list | unset NAME")
    .argument('<action>', 'set, get, list or unset')
    .argument('[name]')
    .argument('[value]', 'asked for (not shown as typed) on a terminal, else read from standard input')
    .option('--reveal', 'print the value with get')
    .action(
      async (action: string, name: string | undefined, value: string | undefined, opts, cmd: Command) => {
        const { secretsCommand } = await import('./commands/operate.js');
        return finish(secretsCommand(action, name, value, { ...global(cmd), ...opts }));
      },
    );

  program
    .command('bench')
    .description("load the app for a while: requests per second, latency percentiles, errors, the tasks' CPU")
    .argument('[path]', "a path (default /), or a URL on the stack's own host")
    .option('--local', 'load the app touchdown up runs on this machine, instead of AWS')
    .option('--duration <duration>', 'how long to load it, e.g. 30s or 2m', '10s')
    .option('--connections <n>', 'connections sending requests at once', positiveInt, 10)
    .action(async (path: string | undefined, opts, cmd: Command) => {
      const { benchCommand } = await import('./commands/bench.js');
      return finish(benchCommand(path, { ...global(cmd), ...opts }));
    });

  program
    .command('db')
    .description(
      "the stack's database: snapshot [--name] | snapshots | restore --to <time|snapshot> | remove-old <id> --force",
    )
    .argument('<action>', 'snapshot, snapshots, restore or remove-old')
    .argument('[id]', 'remove-old: the former database to delete')
    .option('--name <id>', 'snapshot: its name (default <database>-manual-<time>)')
    .option('--to <time|snapshot>', 'restore: a UTC time like 2026-12-06T21:30:00Z, or a snapshot id')
    .option('--force', 'remove-old: yes, delete that database (a final snapshot is kept)')
    .action(async (action: string, id: string | undefined, opts, cmd: Command) => {
      const { dbCommand } = await import('./commands/db.js');
      return finish(dbCommand(action, id, { ...global(cmd), ...opts }));
    });

  program
    .command('ci')
    .description(
      'write a pipeline that tests, builds, pushes and deploys a stage, and the ci: section its trust needs',
    )
    .addArgument(new Argument('<provider>', 'the CI service').choices(['github', 'circleci', 'codebuild']))
    .option(
      '--branch <name>',
      "the branch whose pushes deploy (default: ci.branch, then origin's default, then main)",
    )
    .option('--repo <owner/name>', 'the GitHub repository (default: ci.repo, then the git remote origin)')
    .option(
      '--account <id>',
      'the AWS account the stage lives in (default: the account of your AWS credentials)',
    )
    .option('--circleci-org <id>', "CircleCI's organization ID (Organization Settings)")
    .option('--circleci-project <id>', "CircleCI's project ID (Project Settings > Overview)")
    .option(
      '--test <command>',
      'the test command (default: detected: pytest when configured, else manage.py test)',
    )
    .option(
      '--touchdown-package <spec>',
      "how the pipeline installs Touchdown: an npm install spec (default: ci.touchdown, or the project's package.json)",
    )
    .option(
      '--force',
      'replace a pipeline file that exists, or a ci: section for another provider or repository',
    )
    .action(async (provider, opts, cmd: Command) => {
      const { ciCommand } = await import('./commands/ci.js');
      return finish(ciCommand(provider, { ...global(cmd), ...opts }));
    });

  return program;
}

function global(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}
