// Asking before changing anything: only on a terminal, and only "yes" means yes. Secrets typed without echo.
import { createInterface } from 'node:readline/promises';
import { ConfigError } from '../core/errors.js';
import { streams } from './streams.js';

export async function confirm(question: string, options: { yes?: boolean }): Promise<boolean> {
  if (options.yes) return true;
  if (!streams.stdin.isTTY) {
    throw new ConfigError(
      'standard input is not a terminal, so Touchdown cannot ask: pass --yes to go ahead',
    );
  }
  const rl = createInterface({ input: streams.stdin, output: streams.stderr });
  try {
    const answer = await rl.question(`\n${question} Only "yes" goes ahead: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

/**
 * A secret's value: typed on a terminal with echo off (raw mode, nothing written back but the question),
 * else the first line of standard input (a pipe, `< file`).
 */
export async function readSecret(name: string): Promise<string> {
  const stdin = streams.stdin;
  if (!stdin.isTTY) {
    const rl = createInterface({ input: stdin, terminal: false });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    throw new ConfigError(`no value for ${name}: give it as an argument or on standard input`);
  }
  // Echo goes off before the question shows, so nothing typed after it reaches the screen.
  stdin.setRawMode(true);
  streams.stderr.write(`Value for ${name} (not shown as you type): `);
  const value = await typedWithoutEcho(stdin);
  streams.stderr.write('\n');
  if (value === undefined) throw new ConfigError(`no value for ${name}: nothing was changed`);
  return value;
}

/** Keys as the user types them, echoing none; Enter ends, Ctrl-C or Ctrl-D on an empty line gives up. */
function typedWithoutEcho(stdin: NodeJS.ReadStream): Promise<string | undefined> {
  return new Promise((resolve) => {
    let value = '';
    stdin.setEncoding('utf8');
    const finish = (result: string | undefined) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      resolve(result);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(value);
        if (ch === '\u0003') return finish(undefined);
        if (ch === '\u0004') {
          if (value === '') return finish(undefined);
          continue;
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
