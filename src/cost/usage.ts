// What usage-priced parts assume: the manifest's `usage:` section, or these defaults, shown beside each figure.
import { z } from 'zod';

/** touchdown.yml `usage:` — a month's traffic, for the parts AWS prices by use. Every field is optional. */
export const usageSchema = z.strictObject({
  /** HTTP requests a month (load balancer capacity units, API Gateway, Lambda, CloudFront). @default 1000000 */
  requests: z.number().min(0).optional(),
  /** Average milliseconds Lambda runs per request. @default 200 */
  lambdaMs: z.number().min(1).max(900_000).optional(),
  /** GB a month served to the internet through CloudFront. @default 10 */
  transferOutGB: z.number().min(0).optional(),
  /** GB a month through the NAT gateways. @default 5 */
  natGB: z.number().min(0).optional(),
  /** GB stored in the stack's buckets, all together. @default 5 */
  storageGB: z.number().min(0).optional(),
  /** S3 requests a month, all buckets (one PUT for nine GETs). @default 100000 */
  s3Requests: z.number().min(0).optional(),
  /** GB of logs written a month, all log groups. @default 1 */
  logsGB: z.number().min(0).optional(),
  /** SQS requests a month, all queues (Celery polls even when idle). @default 1000000 */
  queueRequests: z.number().min(0).optional(),
  /** Emails sent a month through SES. @default 1000 */
  emails: z.number().min(0).optional(),
  /** GB of container images kept in ECR. @default 2 */
  imagesGB: z.number().min(0).optional(),
});

export type UsageInput = z.output<typeof usageSchema>;
export type Usage = Required<UsageInput>;

export const DEFAULT_USAGE: Usage = {
  requests: 1_000_000,
  lambdaMs: 200,
  transferOutGB: 10,
  natGB: 5,
  storageGB: 5,
  s3Requests: 100_000,
  logsGB: 1,
  queueRequests: 1_000_000,
  emails: 1000,
  imagesGB: 2,
};

/** The assumptions in force, and which of them the manifest stated. */
export function usageWith(stated: UsageInput | undefined): { usage: Usage; stated: Set<keyof Usage> } {
  const given = Object.fromEntries(Object.entries(stated ?? {}).filter(([, v]) => v !== undefined));
  return {
    usage: { ...DEFAULT_USAGE, ...given },
    stated: new Set(Object.keys(given) as (keyof Usage)[]),
  };
}
