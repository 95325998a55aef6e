#!/usr/bin/env bash
# `make run`: migrate, make sure a scoring model is registered, seed the demo tenant, then run
# the web server, a Celery worker and celery beat (the sweep and retention) until Ctrl-C.
# Embedded default: SQLite + a filesystem broker under ./var. DATABASE_URL / CELERY_BROKER_URL
# switch to PostgreSQL and Redis or RabbitMQ.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-1}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

$PY manage.py migrate --noinput
$PY manage.py train_model --if-missing
$PY manage.py seed_demo --url "http://$HOST:$PORT"

mkdir -p var
.venv/bin/celery -A artemis worker --loglevel INFO --concurrency 2 >var/worker.log 2>&1 &
WORKER=$!
# One beat per deployment: it only sends the periodic tasks; the worker runs them.
.venv/bin/celery -A artemis beat --loglevel INFO --schedule var/celerybeat-schedule \
  >var/beat.log 2>&1 &
BEAT=$!
trap 'kill $WORKER $BEAT 2>/dev/null; wait $WORKER $BEAT 2>/dev/null' EXIT INT TERM
echo "Celery worker (pid $WORKER, log: var/worker.log) and beat (pid $BEAT, log: var/beat.log) running"
$PY manage.py runserver "$HOST:$PORT"
