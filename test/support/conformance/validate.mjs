// Checks a request's input against its operation's input shape in AWS's published model, as the service
// itself would: required members, unknown members, types, enums, lengths, ranges and patterns.

const patterns = new Map();

// Java's POSIX classes, which some models' patterns use and JavaScript lacks (ASCII, as Java reads them).
const POSIX = {
  Print: '\\x20-\\x7E',
  Graph: '\\x21-\\x7E',
  Alnum: 'A-Za-z0-9',
  Alpha: 'A-Za-z',
  Digit: '0-9',
  Upper: 'A-Z',
  Lower: 'a-z',
  XDigit: '0-9A-Fa-f',
  Space: '\\s',
  ASCII: '\\x00-\\x7F',
  Punct: '!-\\/:-@\\[-`{-~',
};

/** The pattern with Java's POSIX classes spelt as JavaScript ranges, bracketed unless already in a class. */
function fromJava(pattern) {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const rest = pattern.slice(i);
    const posix = /^\\p\{(\w+)\}/.exec(rest);
    if (posix && POSIX[posix[1]]) {
      out += inClass ? POSIX[posix[1]] : `[${POSIX[posix[1]]}]`;
      i += posix[0].length - 1;
    } else if (rest[0] === '\\') {
      out += rest.slice(0, 2);
      i++;
    } else {
      if (rest[0] === '[') inClass = true;
      if (rest[0] === ']') inClass = false;
      out += rest[0];
    }
  }
  return out;
}

function compiled(pattern) {
  if (!patterns.has(pattern)) {
    let regex;
    for (const source of [pattern, fromJava(pattern)]) {
      try {
        regex = new RegExp(source, 'u');
        break;
      } catch {
        // Read without the u flag a Java pattern would mean something else: one that does not compile goes unchecked.
      }
    }
    patterns.set(pattern, regex);
  }
  return patterns.get(pattern);
}

function isBinary(value) {
  return typeof value === 'string' || value instanceof Uint8Array || ArrayBuffer.isView(value);
}

/**
 * The problems of `value` against `shapeName` in `model`, each as "<path>: <what is wrong>". Values are
 * named only for enums of shapes that are not sensitive, so a secret never reaches a report.
 */
export function validate(model, shapeName, value, path = '') {
  const problems = [];
  check(model, shapeName, value, path || 'input', problems);
  return problems;
}

function check(model, shapeName, value, path, problems) {
  const shape = model.shapes[shapeName];
  if (!shape || value === undefined || value === null) return;
  const fail = (what) => problems.push(`${path}: ${what}`);
  switch (shape.type) {
    case 'structure': {
      if (shape.document) return;
      if (typeof value !== 'object' || Array.isArray(value))
        return fail(`expected a structure (${shapeName})`);
      const members = shape.members ?? {};
      for (const required of shape.required ?? []) {
        const member = members[required];
        if (member?.idempotencyToken) continue;
        if (value[required] === undefined || value[required] === null) fail(`${required} is required`);
      }
      const set = [];
      for (const [key, member] of Object.entries(value)) {
        if (member === undefined) continue;
        if (!(key in members)) {
          fail(`${key} is not a member of ${shapeName}`);
          continue;
        }
        set.push(key);
        // A member sent in the URI, query string or a header travels as text: the SDK's models type some of
        // them as numbers where botocore's say string (Route 53's MaxItems); the request on the wire is the same.
        const asText = members[key].location && model.shapes[members[key].shape]?.type === 'string';
        const text = asText && typeof member === 'number' ? String(member) : member;
        check(model, members[key].shape, text, `${path}.${key}`, problems);
      }
      if (shape.union && set.length !== 1)
        fail(`exactly one member of ${shapeName} must be set, not ${set.length}`);
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) return fail(`expected a list (${shapeName})`);
      if (shape.min !== undefined && value.length < shape.min)
        fail(`at least ${shape.min} items, not ${value.length}`);
      if (shape.max !== undefined && value.length > shape.max)
        fail(`at most ${shape.max} items, not ${value.length}`);
      value.forEach((item, i) => {
        check(model, shape.member.shape, item, `${path}[${i}]`, problems);
      });
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || Array.isArray(value)) return fail(`expected a map (${shapeName})`);
      const entries = Object.entries(value);
      if (shape.min !== undefined && entries.length < shape.min) fail(`at least ${shape.min} entries`);
      if (shape.max !== undefined && entries.length > shape.max)
        fail(`at most ${shape.max} entries, not ${entries.length}`);
      for (const [key, item] of entries) {
        check(model, shape.key.shape, key, `${path}{key ${JSON.stringify(key)}}`, problems);
        check(model, shape.value.shape, item, `${path}.${key}`, problems);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') return fail(`expected a string (${shapeName}), got ${typeof value}`);
      const length = [...value].length;
      if (shape.min !== undefined && length < shape.min)
        fail(`at least ${shape.min} characters, not ${length}`);
      if (shape.max !== undefined && length > shape.max)
        fail(`at most ${shape.max} characters, not ${length}`);
      if (shape.enum && !shape.enum.includes(value)) {
        const shown = shape.sensitive ? 'the value' : JSON.stringify(value);
        fail(`${shown} is not one of ${shape.enum.join(', ')}`);
      }
      if (shape.pattern && !shape.sensitive) {
        const regex = compiled(shape.pattern);
        if (regex && !regex.test(value)) fail(`does not match the pattern ${shape.pattern}`);
      }
      return;
    }
    case 'integer':
    case 'long': {
      const number = typeof value === 'bigint' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isInteger(number))
        return fail(`expected an integer (${shapeName})`);
      if (shape.min !== undefined && number < shape.min) fail(`at least ${shape.min}, not ${number}`);
      if (shape.max !== undefined && number > shape.max) fail(`at most ${shape.max}, not ${number}`);
      return;
    }
    case 'float':
    case 'double': {
      if (typeof value !== 'number') return fail(`expected a number (${shapeName})`);
      if (shape.min !== undefined && value < shape.min) fail(`at least ${shape.min}, not ${value}`);
      if (shape.max !== undefined && value > shape.max) fail(`at most ${shape.max}, not ${value}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') fail(`expected a boolean (${shapeName})`);
      return;
    case 'timestamp':
      if (!(value instanceof Date) && typeof value !== 'number' && typeof value !== 'string') {
        fail(`expected a timestamp (${shapeName})`);
      } else if (value instanceof Date && Number.isNaN(value.getTime())) fail('an invalid date');
      return;
    case 'blob':
      if (shape.streaming) return;
      if (!isBinary(value)) return fail(`expected binary data (${shapeName})`);
      if (shape.min !== undefined && value.length < shape.min) fail(`at least ${shape.min} bytes`);
      if (shape.max !== undefined && value.length > shape.max)
        fail(`at most ${shape.max} bytes, not ${value.length}`);
      return;
    default:
      return;
  }
}
