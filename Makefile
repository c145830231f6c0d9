# Mail Setup Wizard: `make run` starts the program, `make test` runs every check.
# Both work on a fresh Debian machine: system packages come from apt-get (only the missing ones),
# Python packages go into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest system-deps bench fuzz clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/mailsetup

system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-deps
	$(BIN)/pytest

test: system-deps $(STAMP) lint typecheck pytest

# Benchmarks print figures (they are not timed tests): pytest runs the bench_* functions
# of tests/bench explicitly, which the normal test run never collects.
bench: $(STAMP) system-deps
	$(BIN)/pytest tests/bench/bench_*.py -o python_functions="bench_*" -q

fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,fuzz]"
	$(BIN)/python -m tests.fuzz.fuzz_parsers --seconds $${FUZZ_SECONDS:-300}

clean:
	rm -rf $(VENV) build dist *.egg-info tests/artifacts
