// Faults as AWS serves them: throttling and server errors in each protocol's own error shape (so the SDK's
// retry policy classifies them as it would against AWS), connection resets, slow answers. Every decision is a
// pure function of (seed, call index), so a failing run can be replayed with its seed.
import { randomUUID } from 'node:crypto';
import type { Answer, Call } from './operations.js';

export interface FaultRates {
  /** Share of calls answered with the service's throttling error. */
  throttle?: number;
  /** Share of calls answered with HTTP 500 or 503. */
  serverError?: number;
  /** Share of calls whose connection is reset without an answer. */
  reset?: number;
  /** Share of calls answered late, after slowMs more. */
  slow?: number;
  /** Extra AWS milliseconds of a slow answer. */
  slowMs?: number;
}

export type Fault =
  | { kind: 'throttle' }
  | { kind: 'serverError'; status: 500 | 503 }
  /** `afterForwarding`: the call reached AWS (a create happened) and only its answer was lost. */
  | { kind: 'reset'; afterForwarding: boolean }
  | { kind: 'slow' };

/** A small seeded PRNG (mulberry32): fast, 32-bit state, good enough to spread faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fault for one call, if any: the same (seed, index) always gives the same answer. */
export function faultFor(seed: number, index: number, rates: FaultRates, createsSomething: boolean) {
  const random = mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0);
  const u = random();
  const second = random();
  // Each kind owns the next slice of [0, 1): throttle first, then server errors, resets, slow answers.
  let edge = 0;
  const hit = (rate = 0) => {
    edge += rate;
    return u < edge;
  };
  if (hit(rates.throttle)) return { kind: 'throttle' } as Fault;
  if (hit(rates.serverError)) return { kind: 'serverError', status: second < 0.5 ? 500 : 503 } as Fault;
  // Only a call that makes something can be half done in a way that matters: half of its resets come late.
  if (hit(rates.reset)) return { kind: 'reset', afterForwarding: createsSomething && second < 0.5 } as Fault;
  if (hit(rates.slow)) return { kind: 'slow' } as Fault;
  return undefined;
}

const XML = 'text/xml';

/** The throttling error the service itself answers with. */
export function throttleAnswer(call: Call): Answer {
  switch (call.protocol) {
    case 'ec2':
      return ec2Error(503, 'RequestLimitExceeded', 'Request limit exceeded.');
    case 'query':
      return queryError(400, 'Sender', 'Throttling', 'Rate exceeded');
    case 'json':
      return jsonError(call, 400, 'ThrottlingException', 'Rate exceeded');
    case 'rest-json':
      return restJsonError(
        429,
        ['lambda', 'apigateway', 'ses'].includes(call.service)
          ? 'TooManyRequestsException'
          : 'ThrottlingException',
        'Rate exceeded',
      );
    case 'rest-xml':
      return call.service === 's3'
        ? s3Error(503, 'SlowDown', 'Please reduce your request rate.')
        : queryError(400, 'Sender', 'Throttling', 'Rate exceeded');
  }
}

/** An internal error (500) or the service being unavailable (503), as the service answers it. */
export function serverErrorAnswer(call: Call, status: 500 | 503): Answer {
  const code500 = { ec2: 'InternalError', s3: 'InternalError' } as Record<string, string>;
  const code = status === 500 ? (code500[call.service] ?? 'InternalFailure') : 'ServiceUnavailable';
  const message =
    status === 500 ? 'We encountered an internal error. Please try again.' : 'Service unavailable';
  switch (call.protocol) {
    case 'ec2':
      return ec2Error(status, status === 500 ? code : 'Unavailable', message);
    case 'query':
      return queryError(status, 'Receiver', code, message);
    case 'json':
      return jsonError(call, status, status === 500 ? code : 'ServiceUnavailableException', message);
    case 'rest-json':
      return restJsonError(
        status,
        status === 500 ? 'ServiceException' : 'ServiceUnavailableException',
        message,
      );
    case 'rest-xml':
      return call.service === 's3'
        ? s3Error(status, code, message)
        : queryError(status, 'Receiver', code, message);
  }
}

export function answer(
  status: number,
  contentType: string,
  body: string,
  extra: Record<string, string> = {},
) {
  const requestId = randomUUID();
  return {
    status,
    headers: { 'content-type': contentType, 'x-amzn-requestid': requestId, ...extra },
    body: Buffer.from(body.replaceAll('{requestId}', requestId)),
  };
}

export function ec2Error(status: number, code: string, message: string): Answer {
  return answer(
    status,
    XML,
    `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>{requestId}</RequestID></Response>`,
  );
}

export function queryError(status: number, type: string, code: string, message: string): Answer {
  return answer(
    status,
    XML,
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>{requestId}</RequestId></ErrorResponse>`,
  );
}

function s3Error(status: number, code: string, message: string): Answer {
  return answer(
    status,
    'application/xml',
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>{requestId}</RequestId><HostId>${Buffer.from(randomUUID()).toString('base64')}</HostId></Error>`,
  );
}

export function jsonError(call: Call, status: number, code: string, message: string): Answer {
  const contentType = String(call.headers['content-type'] ?? 'application/x-amz-json-1.1');
  return answer(status, contentType, JSON.stringify({ __type: code, message }));
}

export function restJsonError(status: number, code: string, message: string, extra: object = {}): Answer {
  return answer(status, 'application/json', JSON.stringify({ message, ...extra }), {
    'x-amzn-errortype': code,
  });
}
