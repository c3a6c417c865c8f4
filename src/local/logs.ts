// `touchdown logs --local`: the local stack's log files (one per process, each line stamped), merged in time
// order, and followed as they grow.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { logDir } from './state.js';

export interface LogLine {
  time: string;
  process: string;
  text: string;
}

export interface LogOptions {
  /** Only lines this recent. */
  sinceMs?: number;
  /** web (every web-N), web-1, worker-default, release, local-aws... */
  process?: string;
  follow: boolean;
  signal: AbortSignal;
  print: (line: LogLine) => void;
}

const matches = (name: string, wanted?: string) =>
  !wanted || name === wanted || name.startsWith(`${wanted}-`);

function parse(process: string, raw: string): LogLine {
  const space = raw.indexOf(' ');
  return { time: raw.slice(0, space), process, text: raw.slice(space + 1) };
}

/** Prints what the logs hold, then (with follow) what they get, until the signal. */
export async function localLogs(dir: string, o: LogOptions): Promise<number> {
  const folder = logDir(dir);
  const files = async () =>
    (await readdir(folder).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.log'))
      .map((f) => f.slice(0, -4))
      .filter((name) => matches(name, o.process));
  const from = o.sinceMs === undefined ? '' : new Date(Date.now() - o.sinceMs).toISOString();
  const offsets = new Map<string, number>();
  const lines: LogLine[] = [];
  for (const name of await files()) {
    const text = await readFile(join(folder, `${name}.log`), 'utf8');
    offsets.set(name, Buffer.byteLength(text));
    for (const raw of text.split('\n')) if (raw) lines.push(parse(name, raw));
  }
  const shown = lines
    .filter((l) => l.time >= from)
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  for (const l of shown) o.print(l);
  if (!o.follow) return shown.length;

  while (!o.signal.aborted) {
    await new Promise((r) => setTimeout(r, 300));
    for (const name of await files()) {
      const path = join(folder, `${name}.log`);
      const size = await stat(path).then(
        (s) => s.size,
        () => 0,
      );
      let at = offsets.get(name) ?? 0;
      // A rotated file starts again from its beginning.
      if (size < at) at = 0;
      if (size === at) continue;
      const handle = await open(path, 'r');
      const chunk = Buffer.alloc(size - at);
      await handle.read(chunk, 0, chunk.length, at);
      await handle.close();
      const text = chunk.toString('utf8');
      const complete = text.lastIndexOf('\n') + 1;
      offsets.set(name, at + Buffer.byteLength(text.slice(0, complete)));
      for (const raw of text.slice(0, complete).split('\n')) if (raw) o.print(parse(name, raw));
    }
  }
  return shown.length;
}
