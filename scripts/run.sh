#!/usr/bin/env bash
# `make run`: migrate, make sure a scoring model is registered, seed the demo tenant, then run
# the web server and a Celery worker (with the periodic sweep) until Ctrl-C.
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
.venv/bin/celery -A artemis worker --beat --loglevel INFO --concurrency 2 \
  --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
echo "Celery worker running (pid $WORKER, log: var/worker.log)"
$PY manage.py runserver "$HOST:$PORT"
