// Builds the touchdown command as one ES module bundle, dist/cli.js, beside tsc's output (the library, dist/index.js):
// Node then compiles one file of Touchdown and only the AWS SDK code a command reaches, instead of resolving
// and compiling hundreds of modules (the SDK's CommonJS builds hold every command of a service in one file).
// Each AWS service's client stays a dynamic import (a chunk of its own), so a command loads only the services
// its stack uses. Run by `npm run build`; measured by bench/cli-start.ts (docs/performance.md).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

/**
 * Modules every Node process of the test suite patches from node_modules (test/support/conformance/hook.mjs
 * checks each AWS call by wrapping @smithy/core's Client.send): a bundled copy would escape that check, so the
 * command loads it, like the libraries it never bundles, from node_modules. jiti loads touchdown.config.ts
 * files with its own resolver.
 */
const external = ['jiti', 'autocannon', 'pg', 'playwright-core'];

/**
 * @smithy/core (see above) is loaded with require(): imported from an ES module, Node would first scan each of
 * its CommonJS files for their export names.
 */
function requiredPlugin() {
  return {
    name: 'touchdown-required',
    setup(b) {
      b.onResolve({ filter: /^@smithy\/core(\/.*)?$/ }, (args) =>
        args.namespace === 'required'
          ? { path: args.path, external: true }
          : { path: args.path, namespace: 'required' },
      );
      b.onLoad({ filter: /.*/, namespace: 'required' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

/** The resource type files registry.ts finds at run time, as static imports the bundler can follow. */
function registryPlugin() {
  return {
    name: 'touchdown-registry',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]aws[\\/]registry\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const marker = 'await Promise.all(typeFiles().map(';
        const at = text.indexOf(marker);
        if (at < 0) throw new Error(`${args.path}: the bundle expects \`${marker}\` to list the type files`);
        const end = text.indexOf(';', at);
        const files = typeFiles(dirname(args.path));
        const imports = files.map((f, i) => `import * as type${i} from ${JSON.stringify(f)};`).join('\n');
        const list = `[${files.map((_, i) => `type${i}`).join(', ')}]`;
        return { contents: `${imports}\n${text.slice(0, at)}${list}${text.slice(end)}`, loader: 'ts' };
      });
    },
  };
}

/** Same rule as registry.ts: the .ts files of each service folder that call defineResourceType. */
function typeFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(dir, d.name))
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
        .map((f) => `./${d.name}/${f}`),
    )
    .filter((f) => readFileSync(join(dir, f), 'utf8').includes('defineResourceType('))
    .sort();
}

/**
 * Files that find their neighbours from import.meta.url (the Lambda handler, the settings snippet, the library's
 * entry for touchdown.config.ts) see the URL their module has in tsc's output: every bundle file sits in dist/.
 */
function moduleUrlPlugin() {
  return {
    name: 'touchdown-module-url',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url') || args.path.endsWith('registry.ts')) return undefined;
        const asBuilt = `./${relative(src, args.path).replace(/\\/g, '/').replace(/\.ts$/, '.js')}`;
        const url = `new URL(${JSON.stringify(asBuilt)}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

for (const f of readdirSync(dist).filter((f) => /^cli(\.|-).*\.js(\.map)?$/.test(f))) rmSync(join(dist, f));

await build({
  entryPoints: { cli: join(src, 'cli', 'main.ts') },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The SDK's ES module builds: tree-shaken, where the CommonJS ones are a service's every command in one file.
  mainFields: ['module', 'main'],
  chunkNames: 'cli-[hash]',
  external,
  // CommonJS dependencies inside an ES module still call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as touchdownRequire } from 'node:module'; const require = touchdownRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [registryPlugin(), moduleUrlPlugin(), requiredPlugin()],
});
