#!/usr/bin/env bash
# Sets up and runs the whole test suite: types, lint, then every test against real local services.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
printf '\033[1m==> typecheck and lint\033[0m\n'
npx tsc -p tsconfig.json --noEmit
npx biome check .
printf '\033[1m==> tests\033[0m\n'
# Node 20's test runner takes no globs: list the files. Each file starts its own local AWS.
mapfile -t files < <(find src test -name '*.test.ts' | sort)
exec node --import tsx --test --test-concurrency=3 --test-timeout=600000 --test-reporter=spec "${files[@]}"
