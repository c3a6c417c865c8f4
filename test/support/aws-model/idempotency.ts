// Idempotency tokens as AWS honours them: a request repeating an earlier one's client token is answered with
// the earlier answer and not carried out again; the same token with other parameters is refused. moto ignores
// most tokens (EC2's ClientToken, ECS's clientToken): without this, a retry after a lost answer would make
// a second NAT gateway on the local AWS where AWS makes none.
// https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
import { createHash } from 'node:crypto';
import { ec2Error, jsonError, queryError } from './faults.js';
import type { Answer, Call } from './operations.js';

/** The token fields of the APIs Touchdown calls with one (EC2, ECS, EventBridge Scheduler). */
function tokenOf(call: Call): string | undefined {
  if (call.protocol === 'ec2' || call.protocol === 'query') return call.form.get('ClientToken') ?? undefined;
  const t = call.json.clientToken ?? call.json.ClientToken;
  return typeof t === 'string' && t !== '' ? t : undefined;
}

/** The request without its signature and dates: what a repeat must match. */
function parametersOf(call: Call): string {
  return createHash('sha256').update(call.method).update(call.path).update(call.body).digest('hex');
}

export class IdempotencyTokens {
  private readonly first = new Map<string, { parameters: string; answer: Answer }>();

  /** The earlier answer to a repeated token, or its refusal; undefined for a first request. */
  replay(call: Call): Answer | undefined {
    const token = tokenOf(call);
    if (token === undefined) return undefined;
    const earlier = this.first.get(`${call.service} ${call.operation} ${token}`);
    if (!earlier) return undefined;
    if (earlier.parameters === parametersOf(call)) return earlier.answer;
    const message = 'The client token was used with other parameters before.';
    if (call.protocol === 'ec2') return ec2Error(400, 'IdempotentParameterMismatch', message);
    if (call.protocol === 'query') return queryError(400, 'Sender', 'IdempotentParameterMismatch', message);
    return jsonError(call, 400, 'IdempotentParameterMismatchException', message);
  }

  /** Keeps a successful answer to a request with a token (a refused one may be sent again). */
  remember(call: Call, answer: Answer): void {
    const token = tokenOf(call);
    if (token === undefined || answer.status >= 300) return;
    this.first.set(`${call.service} ${call.operation} ${token}`, { parameters: parametersOf(call), answer });
  }
}
