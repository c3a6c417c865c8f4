// Reading AWS errors: which mean "not there", and what a user can do about the others.

export function errorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return '';
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return e.Code ?? e.code ?? e.name ?? '';
}

export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** True when the error says the thing does not exist (gone, never made, or already deleted). */
export function isNotFound(err: unknown, ...codes: string[]): boolean {
  const code = errorCode(err);
  if (codes.includes(code)) return true;
  return /NotFound|NoSuch|NotExist|DoesNotExist/i.test(code);
}

/** Runs a call whose "not found" answer means there is nothing to do. */
export async function ignoreNotFound<T>(call: Promise<T>, ...codes: string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err, ...codes)) return undefined;
    throw err;
  }
}

const HINTS: [RegExp, string][] = [
  [
    /AccessDenied|UnauthorizedOperation|AuthFailure|InvalidClientTokenId/,
    'the credentials in use lack a permission this needs: check the IAM policy of the user or role running Touchdown',
  ],
  [
    /LimitExceeded|QuotaExceeded|TooMany/,
    'an AWS service quota is reached: delete unused resources or ask AWS for a higher quota (Service Quotas console)',
  ],
  [
    /DependencyViolation|ResourceInUse|DeleteConflict/,
    'something still uses it: if it is outside this stack, remove that first, then run the same command again',
  ],
  [
    /Throttl|RequestLimitExceeded|SlowDown/,
    'AWS is throttling this account: wait a minute and run the same command again',
  ],
  // Before the general "already exists": bucket names are global, so another account may hold it.
  [/^BucketAlreadyExists$/, 'bucket names are global across all AWS accounts: pick another name'],
  [
    /AlreadyExists|Duplicate|BucketAlreadyOwnedByYou|EntityAlreadyExists/,
    'a resource with that name exists but is not owned by this stack: rename it in your configuration, or delete the other one',
  ],
  [
    /InvalidParameter|ValidationError|MalformedPolicy|InvalidRequest/,
    'AWS rejected an argument: check the value named above in your configuration',
  ],
];

/** What a user can do about this error, if we know. */
export function hintFor(err: unknown): string | undefined {
  const code = errorCode(err);
  const status = httpStatus(err);
  for (const [re, hint] of HINTS) if (re.test(code)) return hint;
  if (status !== undefined && status >= 500) {
    return 'AWS answered with a server error after several retries: run the same command again; it continues where it stopped';
  }
  return undefined;
}

/** What one API call was: the facts every AWS error is told with. */
export interface AwsCallFacts {
  service: string;
  operation: string;
  /** Where the request went: https://ssm.us-east-1.amazonaws.com, or a local AWS. */
  endpoint?: string;
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'nothing listens there (connection refused)',
  ENOTFOUND: 'its host name does not resolve (DNS)',
  EAI_AGAIN: 'its host name does not resolve (DNS)',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host cannot be reached',
  ENETUNREACH: 'the network cannot be reached',
  EPIPE: 'the connection was closed while sending',
  ETIMEDOUT: 'it did not answer in time',
};

/** Why the call failed, said as a sentence a person can act on, naming service, operation, status, endpoint. */
export function explainAwsError(err: unknown, call: AwsCallFacts): unknown {
  if (!(err instanceof Error) || (err as { explained?: boolean }).explained) return err;
  const e = err as Error & {
    code?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
    $response?: { statusCode?: number; headers?: Record<string, string>; body?: unknown };
  };
  const at = call.endpoint ?? `the ${call.service} endpoint`;
  const what = `${call.service} ${call.operation}`;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const attempts = e.$metadata?.attempts;
  const tries = attempts && attempts > 1 ? ` (${attempts} attempts)` : '';
  const code = e.code ?? '';
  let message: string;
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message)) {
    message =
      `no AWS credentials for ${what}: set AWS_PROFILE (after aws configure or aws sso login), or ` +
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; Touchdown reads the standard AWS chain';
  } else if (e.name === 'EndpointTimeout' || timedOut(e)) {
    message = `${what}: ${at} did not answer in time${tries}: check the network, a proxy, or AWS_ENDPOINT_URL`;
  } else if (NETWORK_CODES[code]) {
    message = `${what}: cannot reach ${at}: ${NETWORK_CODES[code]}${tries}; check the network, a proxy, or AWS_ENDPOINT_URL`;
  } else if (status !== undefined && status >= 500) {
    const said =
      e.message && !/^Unknown(Error)?$|Deserialization error/i.test(e.message) ? `: ${e.message}` : '';
    message = `${what}: ${at} answered HTTP ${status}, a server error${tries}${said}`;
  } else if (/Deserialization error|parse error|is not valid JSON/i.test(e.message)) {
    const type = e.$response?.headers?.['content-type'];
    message =
      `${what}: ${at} answered HTTP ${status ?? '?'}${type ? ` (${type})` : ''} with something that is not an ` +
      `AWS answer${tries}; a proxy, a captive portal or a wrong AWS_ENDPOINT_URL answers instead of AWS`;
  } else {
    // An AWS error with its own code and message: keep them, and say which call it was.
    const awsCode = errorCode(e);
    const said = e.message || awsCode;
    const named = awsCode && awsCode !== 'Error' && !said.includes(awsCode) ? `${awsCode}: ${said}` : said;
    message = `${named} (${what} at ${at}${status ? `: HTTP ${status}` : ''})`;
  }
  e.message = message;
  Object.defineProperty(e, 'explained', { value: true, enumerable: false });
  return e;
}

/** A call that timed out twice ends: a hung endpoint fails in seconds, not after every retry. */
export const TIMEOUTS_PER_CALL = 2;

/**
 * Whether the call waited out a timeout. The SDK's HTTP handler names a reset or closed connection
 * (ECONNRESET, EPIPE) a TimeoutError too, so that its retry treats it as transient; that is a network
 * that dropped the call, not a silent endpoint, and gets every retry (a loaded run's fault model reset
 * one call twice and the command gave up, saying the endpoint "did not answer in time"). AWS's SDKs retry
 * server-closed connections as transient (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html);
 * a call that creates something is not re-sent blindly: addLostAnswerGuard (create-once.ts) ends it first.
 */
function timedOut(e: { name?: string; code?: string }): boolean {
  return e.name === 'TimeoutError' && e.code !== 'ECONNRESET' && e.code !== 'EPIPE';
}

/** The part of an SDK client's middleware stack these helpers add to. */
export interface MiddlewareStack {
  add(
    mw: (
      next: (a: unknown) => Promise<unknown>,
      ctx: Record<string, unknown>,
    ) => (a: unknown) => Promise<unknown>,
    opts: { step: 'build' | 'finalizeRequest'; name: string; priority?: 'low' },
  ): void;
}

/**
 * Records where each call goes (for explainAwsError, which reads context.touchdownEndpoint) and stops
 * retrying a call after TIMEOUTS_PER_CALL timeouts: the SDK would otherwise retry a hung endpoint to the end.
 */
export function addCallFacts(stack: MiddlewareStack): void {
  stack.add(
    (next, context) => async (args) => {
      const req = (args as { request?: { protocol?: string; hostname?: string; port?: number } }).request;
      if (req?.hostname) {
        context.touchdownEndpoint = `${req.protocol ?? 'https:'}//${req.hostname}${req.port ? `:${req.port}` : ''}`;
      }
      return next(args);
    },
    { step: 'build', name: 'touchdownEndpoint' },
  );
  stack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        const e = err as Error & { code?: string };
        if (e && timedOut(e)) {
          const count = ((context.touchdownTimeouts as number | undefined) ?? 0) + 1;
          context.touchdownTimeouts = count;
          // Renamed, the SDK's retry sees no transient error and gives up.
          if (count >= TIMEOUTS_PER_CALL)
            throw Object.assign(e, { name: 'EndpointTimeout', code: undefined });
        }
        throw err;
      }
    },
    { step: 'finalizeRequest', name: 'touchdownTimeoutLimit', priority: 'low' },
  );
}
