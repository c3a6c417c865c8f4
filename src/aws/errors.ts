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
