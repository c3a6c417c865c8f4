// What every command that talks to AWS sets up: the stack from the config, clients, the lock, the view, Ctrl-C.
import { dirname, join } from 'node:path';
import pc from 'picocolors';
import type { Colors } from 'picocolors/types.js';
import { AwsClients } from '../aws/clients.js';
import { resourceTypes } from '../aws/registry.js';
import type { AwsStack } from '../aws/stack.js';
import { instantiate } from '../config/define.js';
import { findConfig, loadDefinition } from '../config/load.js';
import { Engine } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import type { EngineEvent } from '../core/events.js';
import { FileLock } from '../core/lock.js';
import { liveProgress, type ProgressView, plainProgress } from './render/progress.js';

export interface GlobalOptions {
  config?: string;
  stack?: string;
  region?: string;
  json?: boolean;
  yes?: boolean;
  concurrency?: number;
  lockTimeout?: string;
  color?: boolean;
}

export interface Session {
  stack: AwsStack;
  engine: Engine;
  aws: AwsClients;
  view: ProgressView;
  colors: Colors;
  options: GlobalOptions;
  /** Ends the live view and the Ctrl-C handler. */
  close(): void;
}

export async function openSession(options: GlobalOptions, command: string): Promise<Session> {
  const configPath = await findConfig(options.config);
  const definition = await loadDefinition(configPath);
  const stack = instantiate(definition, options.stack);
  const region =
    options.region ??
    process.env.AWS_REGION ??
    process.env.AWS_DEFAULT_REGION ??
    definition.region ??
    (await profileRegion());
  const aws = new AwsClients({ region });
  const colors = pc.createColors(options.color !== false && !options.json && pc.isColorSupported);
  const view = options.json
    ? { handle() {}, stop() {} }
    : process.stderr.isTTY
      ? liveProgress(process.stderr, colors)
      : plainProgress(process.stderr, colors);

  const controller = new AbortController();
  const inFlight = new Set<string>();
  const events = (e: EngineEvent) => {
    if (e.type === 'op.start') inFlight.add(e.address);
    if (e.type === 'op.done' || e.type === 'op.failed') inFlight.delete(e.address);
    view.handle(e);
  };
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    events({ type: 'interrupt', inFlight: [...inFlight] });
  };
  process.on('SIGINT', onSigint);

  const engine = new Engine({
    stack,
    registry: resourceTypes,
    aws,
    concurrency: options.concurrency,
    events,
    signal: controller.signal,
    lock: new FileLock(
      join(dirname(configPath), '.touchdown', `${stack.name}.${region}.lock`),
      stack.name,
      `touchdown ${command}`,
    ),
    lockTimeoutMs: parseDuration(options.lockTimeout ?? '0s'),
  });
  return {
    stack,
    engine,
    aws,
    view,
    colors,
    options,
    close: () => {
      view.stop();
      process.off('SIGINT', onSigint);
    },
  };
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
