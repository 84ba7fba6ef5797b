# One place that sets a fresh machine up. The README's two commands are `make verify` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ARGS    ?= --n-data 20

.PHONY: setup verify test test-slow bench campaign lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v phc >/dev/null 2>&1 || { \
	  echo "phc (PHCpack) missing: installing Debian's phcpack" >&2; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq phcpack >/dev/null \
	    || echo "warning: could not install phcpack; the phc backend will report itself unavailable" >&2; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

verify: setup
	$(BIN)/lstheory verify venturi $(ARGS)

test: setup
	$(BIN)/python -m pytest

test-slow: setup
	$(BIN)/python -m pytest -m slow

bench: setup
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

campaign: setup
	$(BIN)/lstheory campaign verify/venturi.toml

lint: setup
	$(BIN)/ruff check lstheory tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
