#!/usr/bin/env bash
# Tries public Django projects as a new user would (docs/real-projects.md): clone, `touchdown init --yes`, install
# what the project declares (with what init added) into a virtualenv of its own, `plan` and `deploy` to a local AWS
# that runs the app from that folder and virtualenv, the home page through the load balancer's port and a static
# file from the static bucket; then `touchdown up` with the machine's PostgreSQL and Redis, the home page and the
# same static file through up's entry point. Not part of the test suite: it needs the projects' repositories.
#
#   bench/real-projects.sh <name> <git url or dir> [commit]     one project (names below: its own steps)
#   CORPUS=/tmp/corpus (clones, virtualenvs, logs); results: $CORPUS/results.tsv, one line per project.
set -uo pipefail
here=${TOUCHDOWN_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
corpus=${CORPUS:-/tmp/corpus}
name=$1 source=$2 commit=${3:-}
mkdir -p "$corpus"
log=$corpus/$name.log
: > "$log"
td() { NO_COLOR=1 nice -n 10 node "${TOUCHDOWN_BIN:-$here/bin/touchdown.js}" "$@"; }
say() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$log"; }
secs() { echo $(( $(date +%s) - $1 )); }
result=()
record() { result+=("$1=$2"); }
finish() {
  [ -n "${aws_pid:-}" ] && kill "$aws_pid" 2>/dev/null && wait "$aws_pid" 2>/dev/null
  printf '%s\t%s\n' "$name" "${result[*]}" >> "$corpus/results.tsv"
  say "result: ${result[*]}"
}
trap finish EXIT

# 1. The project, as `git clone` gives it.
dir=$corpus/$name
rm -rf "$dir" "$dir.venv"
work=$dir
if [ "$name" = wagtail ]; then
  # `wagtail start`, from the wagtail installed beside Touchdown's tests.
  mkdir -p "$dir" && (cd "$dir" && "$here/.venv/bin/wagtail" start mysite >> "$log" 2>&1) && work=$dir/mysite
  record commit "wagtail-$("$here/.venv/bin/python" -c 'import wagtail; print(wagtail.__version__)')"
else
  git clone -q "$source" "$dir" && { [ -z "$commit" ] || git -C "$dir" checkout -q "$commit"; }
  record commit "$(git -C "$dir" rev-parse --short=12 HEAD)"
fi
# Projects whose manage.py is below the repository's top: where their own docs say to run it.
[ "$name" = oscar ] && work=$dir/sandbox

# 2. init, and where it put touchdown.yml.
t=$(date +%s)
(cd "$work" && td init --yes) >> "$log" 2>&1 || { record init failed; exit 1; }
record init "$(secs "$t")s"
home=$(dirname "$(find "$dir" -maxdepth 3 -name touchdown.yml | head -1)")
app=$(sed -n 's/^app: //p' "$home/touchdown.yml")
project=$(sed -n 's/^  project: //p' "$home/touchdown.yml")
django=$home/${project:-.}
say "init: touchdown.yml in $home, app $app"

# 3. A virtualenv with what the project declares, as init says to install it.
t=$(date +%s)
venv=$dir.venv
# The Python touchdown.yml names (a python3.X on PATH, else pyenv's).
pyver=$(sed -n 's/^  python: "\(.*\)"/\1/p' "$home/touchdown.yml")
python=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$pyver".*/bin/python 2>/dev/null | tail -1)
python=${python:-$(command -v "python$pyver")}
# Not on this machine (3.14 here): the newest pyenv has, said in the results.
if [ -x "$python" ]; then record python "$pyver"; else
  python=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[0-9].*/bin/python | sort -V | tail -1)
  record python "$pyver(absent:$("$python" -V | cut -d' ' -f2))"
fi
"$python" -m venv "$venv" >> "$log" 2>&1
export VIRTUAL_ENV=$venv
(
  cd "$home" || exit 1
  if [ -f uv.lock ]; then
    # saleor's webhook plugin imports pytest at run time: its dev group is installed too (a user's edit).
    UV_PROJECT_ENVIRONMENT=$venv nice -n 10 "$here/.venv/bin/uv" sync --locked $([ "$name" = saleor ] || echo --no-dev) --python "$venv/bin/python"
    # What init added, the way it says to (`uv add ...`): the lockfile is uv's to change.
    added=$(sed -n "s/^Install what was added into the app's virtualenv: uv add //p" "$log" | tr -d '"')
    [ -z "$added" ] || UV_PROJECT_ENVIRONMENT=$venv nice -n 10 "$here/.venv/bin/uv" add --python "$venv/bin/python" $added
  else
    req=$(sed -n 's/^  requirements: //p' touchdown.yml); req=${req:-requirements.txt}
    nice -n 10 "$here/.venv/bin/uv" pip install --python "$venv/bin/python" -r "$django/$req"
  fi
  # Steps the projects' own READMEs or Makefiles give before the first run: the oscar sandbox runs the library
  # from the repository with its test extra (`make install`); djangogirls builds its static files with gulp.
  [ "$name" = oscar ] && (cd "$dir" && nice -n 10 npm install --no-audit --no-fund) &&
    nice -n 10 "$here/.venv/bin/uv" pip install --python "$venv/bin/python" -e "$dir[test]"
  [ "$name" = djangogirls ] && nice -n 10 npm install --no-audit --no-fund && nice -n 10 npx gulp local
  true
) >> "$log" 2>&1 || { record install failed; exit 1; }
record install "$(secs "$t")s"

# 4. A local AWS that runs the image from this folder and virtualenv.
dockerfile=$(sed -n 's/^  dockerfile: //p' "$home/touchdown.yml")
images=$(printf '{"*/%s-production-app:*": {"dir": "%s", "python": "%s", "dockerfile": "%s", "env": {"WEB_CONCURRENCY": "1"}}}' \
  "$app" "$home" "$venv/bin/python" "${dockerfile:-Dockerfile}")
fifo=$corpus/$name.aws
rm -f "$fifo"
LOCAL_AWS_IMAGES=$images LOCAL_AWS_TIME_SCALE=0.05 nice -n 10 "$here/.venv/bin/python" "$here/scripts/local_aws.py" --detach \
  --port 0 > "$fifo" 2>> "$log" &
aws_pid=$!
for _ in $(seq 1 600); do [ -s "$fifo" ] && break; sleep 0.1; done
port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$fifo")
harness=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["harness"])' "$fifo")
export AWS_ENDPOINT_URL=http://localhost:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 TOUCHDOWN_AWS_READ_TIMEOUT=60
health=$(sed -n 's/^  healthCheck: //p' "$home/touchdown.yml")

# A secret the project's own code requires (saleor's JWT key, read outside its settings): a user's edit.
if [ "$name" = saleor ]; then
  sed -i 's/^secrets: \[\]/secrets: [RSA_PRIVATE_KEY]/' "$home/touchdown.yml"
  export RSA_PRIVATE_KEY=$(openssl genrsa 2048 2>/dev/null)
  # After `--`: a PEM starts with dashes, and standard input gives only its first line.
  (cd "$home" && td secrets set --yes RSA_PRIVATE_KEY -- "$RSA_PRIVATE_KEY") >> "$log" 2>&1
fi

# 5. plan and deploy.
t=$(date +%s)
(cd "$home" && td plan) >> "$log" 2>&1 && record plan "$(secs "$t")s" || record plan failed
t=$(date +%s)
if (cd "$home" && td deploy --yes --image "123456789012.dkr.ecr.us-east-1.amazonaws.com/$app-production-app:v1") >> "$log" 2>&1; then
  record deploy "$(secs "$t")s"
  lb=$(curl -fsS "http://127.0.0.1:$harness/load-balancers" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["listeners"]["80"])')
  record deploy-home "$(curl -sL -o /dev/null -w '%{http_code}' "$lb/")"
  record deploy-health "$(curl -s -o /dev/null -w '%{http_code}' -A ELB-HealthChecker/2.0 "$lb$health")"
  # CloudFront serves /static/ from the bucket on AWS: the object, read over HTTP from the local S3.
  bucket=$("$here/.venv/bin/python" -c 'import boto3; print([b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"] if "-static" in b["Name"]][0])' 2>> "$log")
  record deploy-static "$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$port/$bucket/static/admin/css/base.css")"
else
  record deploy "failed($(secs "$t")s)"
fi
kill "$aws_pid" 2>/dev/null; wait "$aws_pid" 2>/dev/null

# 6. up with the machine's services, then down.
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION TOUCHDOWN_LOCAL_AWS
upport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
t=$(date +%s)
if (cd "$home" && td up --detach --port "$upport" --python "$venv/bin/python") >> "$log" 2>&1; then
  record up "$(secs "$t")s"
  record up-home "$(curl -sL -o /dev/null -w '%{http_code}' "http://localhost:$upport/")"
  record up-static "$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$upport/static/admin/css/base.css")"
else
  record up "failed($(secs "$t")s)"
fi
(cd "$home" && td down --volumes) >> "$log" 2>&1
