# Mail Setup Wizard: `make run` starts the program, `make test` runs every check.
# Both work on a fresh Debian machine: system packages come from apt-get (only the missing ones),
# Python packages go into .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest system-deps bench fuzz clean translations

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
	$(BIN)/ruff check app tests packaging scripts
	$(BIN)/ruff format --check app tests packaging scripts

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

# The window's Qt translations: .ts extracted from app/ui (pyside6-lupdate), translated by hand,
# and .qm built from them (pyside6-lrelease); both committed. tests/unit/test_translations.py
# fails when either is out of date or a message is unfinished.
translations: $(STAMP)
	$(BIN)/python scripts/translations.py update

clean:
	rm -rf $(VENV) build dist *.egg-info tests/artifacts

# The frozen bundle of this system (docs/packaging.md): PyInstaller, one folder, dist/mailsetup/
# (macOS: dist/Mail Setup Wizard.app). Not part of `make test`: it takes about a minute.
.PHONY: dist dist-test lint-release
dist: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,dist]"
	$(BIN)/python packaging/build.py

# The frozen bundle's self-test in a clean environment (env -i, an empty HOME) under Xvfb.
dist-test: system-deps
	test -x dist/mailsetup/mailsetup || $(MAKE) dist
	bash packaging/dist-test.sh dist/mailsetup

# The release workflow and the packaging scripts, checked without running them.
lint-release: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,lint-release]"
	$(BIN)/zizmor --offline .github/workflows/release.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/release.yml
	shellcheck packaging/dist-test.sh packaging/macos/build-dmg.sh
