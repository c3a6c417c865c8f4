// Lost answers, every one of them: the first time a request that creates or deletes something arrives, AWS
// carries it out and the connection drops before the answer; the same request sent again is answered. What a
// dropped connection or a timeout does on AWS now and then, made to happen to every such call, so a test
// shows each place that would not survive it.
//   const lost = loseFirstAnswers();
//   const model = await startAwsModel({ upstream, faultOf: lost.faultOf });
//   lost.calls() // ['rds:CreateDBInstance', ...]
import { createHash } from 'node:crypto';
import type { Fault } from './faults.js';
import { type Call, createsSomething } from './operations.js';

/** Calls that remove something: a retry after a lost answer finds it gone. */
export function deletesSomething(call: Call): boolean {
  return /^(Delete|Deregister|Release|Terminate|Disassociate|Detach|Revoke|Remove)/.test(call.operation);
}

/**
 * Calls that add something beside a resource (a rule, a record, a permission, a policy), whose retry may
 * find it there: AuthorizeSecurityGroupIngress, AddPermission, ChangeResourceRecordSets, PutParameter...
 */
export function addsSomething(call: Call): boolean {
  return /^(Put|Authorize|Add|Associate|Attach|ChangeResourceRecordSets$)/.test(call.operation);
}

export interface LostAnswers {
  faultOf(call: Call): Fault | undefined;
  /** `service:Operation` of every call whose first answer was lost, in order. */
  calls(): string[];
}

/** Loses the first answer of every call `which` selects (by default: creates, additions and deletes). */
export function loseFirstAnswers(
  which: (call: Call) => boolean = (c) => createsSomething(c) || addsSomething(c) || deletesSomething(c),
): LostAnswers {
  // The same request again (the SDK's retry, or the tool's own) is recognised by what it asks, not by when.
  const seen = new Set<string>();
  const lost: string[] = [];
  return {
    faultOf(call) {
      if (!which(call)) return undefined;
      const body = createHash('sha256').update(call.body).digest('hex');
      const key = `${call.service} ${call.method} ${call.path}?${call.query} ${body}`;
      if (seen.has(key)) return undefined;
      seen.add(key);
      lost.push(`${call.service}:${call.operation}`);
      return { kind: 'reset', afterForwarding: true };
    },
    calls: () => [...lost],
  };
}
