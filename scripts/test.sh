#!/usr/bin/env bash
# Sets up and runs the whole test suite: types, lint, then every test against real local services.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The browser tests drive Debian's Chromium (playwright-core downloads no browser of its own).
if ! command -v chromium >/dev/null; then
  printf '\033[1m==> Chromium for the browser tests\033[0m\n'
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "install Chromium (Debian/Ubuntu: sudo apt-get install chromium), then run this again" >&2
    exit 1
  fi
fi
printf '\033[1m==> typecheck and lint\033[0m\n'
npx tsc -p tsconfig.json --noEmit
npx biome check .
printf '\033[1m==> tests\033[0m\n'
# Each test file runs as a bundle (scripts/bundle-tests.mjs): Node loads one file and the chunks it shares with
# the others, where through a TypeScript loader it resolved and compiled hundreds of modules, at seconds of CPU a file.
node scripts/bundle-tests.mjs
# Node 20's test runner takes no globs, and starts the files it is given in name order. The longest files
# (test/slowest.txt) run through links whose names sort first, so that none of them starts last and holds up the
# end of the run; a link runs its file where it is (Node resolves it), so paths from import.meta.url hold.
first=.build/0-longest-first
rm -rf "$first" && mkdir -p "$first"
n=0
longest=()
while read -r f; do
  [ -f "$f" ] || { echo "test/slowest.txt names $f, which does not exist: remove it from the list" >&2; exit 1; }
  js=".build/${f%.ts}.js"
  n=$((n + 1))
  ln -s "$(realpath "$js")" "$first/$(printf '%02d' "$n")-$(basename "$js")"
  longest+=("$js")
done < <(grep -v '^#' test/slowest.txt)
mapfile -t files < <({ find "$first" -name '*.test.js'; find .build/src .build/test -name '*.test.js' | grep -vxF -f <(printf '%s\n' "${longest[@]}"); } | sort)
# A local AWS per file running at once, started once for the run: a file with the default settings leases one
# and resets it (test/support/local-aws.ts), instead of paying a fresh server's start and first plan (seconds of
# CPU each), with the file's emulator settings for the lease. --detach: they serve until this script ends.
# Five files at once on two cores: a file spends most of its time waiting (on its apps' health checks, image
# builds, a CLI's polls), about a third of a core each on average in a full run.
concurrency=5
pool=$(mktemp -d)
pool_pids=()
# Each server's pid is written beside its file, so that a file that finds them all still starting waits for one
# (test/support/local-aws.ts) instead of starting a server of its own.
for i in $(seq 1 "$concurrency"); do
  .venv/bin/python scripts/local_aws.py --port 0 --detach >"$pool/server-$i.json" &
  pool_pids+=($!)
  echo $! >"$pool/server-$i.pid"
done
# And two for the files that run apps (their images given per lease); when both are leased, such a file starts its
# own (seconds of CPU to start it and build its backends). Six of the longest files (test/slowest.txt) run apps and
# start early, so two or more of them run at once.
for i in 1 2; do
  LOCAL_AWS_APPS=true .venv/bin/python scripts/local_aws.py --port 0 --detach >"$pool/apps-$i.json" &
  pool_pids+=($!)
  echo $! >"$pool/apps-$i.pid"
done
# One boto3 peer for the whole run, which every file's Boto connects to (test/support/boto.ts): boto3's import
# costs half a CPU second, paid once instead of in each of the hundred files that check with it.
.venv/bin/python test/support/boto_peer.py --socket "$pool/boto.sock" &
pool_pids+=($!)
# The trap runs under set -e: wait's status for a server ended by kill (143) must not become the run's.
trap 'kill "${pool_pids[@]}" 2>/dev/null; wait "${pool_pids[@]}" 2>/dev/null || true; rm -rf "$pool"' EXIT
export TOUCHDOWN_TEST_AWS_POOL="$pool"
# Every AWS call a test makes (its own, and those of the CLIs it starts) is checked against AWS's published API
# models and IAM's action catalogue: test/support/conformance/.
rm -rf test-artifacts/conformance
status=0
# --test-timeout is a guard against a hung file, not a clock on a busy one: the image builds took 600 s with the
# machine at load 13 (they take 300 s on an idle one).
node --enable-source-maps --import ./test/support/conformance/register.mjs --test --test-concurrency="$concurrency" \
  --test-timeout=1200000 --test-reporter=spec "${files[@]}" || status=$?
node test/support/conformance/total.mjs
if [ -s "$pool/own-servers.log" ]; then
  echo "test files that started a local AWS of their own (the pool's were leased):"
  sort "$pool/own-servers.log" | uniq -c | sort -rn
fi
exit "$status"
