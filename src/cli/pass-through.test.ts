// `touchdown manage shell -c "…"`: manage.py's words reach it untouched, Touchdown's options before them stay ours.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { passThroughAfterOperand } from './pass-through.js';

/** The shape of touchdown's command line: global options that take values, and manage with its own flag. */
function parse(...words: string[]): { args: string[]; opts: Record<string, unknown> } {
  const seen = { args: [] as string[], opts: {} as Record<string, unknown> };
  const program = new Command('touchdown')
    .exitOverride()
    .option('-c, --config <path>')
    .option('-s, --stack <name>')
    .option('--stage <name>')
    .option('-y, --yes');
  program
    .command('manage')
    .argument('<args...>')
    .option('--local')
    .allowUnknownOption()
    .action((args: string[], _opts, cmd: Command) => {
      seen.args = args;
      seen.opts = cmd.optsWithGlobals();
    });
  program.command('plan').action(() => {});
  program.parse(passThroughAfterOperand(['node', 'touchdown', ...words], program, 'manage'));
  return seen;
}

describe('manage passes its arguments through', () => {
  it('keeps -c and -s for manage.py', () => {
    const r = parse('manage', 'shell', '-c', 'print(1)', '-s', 'x');
    assert.deepEqual(r.args, ['shell', '-c', 'print(1)', '-s', 'x']);
    assert.equal(r.opts.config, undefined);
    assert.equal(r.opts.stack, undefined);
  });

  it("keeps Touchdown's options before the command name, with their values", () => {
    const r = parse('--yes', 'manage', '--local', '--stage', 'staging', 'shell', '-c', 'x = 1');
    assert.deepEqual(r.args, ['shell', '-c', 'x = 1']);
    assert.equal(r.opts.stage, 'staging');
    assert.equal(r.opts.local, true);
    assert.equal(r.opts.yes, true);
    const config = parse('-c', 'other.ts', 'manage', '--stage=staging', 'check', '--deploy');
    assert.deepEqual(config.args, ['check', '--deploy']);
    assert.equal(config.opts.config, 'other.ts');
    assert.equal(config.opts.stage, 'staging');
  });

  it('leaves an explicit -- and other commands alone', () => {
    assert.deepEqual(parse('manage', '--', 'shell', '-c', 'x').args, ['shell', '-c', 'x']);
    const argv = ['node', 'touchdown', 'plan', '-c', 'x.ts'];
    assert.deepEqual(passThroughAfterOperand(argv, new Command(), 'manage'), argv);
  });
});
