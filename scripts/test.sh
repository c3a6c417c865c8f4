#!/usr/bin/env bash
# Sets up and runs the whole test suite: types, lint, then every test against real local services.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
printf '\033[1m==> typecheck and lint\033[0m\n'
npx tsc -p tsconfig.json --noEmit
npx biome check .
printf '\033[1m==> tests\033[0m\n'
exec node --import tsx --test --test-concurrency=2 --test-timeout=600000 --test-reporter=spec \
  'src/**/*.test.ts' 'test/**/*.test.ts'
