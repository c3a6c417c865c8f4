#!/usr/bin/env bash
# Installs what Touchdown needs to build, test and run its demo, idempotently:
# npm packages, a Python virtualenv with the local AWS (moto) and boto3, and the build.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm packages"
  # Not `npm ci`: it insists on optional packages for other platforms (biome's), which a mirror may lack.
  # `npm install` with the committed lockfile installs the same pinned versions.
  npm install --no-audit --no-fund --loglevel=error
fi

if [ ! -x .venv/bin/python ]; then
  step "Python virtualenv (.venv)"
  python3 -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ -n "$(find requirements-dev.txt examples -name 'requirements*.txt' -newer "$stamp" 2>/dev/null | head -1)" ]; then
  step "Python packages: the local AWS (moto), boto3, the examples' requirements"
  reqs=(-r requirements-dev.txt)
  for f in examples/*/requirements.txt; do [ -f "$f" ] && reqs+=(-r "$f"); done
  # uv, pinned in requirements-dev.txt, installs them: pip took 50 s of CPU on a fresh clone (most of it compiling
  # every module's bytecode up front), uv 3 s; Python compiles what is imported, once.
  uv=$(grep -E '^uv==' requirements-dev.txt)
  .venv/bin/pip install --quiet --disable-pip-version-check "$uv"
  .venv/bin/uv pip install --quiet --python .venv/bin/python "${reqs[@]}"
  touch "$stamp"
fi

step "build"
npm run --silent build
