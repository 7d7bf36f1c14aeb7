#!/usr/bin/env bash
# The services leg (`make test-services`): the same pytest suite on PostgreSQL and Redis,
# with a real Celery worker and an in-process aiosmtpd SMTP sink (panel/tests/plugin.py).
# Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

PG_HOST=${PANEL_CI_PG_HOST:-127.0.0.1}
PG_PORT=${PANEL_CI_PG_PORT:-5432}
REDIS_HOST=${PANEL_CI_REDIS_HOST:-127.0.0.1}
REDIS_PORT=${PANEL_CI_REDIS_PORT:-6379}
REDIS_DB=${PANEL_CI_REDIS_DB:-15}
# Parallel runs on one machine (several work trees) each need their own database name.
PG_DB=${PANEL_CI_PG_DB:-panel_ci}

if ! pg_isready -h "$PG_HOST" -p "$PG_PORT" -q; then
  echo "services leg: PostgreSQL is not answering on $PG_HOST:$PG_PORT" >&2
  exit 2
fi
if ! redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  echo "services leg: Redis is not answering on $REDIS_HOST:$REDIS_PORT" >&2
  exit 2
fi
# A clean Redis database: no queue, cache key or lock left by an earlier run.
redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -n "$REDIS_DB" flushdb >/dev/null

# A free TCP port for the SMTP sink (the OS picks it; the sink binds it right after).
SMTP_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The base database need not exist: pytest-django creates (and drops) test_$PG_DB.
export DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$PG_DB"
export REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB"
export EMAIL_URL="smtp://127.0.0.1:$SMTP_PORT"
export CELERY_TASK_ALWAYS_EAGER=false
export PANEL_SERVICES=1
export PANEL_DOTENV=0

echo "services leg: $DATABASE_URL, $REDIS_URL, $EMAIL_URL"
$PY manage.py collectstatic --noinput -v0 --settings=panel.settings.test
exec $PY -m pytest --create-db "$@"
