# The two commands: `make demo` and `make test`. Both set themselves up on a fresh machine.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_OUT ?= bayeslaw-demo

.PHONY: demo test test-fast lint bench clean

$(PYTHON):
	@command -v python3.12 >/dev/null 2>&1 || { echo "make: python3.12 not found (pyenv install 3.12, or put it on PATH)" >&2; exit 2; }
	python3.12 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PYTHON)
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/bayeslaw demo --out $(DEMO_OUT)

lint: $(STAMP)
	$(VENV)/bin/ruff check bayeslaw tests benchmarks
	$(VENV)/bin/ruff format --check bayeslaw tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	$(PYTHON) -m pytest

test-fast: lint
	$(PYTHON) -m pytest -m "not slow"

bench: $(STAMP)
	$(PYTHON) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
