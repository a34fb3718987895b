#!/usr/bin/env bash
# Runs the browser end-to-end test against the real demo: builds the app,
# starts `cvodev demo` (simulator + Online Retail shop) on ports, a database
# and a job namespace of its own, opens the page as soon as the app answers
# (the page's first call installs the shop) and drives every page in Debian's
# Chromium (frontend/e2e/run.mjs).
set -euo pipefail
cd "$(dirname "$0")/../.."

CHROMIUM="${E2E_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "e2e: $CHROMIUM is missing; install Debian's chromium (apt-get install -y chromium)" >&2
  exit 1
fi

APP_PORT="${E2E_APP_PORT:-18080}"
SIM_PORT="${E2E_SIM_PORT:-19100}"
DB="cvo_e2e_$$"
export PORT="$APP_PORT" SIMULATOR_PORT="$SIM_PORT" SHOPIFY_APP_URL="http://localhost:$APP_PORT"
NS="e2e-demo-$$-$RANDOM"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable" REDIS_URL="redis://127.0.0.1:6379/0" QUEUE_NAMESPACE="$NS"
LOG="$(mktemp)"

# Removes the keys of this run's job queues only (asynq keeps a queue's keys
# under asynq:{queue}); the Redis is shared.
remove_namespace() {
  for q in "$NS:webhooks" "$NS:default"; do
    redis-cli -h 127.0.0.1 --scan --pattern "asynq:{$q}*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null
    redis-cli -h 127.0.0.1 srem asynq:queues "$q" >/dev/null
  done
}
go build -o bin/cvodev ./app/cvodev
./bin/cvodev demo >"$LOG" 2>&1 &
APP_PID=$!
cleanup() {
  kill "$APP_PID" 2>/dev/null || true
  wait "$APP_PID" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  remove_namespace 2>/dev/null || true
  rm -f "$LOG"
}
trap cleanup EXIT

# Wait only until the app and the simulator answer: the browser then opens
# the page at once, as a merchant does, and its first call installs the
# shop (run.mjs checks that the figures appear by themselves).
up=""
for i in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$APP_PORT/healthz" >/dev/null 2>&1 &&
    curl -sf "http://127.0.0.1:$SIM_PORT/simulator/session-token?shop=cvo-demo.myshopify.com" >/dev/null 2>&1; then
    up=1; break
  fi
  if ! kill -0 "$APP_PID" 2>/dev/null; then
    echo "e2e: the app exited" >&2; cat "$LOG" >&2; exit 1
  fi
  sleep 1
done
if [ -z "$up" ]; then
  echo "e2e: the demo did not start in time" >&2
  tail -50 "$LOG" >&2
  exit 1
fi
# The demo says which shop it loaded and why, in its log.
grep -m1 '"demo shop seeded"' "$LOG" || true

cd frontend
E2E_APP_URL="http://localhost:$APP_PORT" E2E_SIMULATOR_URL="http://127.0.0.1:$SIM_PORT" E2E_REQUIRE_DATA=1 E2E_FIRST_OPEN=1 \
  E2E_CHROMIUM="$CHROMIUM" node e2e/run.mjs
