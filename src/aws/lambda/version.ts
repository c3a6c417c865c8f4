// Publishing a Lambda function's code and configuration as a numbered, immutable version: what a release
// runs its one-off commands with, and what the `live` alias serves once they succeed.
import type { WaitSpec } from '../../core/resource.js';
import { DEFAULT_WAIT_TIMING, waitFor } from '../../core/wait.js';
import type { AwsClients } from '../clients.js';
import type { OperationOptions } from '../ecs/run-task.js';
import { errorCode } from '../errors.js';

/**
 * Publishes what $LATEST holds now and waits until the version can be invoked; returns its number. When
 * nothing changed since the last version, Lambda answers with that version instead of a new one.
 */
export async function publishVersion(
  aws: AwsClients,
  functionName: string,
  options: OperationOptions = {},
): Promise<string> {
  const lambda = await aws.lambda();
  const wait = <T>(spec: WaitSpec<T>) =>
    waitFor(spec, {
      timing: options.timing ?? DEFAULT_WAIT_TIMING,
      signal: options.signal ?? new AbortController().signal,
      progress: (state) => options.progress?.(state),
    });
  const version = await wait({
    what: `a new version of Lambda function ${functionName} to be published`,
    timeoutMs: 10 * 60_000,
    check: async () => {
      const latest = await lambda.getFunctionConfiguration({ FunctionName: functionName });
      if (latest.LastUpdateStatus === 'InProgress') return { done: false, state: 'update in progress' };
      try {
        // The hash pins what was checked: a change made meanwhile is not published by mistake.
        const published = await lambda.publishVersion({
          FunctionName: functionName,
          CodeSha256: latest.CodeSha256,
        });
        return { done: true, value: published.Version! };
      } catch (err) {
        if (errorCode(err) === 'ResourceConflictException')
          return { done: false, state: 'update in progress' };
        throw err;
      }
    },
  });
  await wait({
    what: `version ${version} of Lambda function ${functionName} to become active`,
    // In a VPC a new version may need its network interfaces first.
    timeoutMs: 10 * 60_000,
    check: async () => {
      const c = await lambda.getFunctionConfiguration({ FunctionName: functionName, Qualifier: version });
      if (c.State === 'Failed') {
        throw new Error(
          `version ${version} failed to start: ${c.StateReasonCode ?? ''} ${c.StateReason ?? ''}`.trim(),
        );
      }
      return c.State === 'Pending' ? { done: false, state: 'Pending' } : { done: true, value: undefined };
    },
  });
  return version;
}
