// Builds the touchdown command as one bundle beside tsc's output (the library, dist/index.js): Node then compiles
// one file of Touchdown and only the AWS SDK code a command reaches, instead of resolving and compiling hundreds of
// modules (the SDK's CommonJS builds hold every command of a service in one file). Each AWS service's client and
// each command stays a chunk of its own, loaded on first use. The chunks are CommonJS (dist/cli.cjs,
// dist/cli-<hash>.cjs, and their content hashes in dist/cli-chunks.json): bin/touchdown.js runs them through
// vm.Script with V8's code cache (src/cli/bundle-loader.ts), which Node 20 has for no ES module. Run by
// `npm run build`; measured by bench/cli-start.ts (docs/performance.md).
import { createHash } from 'node:crypto';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build, transform } from 'esbuild';
import {
  common,
  moduleUrlPlugin,
  registryPlugin,
  requiredPlugin,
  root,
  sdkSchemasPlugin,
  src,
} from './bundle-common.mjs';

const dist = join(root, 'dist');

// Code split as ES modules (esbuild splits no other format), then each chunk made CommonJS on its own.
const { outputFiles } = await build({
  ...common,
  // The loader gives each chunk `require`, and import.meta.url as a file of dist/.
  banner: {},
  define: { 'import.meta.url': '__touchdownUrl' },
  write: false,
  absWorkingDir: root,
  entryPoints: { cli: join(src, 'cli', 'bin.ts') },
  outdir: dist,
  chunkNames: 'cli-[hash]',
  plugins: [registryPlugin(), moduleUrlPlugin(), requiredPlugin(), sdkSchemasPlugin()],
});

const hashes = {};
for (const out of outputFiles) {
  const { code } = await transform(out.text, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // import() of a chunk or a package becomes require(): a vm.Script on Node 20 can run no import().
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
  });
  const name = basename(out.path).replace(/\.js$/, '.cjs');
  // ASCII only, so the loader reads it as latin1 (a third of the time utf8 takes). esbuild escapes every
  // string, template and regular expression already: what is left is in comments.
  const ascii = code.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  writeFileSync(join(dist, name), ascii);
  hashes[name] = createHash('sha256').update(ascii).digest('hex').slice(0, 32);
}
writeFileSync(join(dist, 'cli-chunks.json'), `${JSON.stringify(hashes, null, 2)}\n`);

// The chunks of earlier builds go once nothing can still load them: a command started before this build loads
// its service clients' chunks lazily, so they stay an hour.
for (const f of readdirSync(dist).filter((f) => /^cli(\.|-).*\.c?js(\.map)?$/.test(f) && !(f in hashes))) {
  if (Date.now() - statSync(join(dist, f)).mtimeMs > 3_600_000) rmSync(join(dist, f));
}
