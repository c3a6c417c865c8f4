// The test runner imports this into every test file's process (scripts/test.sh): it checks the calls of the
// file and of every CLI it starts (through NODE_OPTIONS), and fails the file on any call AWS would refuse.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', '..', '..', 'test-artifacts', 'conformance');
mkdirSync(dir, { recursive: true });
const testFile = process.argv[1] ?? 'unknown';
const log = join(dir, `${basename(testFile).replace(/\W/g, '_')}-${process.pid}.jsonl`);
writeFileSync(log, '');
process.env.TOUCHDOWN_CONFORMANCE_LOG = log;
const hook = join(here, 'hook.mjs');
if (!process.env.NODE_OPTIONS?.includes(hook)) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${hook}`.trim();
}
const { counts } = await import('./hook.mjs');

after(() => {
  const entries = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const children = entries.filter((e) => e.type === 'calls');
  const calls = counts.calls + children.reduce((n, e) => n + e.calls, 0);
  const unmodelled = counts.unmodelled + children.reduce((n, e) => n + e.unmodelled, 0);
  const violations = entries.filter((e) => e.type === 'violation');
  const summary = {
    file: testFile,
    calls,
    unmodelled,
    processes: children.length + 1,
    violations: violations.length,
  };
  writeFileSync(`${log}.summary.json`, JSON.stringify(summary));
  console.log(
    `# conformance: ${calls} AWS calls checked against AWS's API models (${summary.processes} processes), ${violations.length} refused`,
  );
  if (violations.length > 0) {
    const lines = violations.map((v) => `${v.service} ${v.operation}: ${v.problems.join('; ')}`);
    throw new Error(`conformance: ${violations.length} AWS calls AWS would refuse:\n${lines.join('\n')}`);
  }
});
