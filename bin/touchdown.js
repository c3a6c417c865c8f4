#!/usr/bin/env node
// The command is a bundle of CommonJS chunks (scripts/bundle.mjs, built by `npm run build`), run with V8's code
// cache kept in the user's cache folder (dist/cli/bundle-loader.js), @smithy/core's files from node_modules
// included. Node 22.1 and later also keep the compiled code of the other packages it loads.
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { codeCacheDir, runBundle } from '../dist/cli/bundle-loader.js';

module.enableCompileCache?.();
runBundle({ dist: fileURLToPath(new URL('../dist/', import.meta.url)), cacheDir: codeCacheDir() });
