import { showValue } from '../render/values.js';
import { type GlobalOptions, openSession } from '../session.js';
import { streams } from '../streams.js';

/** The stack's declared outputs, as Terraform prints them after apply (seed 003). */
export async function outputsCommand(
  name: string | undefined,
  options: GlobalOptions & { reveal?: boolean },
): Promise<number> {
  const session = await openSession(options, 'outputs');
  try {
    const outputs = await session.engine.outputs({ reveal: options.reveal });
    session.close();
    if (name !== undefined) {
      if (!(name in outputs)) {
        streams.stderr.write(
          `no output "${name}"; the stack declares: ${Object.keys(outputs).join(', ') || 'none'}\n`,
        );
        return 1;
      }
      const v = outputs[name];
      streams.stdout.write(
        `${options.json ? JSON.stringify(v) : typeof v === 'string' ? v : showValue(v, Number.MAX_SAFE_INTEGER)}\n`,
      );
      return 0;
    }
    if (options.json) streams.stdout.write(`${JSON.stringify(outputs, null, 2)}\n`);
    else
      for (const [k, v] of Object.entries(outputs))
        streams.stdout.write(`${k} = ${showValue(v, Number.MAX_SAFE_INTEGER)}\n`);
    return 0;
  } finally {
    session.close();
  }
}
