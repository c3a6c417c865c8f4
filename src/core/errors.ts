// Errors are for people: each says what failed, why, and what to do next.

/** Something the user can fix in their configuration or invocation. Raised before any AWS call. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}

export type Verb = 'creating' | 'updating' | 'deleting' | 'reading' | 'waiting for' | 'replacing';

/** An AWS operation on one resource failed: `creating RDS instance "xkcd-db": <cause>`. */
export class ResourceError extends Error {
  override readonly name = 'ResourceError';
  constructor(
    readonly verb: Verb,
    readonly noun: string,
    readonly resourceName: string,
    override readonly cause: unknown,
    readonly hint?: string,
  ) {
    super(`${verb} ${noun} "${resourceName}": ${causeMessage(cause)}`);
  }
}

/** The run was stopped (Ctrl-C) before this work began or while it waited. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
  constructor(message = 'interrupted') {
    super(message);
  }
}

/** Refused because it would lose data (a bucket with objects, a database) without --force. */
export class DataLossRefused extends Error {
  override readonly name = 'DataLossRefused';
  constructor(
    readonly noun: string,
    readonly resourceName: string,
    readonly holds: string,
  ) {
    super(
      `refusing to delete ${noun} "${resourceName}": it holds ${holds}. ` +
        'Copy out what you need, then run again with --force to delete it and its data.',
    );
  }
}

const OWN_ERRORS = new Set(['WaitTimeout', 'Interrupted', 'ConfigError', 'DataLossRefused']);

export function causeMessage(cause: unknown): string {
  if (cause instanceof Error) {
    // Our own errors read as sentences already; AWS's get their error code in front.
    // An AWS error explained by the client factory (aws/errors.ts) names its code already, where it has one.
    if (OWN_ERRORS.has(cause.name) || 'explained' in cause) return cause.message;
    const code = (cause as { name?: string; Code?: string }).Code ?? cause.name;
    const msg = cause.message || code;
    return code && code !== 'Error' && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(cause);
}
