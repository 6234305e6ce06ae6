# celeryfix: `make demo` and `make test` work on a fresh machine; everything else builds on them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_TREES := src tests $(wildcard bench fuzz)
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint format bench bench-quick fuzz system clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/celeryfix apply --dry-run fixtures/demo-crm

# System packages the end-to-end tests need (redis-server); a no-op when they are there.
system:
	@bash .ci/install-system.sh

test: $(STAMP) system
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not e2e" -x

lint: $(STAMP)
	$(BIN)/ruff check $(PY_TREES)
	$(BIN)/ruff format --check $(PY_TREES)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix $(PY_TREES)
	$(BIN)/ruff format $(PY_TREES)

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-quick: $(STAMP)
	$(BIN)/python bench/run.py --quick

# The whole pipeline under a fuzzer (atheris where it installs, else hypothesis); see fuzz/README.md.
FUZZ_RUNS ?= 10000
fuzz: $(STAMP)
	$(BIN)/python fuzz/fuzz_pipeline.py --runs $(FUZZ_RUNS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build src/*.egg-info
