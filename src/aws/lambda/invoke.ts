// Invoking a Lambda function once and waiting for its answer: the release phase's one-off commands.
import type { Lambda } from '@aws-sdk/client-lambda';
import type { AwsClients } from '../clients.js';
import type { OperationOptions } from '../ecs/run-task.js';
import { errorCode } from '../errors.js';

export interface InvokeRequest {
  functionName: string;
  /** A version or alias; @default $LATEST */
  qualifier?: string;
  /** The event, sent as JSON. */
  payload: unknown;
}

export interface InvokeResult {
  /** The function's answer, parsed when it is JSON. */
  payload: unknown;
  /** Set when the function raised ('Unhandled'): the payload then holds errorMessage and stackTrace. */
  functionError?: string;
  /** The last lines the invocation logged (Lambda returns its last 4 KB). */
  logTail: string[];
}

/**
 * Invokes the function and waits for its answer (up to the function's own timeout). Never retried once
 * sent: a command such as `migrate` must not run twice because a connection dropped. Only a throttled
 * call, which never ran, is tried again.
 */
export async function invokeFunction(
  aws: AwsClients,
  request: InvokeRequest,
  options: OperationOptions = {},
): Promise<InvokeResult> {
  const lambda = await onceClient(aws);
  const what = `${request.functionName}${request.qualifier ? `:${request.qualifier}` : ''}`;
  options.progress?.(`invoking ${what}`);
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await lambda.invoke(
        {
          FunctionName: request.functionName,
          Qualifier: request.qualifier,
          InvocationType: 'RequestResponse',
          LogType: 'Tail',
          Payload: new TextEncoder().encode(JSON.stringify(request.payload)),
        },
        { abortSignal: options.signal },
      );
      const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
      return {
        payload: parsed(text),
        ...(answer.FunctionError ? { functionError: answer.FunctionError } : {}),
        logTail: answer.LogResult
          ? Buffer.from(answer.LogResult, 'base64').toString('utf8').split('\n').filter(Boolean)
          : [],
      };
    } catch (err) {
      if (errorCode(err) !== 'TooManyRequestsException' || attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt * Math.random()));
    }
  }
}

/** A client of its own that makes one attempt per call (the shared clients retry). */
async function onceClient(aws: AwsClients): Promise<Lambda> {
  const { Lambda } = await import('@aws-sdk/client-lambda');
  return new Lambda({
    region: aws.region,
    maxAttempts: 1,
    ...(aws.options.endpoint ? { endpoint: aws.options.endpoint } : {}),
  });
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
