// What every benchmark shares: its command-line options and where its figures go (bench/results/<name>.json).
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../test/support/paths.js';

/** The value of `--name=value` on the command line, if given. */
export function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The value below which `p` (0..1) of the samples fall (nearest rank). */
export const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;

/** The machine's load when the benchmark started: figures measured on a busy machine read worse. */
const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));

export async function writeResults(benchmark: string, figures: Record<string, unknown>): Promise<void> {
  const out = join(repoRoot, 'bench', 'results');
  await mkdir(out, { recursive: true });
  const file = join(out, `${benchmark}.json`);
  const machine = {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    loadAverage: { atStart: loadAtStart, atEnd: loadavg().map((l) => Number(l.toFixed(2))) },
  };
  await writeFile(
    file,
    `${JSON.stringify({ benchmark, date: new Date().toISOString(), ...machine, ...figures }, null, 2)}\n`,
  );
  console.log(`written: bench/results/${benchmark}.json`);
}
