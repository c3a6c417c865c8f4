// What `touchdown status` and `touchdown logs` add beyond ECS: for web.compute: lambda, the function's versions,
// the version its live alias serves and its recent invocations and errors (read from the lines Lambda writes to
// the function's log group); for a stack that sends mail, whether the account's SES is still in the sandbox.
import type { AwsClients } from '../aws/clients.js';
import { ignoreNotFound } from '../aws/errors.js';
import { allPages } from '../aws/pages.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import { functionName, LIVE_ALIAS } from './blueprint/lambda.js';
import { readLogs } from './task-logs.js';

export interface LambdaStatus {
  function: string;
  /** The published version the live alias serves: the release's. */
  live?: string;
  /** The newest published versions, newest first. */
  versions: { version: string; modified?: string; description?: string }[];
  /** Invocations and errors since `since`, counted from the function's log lines. */
  recent: { since: string; invocations: number; errors: number; lastError?: string };
}

export interface EmailStatus {
  sandbox: boolean;
  /** Messages a day and a second the account may send. */
  quota?: { perDay?: number; perSecond?: number };
  /** What to do while in the sandbox. */
  advice?: string;
}

export interface AppStatus {
  lambda?: LambdaStatus;
  email?: EmailStatus;
}

/** The log group a Lambda function writes to. */
const lambdaLogGroup = (fn: string) => `/aws/lambda/${fn}`;
/** Versions shown: enough to roll back to, few enough to read. */
const VERSIONS_SHOWN = 5;

/** What status adds for this app (nothing for a Fargate app without mail). */
export async function appStatus(
  aws: AwsClients,
  loaded: LoadedManifest,
  options: { windowMs?: number; now?: number } = {},
): Promise<AppStatus> {
  const m = loaded.manifest;
  const [lambda, email] = await Promise.all([
    m.web.compute === 'lambda' ? lambdaStatus(aws, loaded.stackName, options) : undefined,
    m.email ? emailStatus(aws, m.email.from.split('@')[1]!) : undefined,
  ]);
  return { ...(lambda ? { lambda } : {}), ...(email ? { email } : {}) };
}

export async function lambdaStatus(
  aws: AwsClients,
  stack: string,
  { windowMs = 60 * 60_000, now = Date.now() }: { windowMs?: number; now?: number } = {},
): Promise<LambdaStatus | undefined> {
  const lambda = await aws.lambda();
  const fn = functionName(stack);
  const versions = await ignoreNotFound(
    allPages(
      (Marker) => lambda.listVersionsByFunction({ FunctionName: fn, Marker }),
      (p) => p.Versions,
      (p) => p.NextMarker,
    ),
  );
  if (!versions) return undefined;
  const alias = await ignoreNotFound(lambda.getAlias({ FunctionName: fn, Name: LIVE_ALIAS }));
  const since = now - windowMs;
  const lines = await readLogs(aws, [lambdaLogGroup(fn)], { since, until: now });
  // Lambda writes one REPORT line per invocation; an unhandled error, a timeout or a crash also leaves a line
  // of its own (Python's runtime: "[ERROR] ..."), counted once per request.
  let invocations = 0;
  const failed = new Set<string>();
  let lastError: string | undefined;
  // An unhandled error's line ("[ERROR] ValueError: ...") names no request: it is the one its stream started last.
  const running = new Map<string, string>();
  for (const l of lines) {
    const request =
      /RequestId: ([0-9a-f-]+)/.exec(l.message)?.[1] ??
      /^\[ERROR\]\t[^\t]*\t([0-9a-f-]+)/.exec(l.message)?.[1] ??
      running.get(l.stream);
    if (l.message.startsWith('START RequestId:') && request) running.set(l.stream, request);
    if (l.message.startsWith('REPORT RequestId:')) invocations++;
    if (/^\[ERROR\]|Task timed out after|Status: (error|timeout)/.test(l.message)) {
      failed.add(request ?? `${l.stream}@${l.time}`);
      if (!l.message.startsWith('REPORT'))
        lastError = l.message
          .replace(/^\[ERROR\](\t[^\t]*\t[^\t]*\t| )/, '')
          .split('\n')[0]!
          .trim();
    }
  }
  return {
    function: fn,
    ...(alias?.FunctionVersion ? { live: alias.FunctionVersion } : {}),
    versions: versions
      .filter((v) => v.Version !== '$LATEST')
      .sort((a, b) => Number(b.Version) - Number(a.Version))
      .slice(0, VERSIONS_SHOWN)
      .map((v) => ({
        version: v.Version!,
        ...(v.LastModified ? { modified: v.LastModified } : {}),
        ...(v.Description ? { description: v.Description } : {}),
      })),
    recent: {
      since: new Date(since).toISOString(),
      invocations,
      errors: failed.size,
      ...(lastError ? { lastError: lastError.slice(0, 300) } : {}),
    },
  };
}

/** Whether SES in this region still holds the account in its sandbox, and what to do about it. */
export async function emailStatus(aws: AwsClients, domain: string): Promise<EmailStatus> {
  const sesv2 = await aws.sesv2();
  const account = await sesv2.getAccount({});
  const quota = { perDay: account.SendQuota?.Max24HourSend, perSecond: account.SendQuota?.MaxSendRate };
  if (account.ProductionAccessEnabled) return { sandbox: false, quota };
  // https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html
  return {
    sandbox: true,
    quota,
    advice:
      `SES in ${aws.region} is still in the sandbox: mail reaches only addresses verified in SES, ` +
      `${quota.perDay ?? 200} a day. Ask AWS for production access: aws sesv2 put-account-details ` +
      `--production-access-enabled --mail-type TRANSACTIONAL --website-url https://${domain} ` +
      `--region ${aws.region} (or in the SES console, Get set up); AWS answers within a day`,
  };
}

/** The log groups `touchdown logs` reads for a Lambda app, by process (the function serves `web`). */
export function lambdaLogGroups(
  loaded: LoadedManifest,
  process?: string,
): { group: string; process: string }[] {
  if (loaded.manifest.web.compute !== 'lambda') return [];
  if (process && !'web'.startsWith(process)) return [];
  return [{ group: lambdaLogGroup(functionName(loaded.stackName)), process: 'web' }];
}
