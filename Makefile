# panel: `make run` serves the panel, `make test` runs the suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install install-dev migrate chromium test test-services lint format bench bench-load bench-http bench-instructions compose-check clean fail2ban bench-audit

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements-dev.txt
	touch $(VENV)/.runtime $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

run: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py runserver $(HOST):$(PORT)

# Debian's chromium drives the browser tests (playwright cannot download its own here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver) >/dev/null; \
	  else echo "Install Debian's chromium (apt-get install chromium) to run the browser tests." >&2; exit 1; fi; \
	fi

# Debian's fail2ban-regex checks the shipped filter against a log the tests write.
fail2ban:
	@if [ ! -x /usr/bin/fail2ban-regex ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    (apt-get update -qq && apt-get install -y -qq --no-install-recommends fail2ban) >/dev/null; \
	  else echo "Install Debian's fail2ban (apt-get install fail2ban) to run the fail2ban test." >&2; exit 1; fi; \
	fi

# The SQLite leg: whatever DATABASE_URL/REDIS_URL/EMAIL_URL the shell or .env holds, the
# embedded default is what this leg tests.
TEST_ENV := env -u DATABASE_URL -u REDIS_URL -u EMAIL_URL -u PANEL_SERVICES \
	-u CELERY_TASK_ALWAYS_EAGER PANEL_DOTENV=0 DJANGO_SETTINGS_MODULE=panel.settings.test

# Two pytest-xdist workers (the machine's two cores): the leg in about a third of the
# serial time. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

test: install-dev chromium fail2ban
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(TEST_ENV) $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# The same suite on PostgreSQL + Redis, with a real Celery worker and an SMTP sink.
test-services: install-dev chromium fail2ban
	bash .ci/services.sh $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Validates the file's structure; the two required secrets get throwaway values here.
compose-check: install-dev
	SECRET_KEY=compose-check ENCRYPTION_KEYS=compose-check \
	  $(VENV)/bin/docker-compose -f docker-compose.yml config -q

# Sign-in costs and signed-in pages against a bare-Django control, in one process (bench/README.md).
bench: install-dev
	$(PY) bench/run.py
	$(PY) bench/audit.py

# The audit log, its CSV export and the 30-day dashboard at 1,000,000 events: needs
# DATABASE_URL on PostgreSQL (a throwaway database is created and dropped); bench/audit.py.
bench-audit: install-dev
	$(PY) bench/audit.py

# gunicorn on a free 127.0.0.1 port: 50 users with 2FA, with and without attackers (~3 min; bench/README.md).
bench-load: install-dev
	$(PY) bench/load.py

# The signed-in pages over HTTP (wrk) against a bare-Django control, on PostgreSQL
# (DATABASE_URL): server CPU per request and p99 ratios (~1 min; docs/performance.md).
bench-http: install-dev
	@command -v wrk >/dev/null || { [ "$$(id -u)" = "0" ] && apt-get install -y -qq wrk >/dev/null; }
	$(PY) bench/http_bench.py

# The signed-in pages' instructions per view (valgrind's cachegrind), against the control,
# on PostgreSQL (DATABASE_URL): a count that does not move with the machine (~1.5 min).
bench-instructions: install-dev
	@command -v valgrind >/dev/null || { [ "$$(id -u)" = "0" ] && apt-get install -y -qq valgrind >/dev/null; }
	$(PY) bench/instructions.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
