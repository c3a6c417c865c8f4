// The lines `touchdown status` shows for a Lambda app and for SES's sandbox (src/django/lambda-status.ts).
import type { AppStatus } from '../../django/lambda-status.js';

export function appStatusLines(status: AppStatus): string[] {
  const lines: string[] = [];
  const fn = status.lambda;
  if (fn) {
    lines.push(`  web: Lambda function ${fn.function}, live alias on version ${fn.live ?? '(none yet)'}`);
    if (fn.versions.length > 0) {
      const shown = fn.versions.map((v) => (v.version === fn.live ? `${v.version} (live)` : v.version));
      lines.push(`  versions: ${shown.join(', ')}`);
    }
    const r = fn.recent;
    lines.push(`  since ${r.since}: ${r.invocations} invocation(s), ${r.errors} error(s)`);
    if (r.lastError) lines.push(`  last error: ${r.lastError}`);
  }
  if (status.email?.sandbox) lines.push(`  email: ${status.email.advice}`);
  else if (status.email)
    lines.push(`  email: SES production access, ${status.email.quota?.perDay ?? '?'} a day`);
  return lines;
}
