# The README's two set-up commands: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint bench conformance clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,distributed]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/descend demo

lint: $(STAMP)
	$(BIN)/ruff check descend tests benchmarks examples

test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; [ $$rc -eq 5 ] && { echo "no tests collected"; exit 1; }; exit $$rc

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m slow

# `make bench BENCH_ARGS=--quick` for the sanity run (under a minute)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet "torch==2.13.0" || echo "torch not installable here: its rows will be skipped"
	$(BIN)/python -m pip install --quiet -e ".[bench-anchors]" || echo "jax/micrograd not installable here: their anchor rows will be skipped"
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# PyTorch as the oracle (issue 9): random programs run on both, outside `make test`
conformance: $(STAMP)
	$(BIN)/python -m pip install --quiet "torch==2.13.0" || { echo "torch==2.13.0 not installable here: conformance needs it"; exit 1; }
	$(BIN)/python -m pytest -q -p no:cacheprovider conformance

clean:
	rm -rf $(VENV) descend-demo build *.egg-info
