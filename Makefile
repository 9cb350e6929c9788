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

.PHONY: run test check lint typecheck unit browser bench install lock upgrade clean

# Every dependency, tool and build backend at the version and hash in the lock; then the project itself,
# editable, built with the locked setuptools (no download, nothing resolved anew).
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --requirement $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

install: $(STAMP)

lock: $(STAMP)
	$(UV_COMPILE)

upgrade: $(STAMP)
	$(UV_COMPILE) --upgrade

run: $(STAMP)
	$(BIN)/backprop-playground serve --host 127.0.0.1 --port $(BPP_PORT)

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck

test: check
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
