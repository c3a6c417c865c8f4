#!/usr/bin/env node
// The command is one ES module bundle (scripts/bundle.mjs, built by `npm run build`). Node 22.1 and later also
// keep its compiled code between runs; Node 20 has no compile cache and starts without one.
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/cli.js');
