#!/usr/bin/env bash
# The local AWS (moto server) for the demo and for trying Touchdown by hand.
#   scripts/local-aws.sh start   starts it in the background (once) and prints its endpoint
#   scripts/local-aws.sh env     prints the exports that point the AWS CLI, SDKs and Touchdown at it
#   scripts/local-aws.sh stop    stops it (everything in it is lost: it keeps state in memory)
set -euo pipefail
cd "$(dirname "$0")/.."
state=.touchdown/local-aws.json
port_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$state"; }
pid_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$state"; }
running() { [ -f "$state" ] && kill -0 "$(pid_of)" 2>/dev/null && curl -fsS -o /dev/null "http://localhost:$(port_of)/moto-api/" 2>/dev/null; }

case "${1:-start}" in
  start)
    if ! running; then
      mkdir -p .touchdown
      : > .touchdown/local-aws.log
      # The emulator issues certificates at once and reports the example's two web tasks as running
      # (it runs no containers); tests set their own values.
      MOTO_ACM_VALIDATION_WAIT=${MOTO_ACM_VALIDATION_WAIT:-0} LOCAL_AWS_ECS_SERVICES_START=${LOCAL_AWS_ECS_SERVICES_START:-true} \
      nohup .venv/bin/python scripts/local_aws.py --port "${TOUCHDOWN_LOCAL_AWS_PORT:-0}" --detach \
        > "$state.tmp" 2>> .touchdown/local-aws.log < /dev/null &
      for _ in $(seq 1 100); do [ -s "$state.tmp" ] && break; sleep 0.1; done
      [ -s "$state.tmp" ] || { echo "the local AWS did not start; see .touchdown/local-aws.log" >&2; exit 1; }
      head -1 "$state.tmp" > "$state" && rm -f "$state.tmp"
    fi
    echo "http://localhost:$(port_of)"
    ;;
  env)
    running || { echo "the local AWS is not running: scripts/local-aws.sh start" >&2; exit 1; }
    cat <<ENV
export AWS_ENDPOINT_URL=http://localhost:$(port_of)
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=\${AWS_REGION:-us-east-1}
export AWS_DEFAULT_REGION=\$AWS_REGION
ENV
    ;;
  stop)
    if running; then kill "$(pid_of)"; fi
    rm -f "$state"
    ;;
  *) echo "usage: $0 start|env|stop" >&2; exit 2 ;;
esac
