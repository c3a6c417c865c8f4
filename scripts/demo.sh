#!/usr/bin/env bash
# README command one: set up, start the local AWS, deploy examples/xkcd to it and print its outputs, then run
# the same app on this machine (touchdown up) and print its URL. Also applies the seed 000 walkthrough stack.
# Safe to run again: it converges instead of duplicating.
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
image=()
if ! docker version >/dev/null 2>&1 && ! podman version >/dev/null 2>&1 && ! buildah version >/dev/null 2>&1; then
  # No container builder on this machine: deploy a named image (the local AWS runs no containers anyway).
  echo "(no docker, podman or buildah here: deploying the image name xkcd:demo without building it)"
  image=(--image "xkcd:demo")
fi
touchdown deploy --yes "${image[@]}"
printf '\033[1m==> a second deploy finds nothing to do\033[0m\n'
touchdown deploy --yes "${image[@]}" 2>/dev/null | tail -1 || true

# The same manifest on this machine: real PostgreSQL and Redis, buckets and secrets on the same local AWS
# (as the stack xkcd-local, apart from the deployed xkcd-production), gunicorn behind one local port.
printf '\033[1m==> examples/xkcd: touchdown up --detach\033[0m\n'
url=$(touchdown up --detach)
printf '\n\033[1mDone.\033[0m The xkcd app serves at \033[1m%s\033[0m: open it, reload, and watch the view count rise.\n' "$url"
printf 'Its AWS stack runs on the local AWS at %s. Try it yourself:\n' "$AWS_ENDPOINT_URL"
printf '  cd examples/xkcd\n'
printf '  ../../bin/touchdown.js logs --local --follow    # the local processes; down stops them\n'
printf '  eval "$(../../scripts/local-aws.sh env)"; ../../bin/touchdown.js status\n'
