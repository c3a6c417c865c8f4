// Loaded into every Node process of the test suite (test files and the CLIs they start): each AWS SDK call is
// checked against AWS's published API model and its IAM policy documents against the action catalogue before
// it is sent. A call AWS would refuse is refused here too, and recorded, so the test file that made it fails.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { operationModel } from './models.mjs';
import { validatePolicy } from './policies.mjs';
import { validate } from './validate.mjs';

const log = process.env.TOUCHDOWN_CONFORMANCE_LOG;
const counts = { calls: 0, unmodelled: 0 };

function record(entry) {
  if (log) appendFileSync(log, `${JSON.stringify({ pid: process.pid, ...entry })}\n`);
}

const POLICY_MEMBER = /(Polic(y|ies)(Document|Text)?)$/;

function policyKind(service, operation, key) {
  if (key === 'AssumeRolePolicyDocument' || operation === 'UpdateAssumeRolePolicy') return 'trust';
  return service === 'IAM' || service === 'STS' ? 'identity' : 'resource';
}

/** Plain objects and arrays only: a request's body (a Buffer, a stream) holds no policy and may be megabytes. */
const isContainer = (value) =>
  Array.isArray(value) ||
  (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype);

/** Policy documents anywhere in the input: string members named like a policy that parse to one. */
function policyProblems(service, operation, value, path, problems) {
  if (!isContainer(value)) return;
  for (const [key, member] of Object.entries(value)) {
    if (typeof member === 'string' && POLICY_MEMBER.test(key) && member.includes('Statement')) {
      let statement = false;
      try {
        statement = 'Statement' in JSON.parse(member);
      } catch {}
      if (statement)
        problems.push(...validatePolicy(member, policyKind(service, operation, key), `${path}.${key}`));
    } else if (isContainer(member)) {
      policyProblems(service, operation, member, `${path}.${key}`, problems);
    }
  }
}

/** The problems AWS would find in one call, [] when it conforms. */
export function conformanceProblems(serviceId, operation, input) {
  const part = operationModel(serviceId, operation);
  if (!part) {
    counts.unmodelled++;
    return [];
  }
  const problems = part.input ? validate(part, part.input, input ?? {}) : [];
  policyProblems(serviceId, operation, input, 'input', problems);
  return problems;
}

const require = createRequire(import.meta.url);
const { Client } = require('@smithy/core/client');
const send = Client.prototype.send;

if (!send.touchdownConformance) {
  Client.prototype.send = function checkedSend(command, ...rest) {
    const serviceId = this.config?.serviceId ?? 'unknown';
    const operation = command.constructor.name.replace(/Command$/, '');
    counts.calls++;
    const problems = conformanceProblems(serviceId, operation, command.input);
    if (problems.length > 0) {
      record({ type: 'violation', service: serviceId, operation, problems });
      const error = new Error(
        `conformance: ${serviceId} ${operation} would be refused by AWS: ${problems.join('; ')}`,
      );
      error.name = 'ValidationException';
      return Promise.reject(error);
    }
    return send.call(this, command, ...rest);
  };
  Client.prototype.send.touchdownConformance = true;
  process.on('exit', () => record({ type: 'calls', ...counts }));
}

export { counts };
