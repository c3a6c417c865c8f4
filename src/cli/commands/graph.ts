import { instantiate } from '../../config/define.js';
import { findConfig, loadDefinition } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';
import { toDot, toMermaid } from '../../core/graph.js';
import type { GlobalOptions } from '../session.js';

/** The declared graph; needs no AWS access. */
export async function graphCommand(options: GlobalOptions & { format?: string }): Promise<number> {
  const format = options.format ?? 'dot';
  if (format !== 'dot' && format !== 'mermaid')
    throw new ConfigError(`--format ${format}: use dot or mermaid`);
  const stack = instantiate(await loadDefinition(await findConfig(options.config)), options.stack);
  process.stdout.write(`${format === 'dot' ? toDot(stack) : toMermaid(stack)}\n`);
  return 0;
}
