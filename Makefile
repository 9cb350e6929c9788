# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BPP_PORT ?= 8000
export BPP_PORT

.PHONY: run test check lint lint-js format-js typecheck unit browser bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Biome (lint and format for static/ and tests/js), pinned in package.json and package-lock.json: a
# development tool only, the page serves static/ as is. `npm ci` installs exactly the locked version.
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

run: $(STAMP)
	$(BIN)/backprop-playground serve --host 127.0.0.1 --port $(BPP_PORT)

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

lint-js: $(NODE_STAMP)
	node_modules/.bin/biome ci --error-on-warnings

# Apply Biome's safe fixes and its formatting to the page's JavaScript and style sheets.
format-js: $(NODE_STAMP)
	node_modules/.bin/biome check --write

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint lint-js typecheck

test: check
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
