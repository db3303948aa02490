#!/usr/bin/env bash
# Load test: the app under gunicorn with production settings (DEBUG off, static files through
# WhiteNoise) against its own PostgreSQL database, driven by locust for LOAD_SECONDS (120) with
# LOAD_USERS (50) simulated users. Traffic goes only to 127.0.0.1; every step has a time limit and
# gunicorn is stopped on any exit. Prints requests/s, p50/p95/p99 and the error count.
#
#   bench/load.sh                          # from a clone after `make install`
#   LOAD_ARENDEN=20000 bench/load.sh       # a bigger diarium
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${LOAD_PG:-postgres://postgres@127.0.0.1:5432}
DB=${LOAD_DB:-skarholmen_load}
USERS=${LOAD_USERS:-50}
CHEFER=${LOAD_CHEFER:-4}
SECONDS_=${LOAD_SECONDS:-120}
ARENDEN=${LOAD_ARENDEN:-2000}
PORT=${LOAD_PORT:-8650}
PY=.venv/bin/python

[ -x "$PY" ] || make install
if ! "$PY" -c "import locust" 2>/dev/null; then
  .venv/bin/pip install --quiet --require-hashes -r requirements-bench.lock
fi

work=$(mktemp -d /tmp/skarholmen-load.XXXXXX)
gunicorn_pid=""
cleanup() {
  if [ -n "$gunicorn_pid" ] && kill -0 "$gunicorn_pid" 2>/dev/null; then
    kill -TERM "$gunicorn_pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$gunicorn_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$gunicorn_pid" 2>/dev/null || true
  fi
  if [ "${LOAD_KEEP_DB:-}" != 1 ]; then
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Production settings, except TLS: there is none on 127.0.0.1, so no redirect to https and
# cookies that travel over plain http.
export DATABASE_URL="$PG/$DB" PRODUCTION=true DEBUG=false SECURE_SSL_REDIRECT=false SECURE_COOKIES=false \
  SECURE_HSTS_SECONDS=0 ALLOWED_HOSTS=127.0.0.1 STATIC_ROOT="$work/static" MEDIA_ROOT="$work/media" \
  SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')" LOG_LEVEL=WARNING

# PostgreSQL and locust share this machine's cores with the app: one sync worker per core and one
# more. gunicorn.conf.py's default, 2 × cores + 1, is for app servers whose database is elsewhere;
# here it cost some 8 % more CPU a request (see the README's load figures).
export GUNICORN_WORKERS=${GUNICORN_WORKERS:-$(($(nproc) + 1))}

step() { echo "== $*"; }
step "database $DB ($ARENDEN ärenden from generate_volume, plus the demo)"
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
timeout 300 "$PY" manage.py migrate --noinput -v 0
PRODUCTION=false timeout 300 "$PY" manage.py load_demo >/dev/null  # refused in production
PRODUCTION=false timeout 900 "$PY" manage.py generate_volume --arenden "$ARENDEN"  # refused in production
timeout 300 "$PY" bench/load_setup.py "$work/plan.json" --handlaggare $((USERS - CHEFER)) --chefer "$CHEFER"
timeout 300 "$PY" manage.py collectstatic --noinput -v 0

step "gunicorn on 127.0.0.1:$PORT"
GUNICORN_BIND="127.0.0.1:$PORT" GUNICORN_LOGLEVEL=warning .venv/bin/gunicorn -c gunicorn.conf.py \
  >"$work/gunicorn.log" 2>&1 &
gunicorn_pid=$!
for _ in $(seq 60); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/logga-in/" 2>/dev/null && break
  kill -0 "$gunicorn_pid" 2>/dev/null || { cat "$work/gunicorn.log"; exit 1; }
  sleep 1
done

# The host's speed just before and after the run (bench/reference.py), which the rate follows.
LOAD_REFERENCE_MS=$("$PY" bench/reference.py)
step "machine: $("$PY" bench/reference.py --machine "$LOAD_REFERENCE_MS"), workers $GUNICORN_WORKERS"
step "locust: $USERS users ($CHEFER attestants), $SECONDS_ s after all have logged in"
status=0
LOAD_REFERENCE_MS="$LOAD_REFERENCE_MS" LOAD_PLAN="$work/plan.json" LOAD_SECONDS="$SECONDS_" LOAD_GUNICORN_PID="$gunicorn_pid" LOAD_DB_NAME="$DB" timeout $((SECONDS_ + 300)) \
  .venv/bin/locust -f bench/locustfile.py --headless --only-summary --loglevel WARNING \
  --users "$USERS" --spawn-rate "$USERS" --run-time $((SECONDS_ + 240))s --stop-timeout 10 \
  --host "http://127.0.0.1:$PORT" || status=$?
echo "reference loop  $LOAD_REFERENCE_MS ms before the run, $("$PY" bench/reference.py) ms after (bench/reference.py)"

if grep -q "Traceback" "$work/gunicorn.log"; then
  echo "gunicorn logged errors:"; grep -B2 -A20 -m3 "Traceback" "$work/gunicorn.log"; status=1
fi
exit "$status"
