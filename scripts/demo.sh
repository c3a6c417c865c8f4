#!/usr/bin/env bash
# README command one: set up, start the local AWS, deploy the walkthrough stack to it, then show that a
# second plan finds nothing to change. Safe to run again: it converges instead of duplicating.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
./scripts/setup.sh
printf '\033[1m==> local AWS\033[0m\n'
./scripts/local-aws.sh start
eval "$(./scripts/local-aws.sh env)"
touchdown() { node "$root/bin/touchdown.js" "$@"; }
cd examples/walkthrough
printf '\033[1m==> touchdown apply (examples/walkthrough)\033[0m\n'
touchdown apply --yes
printf '\033[1m==> touchdown plan: a second plan should find nothing to change\033[0m\n'
touchdown plan --detailed-exitcode
printf '\n\033[1mDone.\033[0m The stack runs on the local AWS at %s. Try it yourself:\n' "$AWS_ENDPOINT_URL"
printf '  eval "$(scripts/local-aws.sh env)"; cd examples/walkthrough; ../../bin/touchdown.js plan\n'
