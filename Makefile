# The README's two commands: `make run` (the chat on SQLite) and `make test` (the whole suite).
# Each creates .venv and installs what it needs the first time.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) app.py

test: $(VENV)/.dev
	bash scripts/install-test-tools.sh
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check comongus tests benchmarks app.py
	@# A merge conflict left in any text file fails the lint, with its place.
	@! grep -rnE '^(<<<<<<<|>>>>>>>)( |$$)' --exclude-dir=node_modules --exclude-dir=.venv \
		--exclude-dir=.git --exclude-dir=artifacts --exclude-dir=results .
