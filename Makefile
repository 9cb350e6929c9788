# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BPP_PORT ?= 8000
export BPP_PORT

LOCK := requirements/lock.txt
# `make lock` after changing a dependency in pyproject.toml or requirements/tools.in (keeps every other pin);
# `make upgrade` moves every pin to the newest release the ranges allow. Both for Python 3.11 and newer, any platform.
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml requirements/tools.in --extra dev --universal \
	--python-version 3.11 --generate-hashes --custom-compile-command 'make lock' --quiet --output-file $(LOCK)

.PHONY: run test check lint lint-js format-js typecheck unit browser bench install lock upgrade clean

# Every dependency, tool and build backend at the version and hash in the lock; then the project itself,
# editable, built with the locked setuptools (no download, nothing resolved anew).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --requirement $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

# Biome (lint and format for static/ and tests/js), pinned in package.json and package-lock.json: a
# development tool only, the page serves static/ as is. `npm ci` installs exactly the locked version.
NODE_STAMP := node_modules/.installed

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

lock: $(STAMP)
	$(UV_COMPILE)

upgrade: $(STAMP)
	$(UV_COMPILE) --upgrade

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
