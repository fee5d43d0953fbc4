# The two commands: `make run` starts everything, `make test` installs what it needs and tests.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# One stamp per set of dependencies, so `make run` installs only what serving needs:
# run = the project and its runtime dependencies; dev adds the test tools; bench adds matplotlib.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint bench sql-docs error-docs clean

$(RUN_STAMP): pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 is required"; exit 1; }
	@test -x $(PY) || python3 -m venv $(VENV) || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && python3 -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

$(BENCH_STAMP): $(DEV_STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'
	@touch $@

## make run: embedded PostgreSQL (or $$DATABASE_URL), migrated, demo data, gateway on 127.0.0.1:8000
## (it prints the demo page's and the API docs' URLs: /demo and /docs)
run: $(RUN_STAMP)
	$(VENV)/bin/booking serve --prepare --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

## make test: PostgreSQL with pgTAP and Redis (found or installed), Debian's Chromium for the browser
## tests, nginx and HAProxy for the load-balancer test (installed when missing), then pytest (pgTAP
## files included)
test: $(DEV_STAMP)
	@set -euo pipefail; \
	scripts/ensure-chromium.sh; \
	scripts/ensure-load-balancers.sh; \
	export DATABASE_URL="$$(PYTHON=$(PY) scripts/ensure-postgres.sh)"; \
	export REDIS_URL="$$(PYTHON=$(PY) scripts/ensure-redis.sh)"; \
	echo "testing against $$DATABASE_URL and $$REDIS_URL"; \
	$(PY) -m pytest $(PYTEST_ARGS)

## make lint: ruff and mypy (strict)
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check gateway testkit tests bench
	$(VENV)/bin/ruff format --check gateway testkit tests bench
	$(VENV)/bin/mypy

## make bench: every benchmark; prints figures and writes docs/PERFORMANCE.md
bench: $(BENCH_STAMP)
	@set -euo pipefail; \
	export DATABASE_URL="$$(PYTHON=$(PY) scripts/ensure-postgres.sh)"; \
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## make error-docs: regenerate docs/ERRORS.md from the error registry (gateway/errors/registry.py)
error-docs: $(RUN_STAMP)
	$(PY) -m gateway.cli.errordoc

## make sql-docs: regenerate docs/SQL_API.md and gateway/http/sql_comments.json (the OpenAPI
## descriptions) from a freshly migrated throwaway database, and docs/ERRORS.md (error-docs)
sql-docs: $(DEV_STAMP) error-docs
	@set -euo pipefail; \
	export DATABASE_URL="$$(PYTHON=$(PY) scripts/ensure-postgres.sh)"; \
	$(PY) -c 'from tests.support.database import SessionDatabase; from gateway.cli import sqldoc; \
	db = SessionDatabase.create(); \
	sqldoc.write(db.url); db.drop()'
