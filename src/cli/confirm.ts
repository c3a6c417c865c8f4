// Asking before changing anything: only on a terminal, and only "yes" means yes.
import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../core/errors.js';

export async function confirm(question: string, options: { yes?: boolean }): Promise<boolean> {
  if (options.yes) return true;
  if (!process.stdin.isTTY) {
    throw new ConfigError(
      'standard input is not a terminal, so Touchdown cannot ask: pass --yes to go ahead',
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`\n${question} Only "yes" goes ahead: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}
