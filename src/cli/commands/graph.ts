import { ConfigError } from '../../core/errors.js';
import { toDot, toMermaid } from '../../core/graph.js';
import { type GlobalOptions, openSession } from '../session.js';
import { streams } from '../streams.js';

/** The declared graph; needs no AWS access. */
export async function graphCommand(options: GlobalOptions & { format?: string }): Promise<number> {
  const format = options.format ?? 'dot';
  if (format !== 'dot' && format !== 'mermaid')
    throw new ConfigError(`--format ${format}: use dot or mermaid`);
  const session = await openSession({ ...options, json: true }, 'graph', { offline: true });
  session.close();
  streams.stdout.write(`${format === 'dot' ? toDot(session.stack) : toMermaid(session.stack)}\n`);
  return 0;
}
