// What every command that talks to AWS sets up: the stack (from touchdown.config.ts, or from touchdown.yml
// through the blueprint), clients, the lock, the view, and Ctrl-C.
import { basename } from 'node:path';
import pc from 'picocolors';
import type { Colors } from 'picocolors/types.js';
import { z } from 'zod';
import { AwsClients } from '../aws/clients.js';
import { stackZones } from '../aws/ec2/zones.js';
import { resourceTypes } from '../aws/registry.js';
import { S3Lock } from '../aws/s3/lock.js';
import type { AwsStack } from '../aws/stack.js';
import { instantiate } from '../config/define.js';
import { findConfig, isManifest, loadDefinition } from '../config/load.js';
import { type LoadedManifest, loadManifest } from '../config/load-manifest.js';
import { Engine } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import type { EngineEvent, EventSink } from '../core/events.js';
import type { StackLock } from '../core/lock.js';
import { awsBlueprint, UNASKED_ZONES, zoneNeeds } from '../django/blueprint/index.js';
import { type CountSource, runningCounts } from '../django/counts.js';
import { preflight } from '../django/preflight.js';
import { type Release, ReleaseHistory } from '../django/releases.js';
import { shownAlready } from './errors.js';
import { liveProgress, type ProgressView, plainProgress } from './render/progress.js';
import { streams } from './streams.js';

// A command parses each schema a few times: zod's compiled fast path (new Function, per object schema) costs more
// to generate than it saves, and V8's code cache (bundle-loader.ts) cannot keep it.
z.config({ jitless: true });

export interface GlobalOptions {
  config?: string;
  stack?: string;
  stage?: string;
  region?: string;
  json?: boolean;
  yes?: boolean;
  concurrency?: number;
  lockTimeout?: string;
  lockBucket?: string;
  color?: boolean;
}

export interface Session {
  stack: AwsStack;
  engine: Engine;
  aws: AwsClients;
  view: ProgressView;
  colors: Colors;
  options: GlobalOptions;
  events: EventSink;
  signal: AbortSignal;
  lock: StackLock;
  /** Set when the stack comes from touchdown.yml. */
  app?: LoadedManifest;
  /** touchdown.yml on AWS: each process's task count and where it comes from (touchdown.yml, scale, autoscaling). */
  counts?: Record<string, CountSource>;
  /** touchdown.yml on AWS: the release serving as the command started, whose image the stack runs. */
  release?: Release;
  /** Ends the live view and the Ctrl-C handler. */
  close(): void;
}

/** The stack a command works on, without talking to AWS when `offline` (graph). */
export async function openSession(
  options: GlobalOptions,
  command: string,
  { offline = false } = {},
): Promise<Session> {
  // Flags first: a bad one is refused before the configuration is read or AWS is asked anything.
  const lockTimeoutMs = parseDuration(options.lockTimeout ?? '0s');
  const configPath = await findConfig(options.config);
  let stack: AwsStack;
  let app: LoadedManifest | undefined;
  let region: string;
  let aws: AwsClients;
  let counts: Record<string, CountSource> | undefined;
  let release: Release | undefined;
  if (isManifest(configPath)) {
    // A flag that does not apply is refused, not ignored: a manifest's stack is always <app>-<stage>.
    if (options.stack !== undefined)
      throw new ConfigError(
        `--stack does not apply to ${basename(configPath)}: its stack is named <app>-<stage>; pass --stage NAME for another copy of the app`,
      );
    app = await loadManifest(configPath, options.stage);
    const chosen = await chooseRegion(options, app.manifest.region, 'touchdown.yml region', offline);
    region = chosen.region;
    // Before the first AWS call: nothing a check can find is left to fail after a change.
    await preflight(app, { command, ...chosen, image: (options as { image?: string }).image });
    aws = new AwsClients({ region });
    // The infrastructure as the release serving now runs it, at the counts `touchdown scale` set.
    // Offline (graph) draws the shape only: the zones are numbered, not asked of AWS.
    const [account, current, running, zones] = offline
      ? ['000000000000', undefined, undefined, UNASKED_ZONES]
      : await Promise.all([
          aws.account(),
          new ReleaseHistory(aws, app.stackName).current(),
          runningCounts(aws, app),
          stackZones(aws, zoneNeeds(app.manifest)),
        ]);
    counts = running?.counts;
    release = current;
    stack = awsBlueprint(running?.loaded ?? app, { region, account, zones, image: current?.image });
  } else {
    if (options.stage !== undefined)
      throw new ConfigError(
        `--stage applies to touchdown.yml; ${basename(configPath)} has no stages: pass --stack NAME for another copy of the stack`,
      );
    const definition = await loadDefinition(configPath);
    // The region first: the definition may name things after it (aws.region).
    const chosen = await chooseRegion(options, definition.region, 'the stack definition region', offline);
    region = chosen.region;
    stack = instantiate(definition, options.stack, region);
    await preflight(undefined, { command, ...chosen });
    aws = new AwsClients({ region });
  }
  stack.check();

  // NO_COLOR is read as the command runs, not only as picocolors loads: main() may run in a longer-lived process.
  const colors = pc.createColors(
    options.color !== false && !options.json && pc.isColorSupported && !('NO_COLOR' in process.env),
  );
  const view = options.json
    ? { handle() {}, stop() {} }
    : streams.stderr.isTTY
      ? liveProgress(streams.stderr, colors)
      : plainProgress(streams.stderr, colors);

  const controller = new AbortController();
  const inFlight = new Set<string>();
  const events = (e: EngineEvent) => {
    if (e.type === 'op.start') inFlight.add(e.address);
    if (e.type === 'op.done' || e.type === 'op.failed') inFlight.delete(e.address);
    if (e.type === 'step' && e.state === 'failed' && e.message && !options.json) shownAlready(e.message);
    view.handle(e);
  };
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    events({ type: 'interrupt', inFlight: [...inFlight] });
  };
  process.on('SIGINT', onSigint);

  // The lock lives with the stack, in S3 (the account's lock bucket unless one is named), so every checkout,
  // machine and CI runner deploying it shares one lock.
  const lockBucket = options.lockBucket || process.env.TOUCHDOWN_LOCK_BUCKET || undefined;
  const lock: StackLock = new S3Lock(aws, {
    bucket: lockBucket,
    stack: stack.name,
    region,
    command: `touchdown ${command}`,
  });
  const engine = new Engine({
    stack,
    registry: resourceTypes,
    aws,
    concurrency: options.concurrency,
    events,
    signal: controller.signal,
    lock,
    lockTimeoutMs,
  });
  return {
    stack,
    engine,
    aws,
    view,
    colors,
    options,
    events,
    signal: controller.signal,
    lock,
    ...(app ? { app } : {}),
    ...(counts ? { counts } : {}),
    ...(release ? { release } : {}),
    close: () => {
      view.stop();
      process.off('SIGINT', onSigint);
    },
  };
}

/** The same session, for commands that only make sense with touchdown.yml (deploy, scale, secrets). */
export async function openApp(
  options: GlobalOptions,
  command: string,
): Promise<Session & { app: LoadedManifest }> {
  const session = await openSession(options, command);
  if (!session.app) {
    session.close();
    throw new ConfigError(
      `touchdown ${command} works on a Django app's touchdown.yml; this project has a touchdown.config.ts (use plan and apply)`,
    );
  }
  return session as Session & { app: LoadedManifest };
}

/** The region to work in, and where it was set (for a message naming it). */
async function chooseRegion(
  options: GlobalOptions,
  declared: string | undefined,
  declaredFrom: string,
  offline: boolean,
): Promise<{ region: string; regionFrom: string }> {
  const from: [string | undefined, string][] = [
    [options.region, '--region'],
    [process.env.AWS_REGION, 'AWS_REGION'],
    [process.env.AWS_DEFAULT_REGION, 'AWS_DEFAULT_REGION'],
    [declared, declaredFrom],
  ];
  const set = from.find(([r]) => r !== undefined && r !== '');
  if (set) return { region: set[0]!, regionFrom: set[1] };
  if (offline) return { region: 'us-east-1', regionFrom: 'the default region' };
  return { region: await profileRegion(), regionFrom: 'the region of your AWS profile' };
}

/** The region of the AWS profile in use, resolved by the SDK's own chain (config file, SSO profiles). */
async function profileRegion(): Promise<string> {
  const { STSClient } = await import('@aws-sdk/client-sts');
  try {
    const region = await new STSClient({}).config.region();
    if (region) return region;
  } catch {
    // falls through to the error below
  }
  throw new ConfigError('no AWS region: pass --region, set AWS_REGION, or set region in your AWS profile');
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new ConfigError(`"${text}" is not a duration: write it like 30s, 10m or 1h`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  return Number(m[1]) * unit;
}
