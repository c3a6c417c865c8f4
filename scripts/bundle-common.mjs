// What both bundles share (the touchdown command's, scripts/bundle.mjs, and the test suite's,
// scripts/bundle-tests.mjs): the libraries left to node_modules, and the plugins that keep the code's run-time
// lookups working once bundled.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const src = join(root, 'src');

/**
 * Modules every Node process of the test suite patches from node_modules (test/support/conformance/hook.mjs
 * checks each AWS call by wrapping @smithy/core's Client.send): a bundled copy would escape that check, so the
 * command loads it, like the libraries it never bundles, from node_modules. jiti loads touchdown.config.ts
 * files with its own resolver.
 */
export const external = ['jiti', 'autocannon', 'pg', 'playwright-core'];

/**
 * @smithy/core (see above) is loaded with require(): imported from an ES module, Node would first scan each of
 * its CommonJS files for their export names.
 */
export function requiredPlugin() {
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
export function registryPlugin() {
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
 * The AWS SDK's schemas (schemas_0.js in each client's dist-es: every shape of every command of the
 * service) key their member traits by constants, `{ [_xN]: "Min" }`: a computed key keeps each declaration in the
 * bundle, used or not (EC2's: 1.1 MB). With the constants' strings written in, esbuild keeps only the shapes of
 * the commands Touchdown sends.
 */
export function sdkSchemasPlugin() {
  return {
    name: 'touchdown-sdk-schemas',
    setup(b) {
      b.onLoad(
        { filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
        (args) => {
          const text = readFileSync(args.path, 'utf8');
          const constants = new Map();
          for (const m of text.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm))
            constants.set(m[1], m[2]);
          const contents = text.replace(/([{,]\s*)\[(_\w+)\]:/g, (whole, before, name) =>
            constants.has(name) ? `${before}${constants.get(name)}:` : whole,
          );
          return { contents, loader: 'js' };
        },
      );
    },
  };
}

/**
 * Files that find their neighbours from import.meta.url (the Lambda handler, the settings snippet, the library's
 * entry for touchdown.config.ts) see the URL their module has in tsc's output: every bundle file sits in dist/.
 */
export function moduleUrlPlugin() {
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

/**
 * For the test suite's bundles: every source file that finds its neighbours from import.meta.url (or
 * import.meta.dirname) sees its own place in the checkout, so fixtures, the Lambda handler and the settings
 * snippet are read where they are, without copies.
 */
export function sourceUrlPlugin() {
  return {
    name: 'touchdown-source-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes('node_modules') || args.path.endsWith(join('src', 'aws', 'registry.ts')))
          return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url') && !text.includes('import.meta.dirname')) return undefined;
        return {
          contents: text
            .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
            .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path))),
          loader: 'ts',
        };
      });
    },
  };
}

/** Options both bundles build with: ES modules for Node 20, the SDK's tree-shakable builds, shared chunks. */
export const common = {
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The SDK's ES module builds: tree-shaken, where the CommonJS ones are a service's every command in one file.
  mainFields: ['module', 'main'],
  external,
  // CommonJS dependencies inside an ES module still call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as touchdownRequire } from 'node:module'; const require = touchdownRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
};
