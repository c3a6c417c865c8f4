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
  # uv, pinned in requirements-dev.txt, installs them: 16 s on a fresh clone where pip took 59. With their bytecode:
  # without it, the suite's many Django processes (gunicorn workers, one-off tasks) each compiled what they
  # imported, on a loaded machine (170 CPU s more in a whole run).
  uv=$(grep -E '^uv==' requirements-dev.txt)
  .venv/bin/pip install --quiet --disable-pip-version-check "$uv"
  .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python "${reqs[@]}"
  touch "$stamp"
fi

step "build"
npm run --silent build
