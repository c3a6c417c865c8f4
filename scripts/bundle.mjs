// Builds the touchdown command as one ES module bundle, dist/cli.js, beside tsc's output (the library, dist/index.js):
// Node then compiles one file of Touchdown and only the AWS SDK code a command reaches, instead of resolving
// and compiling hundreds of modules (the SDK's CommonJS builds hold every command of a service in one file).
// Each AWS service's client stays a dynamic import (a chunk of its own), so a command loads only the services
// its stack uses. Run by `npm run build`; measured by bench/cli-start.ts (docs/performance.md).
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { common, moduleUrlPlugin, registryPlugin, requiredPlugin, root, src } from './bundle-common.mjs';

const dist = join(root, 'dist');

const { metafile } = await build({
  ...common,
  metafile: true,
  absWorkingDir: root,
  entryPoints: { cli: join(src, 'cli', 'main.ts') },
  outdir: dist,
  chunkNames: 'cli-[hash]',
  plugins: [registryPlugin(), moduleUrlPlugin(), requiredPlugin()],
});

// The chunks of earlier builds go once nothing can still load them: a command started before this build imports
// its service clients' chunks lazily, so they stay an hour.
const built = new Set(Object.keys(metafile.outputs).map((f) => relative(dist, join(root, f))));
for (const f of readdirSync(dist).filter((f) => /^cli(\.|-).*\.js(\.map)?$/.test(f) && !built.has(f))) {
  if (Date.now() - statSync(join(dist, f)).mtimeMs > 3_600_000) rmSync(join(dist, f));
}
