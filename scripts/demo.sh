#!/usr/bin/env bash
# README command one: set up, start the local AWS, deploy examples/xkcd to it and print its outputs.
# Also applies the seed 000 walkthrough stack. Safe to run again: it converges instead of duplicating.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
./scripts/setup.sh
printf '\033[1m==> local AWS\033[0m\n'
./scripts/local-aws.sh start
eval "$(./scripts/local-aws.sh env)"
touchdown() { node "$root/bin/touchdown.js" "$@"; }

printf '\033[1m==> examples/walkthrough: touchdown apply, then a plan that finds nothing to change\033[0m\n'
(cd examples/walkthrough && touchdown apply --yes >/dev/null && touchdown plan --detailed-exitcode)

printf '\033[1m==> examples/xkcd: touchdown deploy\033[0m\n'
cd examples/xkcd
if docker version >/dev/null 2>&1 || podman version >/dev/null 2>&1 || buildah version >/dev/null 2>&1; then
  touchdown deploy --yes
else
  # No container builder on this machine: deploy a named image (the local AWS runs no containers anyway).
  echo "(no docker, podman or buildah here: deploying the image name xkcd:demo without building it)"
  touchdown deploy --yes --image "xkcd:demo"
fi
printf '\033[1m==> a second deploy finds nothing to do\033[0m\n'
touchdown deploy --yes --image "xkcd:demo" 2>/dev/null | tail -1 || true
printf '\n\033[1mDone.\033[0m The stack runs on the local AWS at %s. Try it yourself:\n' "$AWS_ENDPOINT_URL"
printf '  eval "$(scripts/local-aws.sh env)"; cd examples/xkcd; ../../bin/touchdown.js status\n'
