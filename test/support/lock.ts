// Another run taking a stack's lock over, written with boto3 as that run would write it (not with Touchdown's code).
import type { Boto } from './boto.js';

/** The lock body of another machine's run, with a lease that outlasts any test. */
export function anotherRun(host: string, command: string) {
  return {
    pid: 4242,
    host,
    command,
    since: new Date().toISOString(),
    token: 'theirs',
    expires: new Date(Date.now() + 3_600_000).toISOString(),
  };
}

/** Writes another run's lock over the stack's S3 lock object, as a run that took it over would. */
export async function takeOverLock(
  boto: Boto,
  where: { bucket: string; stack: string; region?: string },
  holder: ReturnType<typeof anotherRun>,
): Promise<void> {
  await boto.call('s3', 'PutObject', {
    Bucket: where.bucket,
    Key: `touchdown/locks/${where.stack}/${where.region ?? 'us-east-1'}.json`,
    Body: JSON.stringify(holder),
  });
}
