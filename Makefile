# Revcycle: the two commands are `make run` and `make test`; every other target is a step of them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
VENDOR := src/revcycle/web/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint typecheck importlint pytest postgres chromium bench clean

run: setup
	$(BIN)/revcycle db upgrade
	$(BIN)/revcycle demo --if-empty
	$(BIN)/revcycle run --host $(HOST) --port $(PORT)

test: setup postgres chromium lint typecheck importlint pytest

setup: $(VENV)/.installed $(VENDOR)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Bootstrap, HTMX and Chart.js come from the npm registry at setup; nothing third-party is committed.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map $(VENDOR)/
	cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map $(VENDOR)/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/ 2>/dev/null || cp node_modules/chart.js/dist/chart.umd.js $(VENDOR)/chart.umd.min.js
	touch $@

# The local PostgreSQL server backs half of the integration tests; start it when it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; echo "PostgreSQL is not reachable on 127.0.0.1:5432"

# Debian's chromium drives the page tests (Playwright cannot download its own browser here).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

lint:
	$(BIN)/ruff check src tests bench

typecheck:
	$(BIN)/mypy

importlint:
	$(BIN)/lint-imports

pytest:
	$(BIN)/pytest -n 2 -q

# The benchmarks run in their own environment: the project plus the peers some of them measure
# against (bench/requirements-peers.txt), which are never runtime or test dependencies.
BENCH_VENV := .venv-bench

$(BENCH_VENV)/.installed: pyproject.toml bench/requirements-peers.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e . -r bench/requirements-peers.txt
	touch $@

bench: setup postgres $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/run_all.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) node_modules $(VENDOR) var/*.db .pytest_cache .mypy_cache .ruff_cache
