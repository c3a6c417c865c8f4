// `touchdown manage shell -c "…"`: everything from the management command's name on is manage.py's, even words
// that look like Touchdown's own options (-c is --config, -s --stack, -r --region).
import type { Command } from 'commander';

/**
 * argv with `--` put before the first operand of `commandName`, so that commander hands the rest over untouched.
 * Touchdown's options before that operand (`manage --local --stage staging shell …`) are still Touchdown's.
 */
export function passThroughAfterOperand(argv: string[], program: Command, commandName: string): string[] {
  const sub = program.commands.find((c) => c.name() === commandName);
  // argv[0] is node, argv[1] the script: the command is the first operand of the program's own.
  const at = sub ? firstOperand(argv, 2, program.options) : -1;
  if (!sub || at < 0 || argv[at] !== commandName) return argv;
  const start = firstOperand(argv, at + 1, [...program.options, ...sub.options]);
  if (start < 0 || argv[start - 1] === '--') return argv;
  return [...argv.slice(0, start), '--', ...argv.slice(start)];
}

type Options = Command['options'];

/** The index of the first word from `from` that is neither an option nor an option's value; -1 if none. */
function firstOperand(argv: string[], from: number, options: Options): number {
  for (let i = from; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!word.startsWith('-') || word === '-') return i;
    if (word.includes('=')) continue;
    const option = options.find((o) => o.short === word || o.long === word);
    // An option that takes a value (`--stage staging`) takes the next word.
    if (option && (option.required || option.optional)) i++;
  }
  return -1;
}
