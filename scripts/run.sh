#!/usr/bin/env bash
# `make run`: migrate, make sure a scoring model is registered, seed the demo tenant, then run
# the web server, a Celery worker and celery beat (the sweep, retention, queue-count folding)
# until Ctrl-C.
# Embedded default: SQLite + a filesystem broker under ./var. DATABASE_URL / CELERY_BROKER_URL
# switch to PostgreSQL and Redis or RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-1}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
# The demo runs with DEBUG=1, whose error pages show a request's form data and the code's
# local variables (notes, narratives, message text): it serves this machine only.
case "$HOST" in
  127.* | localhost | ::1 | "[::1]") ;;
  *)
    if [ "$DEBUG" != 0 ]; then
      echo "run.sh: HOST=$HOST with DEBUG=$DEBUG refused: DEBUG's error pages show request data" \
        "and local variables, so the demo listens on 127.0.0.1 only. To serve other machines," \
        "deploy as README's Scaling section says (DEBUG=0, SECRET_KEY set)." >&2
      exit 2
    fi
    ;;
esac

NCMEC_PORT="${NCMEC_PORT:-8765}"
METRICS_PORT="${METRICS_PORT:-9108}"

mkdir -p var
# Every process started here counts into one folder; serve_metrics adds them up.
export PROMETHEUS_MULTIPROC_DIR="$PWD/var/metrics"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
DEV_KEY=""
$PY manage.py migrate --noinput
$PY manage.py train_model --if-missing
# The key that signs law-enforcement referral packages: a development key under var/ unless
# one is configured (production sets ARTEMIS_PACKAGE_SIGNING_KEY_FILE to a managed secret).
if [ -z "${ARTEMIS_PACKAGE_SIGNING_KEY:-}${ARTEMIS_PACKAGE_SIGNING_KEY_FILE:-}" ]; then
  $PY manage.py package_signing_key --if-missing
  export ARTEMIS_PACKAGE_SIGNING_KEY_FILE="$PWD/var/package-signing-key.pem"
  DEV_KEY=1
fi
# NCMEC: unless an endpoint is configured, reports go to the local CyberTipline, a real HTTP
# server with NCMEC's API that sends nothing anywhere.
LOCAL_NCMEC=""
if [ -z "${NCMEC_URL:-}" ]; then
  export NCMEC_URL="http://127.0.0.1:$NCMEC_PORT/ispws" NCMEC_USERNAME=artemis \
    NCMEC_PASSWORD=local-cybertipline
  export NCMEC_REPORTER_EMAIL="${NCMEC_REPORTER_EMAIL:-safety@demo.example}"
  $PY -m review.cases.ncmec.localserver --host 127.0.0.1 --port "$NCMEC_PORT" >var/cybertipline.log 2>&1 &
  LOCAL_NCMEC=$!
fi
$PY manage.py seed_demo --url "http://$HOST:$PORT"

# One worker for every queue here; README "Scaling" runs each queue on its own machines.
.venv/bin/celery -A artemis worker --queues scoring,outbound,training,maintenance \
  --loglevel INFO --concurrency 2 >var/worker.log 2>&1 &
WORKER=$!
# One beat per deployment: it only sends the periodic tasks; the worker runs them.
.venv/bin/celery -A artemis beat --loglevel INFO --schedule var/celerybeat-schedule \
  >var/beat.log 2>&1 &
BEAT=$!
$PY manage.py serve_metrics --port "$METRICS_PORT" >var/metrics.log 2>&1 &
METRICS=$!
trap 'kill $WORKER $BEAT $METRICS $LOCAL_NCMEC 2>/dev/null; wait $WORKER $BEAT $METRICS $LOCAL_NCMEC 2>/dev/null' EXIT INT TERM
echo "Celery worker (pid $WORKER, log: var/worker.log) and beat (pid $BEAT, log: var/beat.log) running"
echo "Metrics (Prometheus): http://127.0.0.1:$METRICS_PORT/metrics; probes: http://$HOST:$PORT/healthz and /readyz"
[ -n "$LOCAL_NCMEC" ] && echo "Local CyberTipline (stand-in for NCMEC): $NCMEC_URL (log: var/cybertipline.log)"
# A new shell has neither DEBUG nor SECRET_KEY, and verifying needs the public key.
[ -n "$DEV_KEY" ] && echo "Referral packages are signed with a development key; check a downloaded one with:
  DEBUG=1 $PY manage.py verify_package FILE.zip --public-key var/package-signing-key.pub.pem"
$PY manage.py runserver "$HOST:$PORT"
