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

NCMEC_PORT="${NCMEC_PORT:-8765}"

mkdir -p var
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

.venv/bin/celery -A artemis worker --loglevel INFO --concurrency 2 >var/worker.log 2>&1 &
WORKER=$!
# One beat per deployment: it only sends the periodic tasks; the worker runs them.
.venv/bin/celery -A artemis beat --loglevel INFO --schedule var/celerybeat-schedule \
  >var/beat.log 2>&1 &
BEAT=$!
trap 'kill $WORKER $BEAT $LOCAL_NCMEC 2>/dev/null; wait $WORKER $BEAT $LOCAL_NCMEC 2>/dev/null' EXIT INT TERM
echo "Celery worker (pid $WORKER, log: var/worker.log) and beat (pid $BEAT, log: var/beat.log) running"
[ -n "$LOCAL_NCMEC" ] && echo "Local CyberTipline (stand-in for NCMEC): $NCMEC_URL (log: var/cybertipline.log)"
# A new shell has neither DEBUG nor SECRET_KEY, and verifying needs the public key.
[ -n "$DEV_KEY" ] && echo "Referral packages are signed with a development key; check a downloaded one with:
  DEBUG=1 $PY manage.py verify_package FILE.zip --public-key var/package-signing-key.pub.pem"
$PY manage.py runserver "$HOST:$PORT"
