// One .pyc for one source, whatever else the compiling Python had in memory. marshal (which writes the code
// object after a .pyc's 16-byte header) writes an object once and refers back to it after when the object is
// shared, and whether it is depends on the process's past: one compileall worker wrote a frozenset constant of
// ftplib twice where another wrote it once and referred back to it, so two builds of one package differed.
// A code object's constants are immutable, so sharing equal ones or not loads the same code: here every value
// that repeats (strings, numbers, tuples, frozensets, bytes) is written once and referred back to, everything
// else in full, with the back-references numbered again. The bytes then depend on the code alone.
// The format: https://github.com/python/cpython/blob/3.12/Python/marshal.c (w_object, w_ref, r_object).

const FLAG_REF = 0x80;
const HEADER = 16;

/** Type codes whose payload is a 4-byte size then that many bytes (bytes, str in their spellings). */
const SIZED = new Set('stuaA');
/** Type codes of fixed size: a 32-bit int, a binary float, a binary complex. */
const FIXED: Record<string, number> = { i: 4, g: 8, y: 16 };
/** Type codes with no payload: NULL, None, False, True, StopIteration, Ellipsis. */
const EMPTY = new Set('0NFTS.');
/** Values never written as a back-reference. */
const SINGLETONS = EMPTY;
/** Not values to share, nor any container of them: code objects (each is its own) and mutable values. */
const UNKEYED = new Set('c[{<');

interface Node {
  type: string;
  /** What follows the type byte, in order: spans of raw bytes as (start, end) offset pairs, and objects. */
  parts: (number | Node)[];
  /** For a back-reference ('r'), the object it names. */
  target?: Node;
  /** The value's number (equal values, equal numbers); null for code objects and their containers. */
  value?: number | null;
}

const resolve = (node: Node): Node => node.target ?? node;

/**
 * The .pyc written as above; `undefined` when the data is not a marshal stream this reader knows (a Python newer
 * than its format), in which case the caller keeps Python's bytes.
 */
export function canonicalPyc(pyc: Buffer): Buffer | undefined {
  let root: Node;
  try {
    root = new Reader(pyc).code();
  } catch {
    return undefined;
  }
  // Equal values get one number: a leaf by its bytes, a container by its type, raw bytes and its items' numbers.
  const numbers = new Map<string, number>();
  const number = (node: Node): number | null => {
    if (node.value !== undefined) return node.value;
    node.value = null;
    if (UNKEYED.has(node.type)) return null;
    let key = node.type;
    const { parts } = node;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (typeof p === 'number') {
        key += pyc.toString('latin1', p, parts[++i] as number);
      } else {
        const n = number(resolve(p));
        if (n === null) return null;
        // Above latin1, so never confused with raw bytes.
        key += `\u0100${n}\u0100`;
      }
    }
    if (!numbers.has(key)) numbers.set(key, numbers.size);
    node.value = numbers.get(key)!;
    return node.value;
  };
  const shared = (n: Node) => (SINGLETONS.has(n.type) ? undefined : (number(n) ?? undefined));

  // Two walks in the same order: the first counts each value, so that the second marks the first of those that
  // repeat (the reader numbers marked objects as it meets them) and refers back to it after.
  const count = new Map<number, number>();
  const tally = (node: Node): void => {
    const n = resolve(node);
    const value = shared(n);
    if (value !== undefined) {
      const seen = count.get(value) ?? 0;
      count.set(value, seen + 1);
      if (seen > 0) return;
    }
    for (const p of n.parts) if (typeof p !== 'number') tally(p);
  };
  tally(root);

  const out = new Writer(pyc);
  const refs = new Map<number, number>();
  const write = (node: Node): void => {
    const n = resolve(node);
    const value = shared(n);
    const earlier = value === undefined ? undefined : refs.get(value);
    if (earlier !== undefined) {
      out.ref(earlier);
      return;
    }
    const repeats = value !== undefined && count.get(value)! > 1;
    if (repeats) refs.set(value, refs.size);
    out.byte(n.type.charCodeAt(0) | (repeats ? FLAG_REF : 0));
    const { parts } = n;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (typeof p === 'number') out.span(p, parts[++i] as number);
      else write(p);
    }
  };
  out.span(0, HEADER);
  write(root);
  return out.done();
}

class Writer {
  private out: Buffer;
  private at = 0;
  constructor(private readonly data: Buffer) {
    this.out = Buffer.allocUnsafe(data.length + 64);
  }
  private room(n: number) {
    if (this.at + n <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.at + n));
    this.out.copy(bigger, 0, 0, this.at);
    this.out = bigger;
  }
  byte(b: number) {
    this.room(1);
    this.out[this.at++] = b;
  }
  span(start: number, end: number) {
    this.room(end - start);
    this.at += this.data.copy(this.out, this.at, start, end);
  }
  ref(index: number) {
    this.room(5);
    this.out[this.at] = 0x72; // 'r'
    this.out.writeInt32LE(index, this.at + 1);
    this.at += 5;
  }
  done() {
    return this.out.subarray(0, this.at);
  }
}

class Reader {
  private pos = HEADER;
  private readonly flagged: Node[] = [];
  constructor(private readonly data: Buffer) {}

  code(): Node {
    if (String.fromCharCode(this.data[this.pos]! & ~FLAG_REF) !== 'c') throw new Error('not a code object');
    const root = this.object();
    if (this.pos !== this.data.length) throw new Error('data after the code object');
    return root;
  }

  /** Skips n bytes, adding them to parts; returns where they start. */
  private raw(parts: Node['parts'], n: number): number {
    const start = this.pos;
    if (n < 0 || start + n > this.data.length) throw new Error('truncated');
    this.pos += n;
    parts.push(start, this.pos);
    return start;
  }
  private int32(parts: Node['parts']): number {
    return this.data.readInt32LE(this.raw(parts, 4));
  }
  private byte(parts: Node['parts']): number {
    return this.data[this.raw(parts, 1)]!;
  }
  private items(parts: Node['parts'], n: number) {
    for (let i = 0; i < n; i++) parts.push(this.object());
  }

  private object(): Node {
    if (this.pos >= this.data.length) throw new Error('truncated');
    const code = this.data[this.pos++]!;
    const type = String.fromCharCode(code & ~FLAG_REF);
    const parts: Node['parts'] = [];
    const node: Node = { type, parts };
    // The reader numbers a marked object when it starts reading it (containers before their items).
    if (code & FLAG_REF) this.flagged.push(node);
    if (EMPTY.has(type)) return node;
    if (SIZED.has(type)) {
      this.raw(parts, this.int32(parts));
      return node;
    }
    const fixed = FIXED[type];
    if (fixed) {
      this.raw(parts, fixed);
      return node;
    }
    switch (type) {
      case 'r': {
        node.target = this.flagged[this.data.readInt32LE(this.pos)];
        this.pos += 4;
        if (!node.target) throw new Error('reference to an object not read yet');
        break;
      }
      case 'l':
        this.raw(parts, Math.abs(this.int32(parts)) * 2);
        break;
      case 'f':
      case 'z':
      case 'Z':
        this.raw(parts, this.byte(parts));
        break;
      case 'x':
        this.raw(parts, this.byte(parts));
        this.raw(parts, this.byte(parts));
        break;
      case '(':
      case '[':
      case '<':
      case '>':
      case ')':
        // A small tuple counts its items in one byte, other containers in four.
        this.items(parts, type === ')' ? this.byte(parts) : this.int32(parts));
        break;
      case '{':
        // Key, value pairs until a NULL key.
        while (String.fromCharCode(this.data[this.pos]! & ~FLAG_REF) !== '0') this.items(parts, 2);
        this.items(parts, 1);
        break;
      case 'c':
        // Python 3.11 to 3.13: argcount, posonlyargcount, kwonlyargcount, stacksize, flags; code, consts, names,
        // localsplusnames, localspluskinds, filename, name, qualname; firstlineno; linetable, exceptiontable.
        this.raw(parts, 20);
        this.items(parts, 8);
        this.raw(parts, 4);
        this.items(parts, 2);
        break;
      default:
        throw new Error(`unknown type ${JSON.stringify(type)}`);
    }
    return node;
  }
}
