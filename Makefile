# The two commands: `make demo` runs the default scenario, `make test` runs the test suite.
# Both create the project's own virtual environment (.venv) on first use.

PYTHON ?= python3
# another interpreter gets its own environment: make test PYTHON=python3.13 VENV=.venv-3.13
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := lifecycle-out

.PHONY: demo test bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,app]"
	@# compile the vectorised day kernel once now (numba caches it on disk), not in a user's first run
	$(BIN)/lifecycle run --customers 2500 --days 3 --engine vector --no-counterfactual --json > /dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lifecycle run --out $(OUT)/demo-$$(date +%Y%m%d-%H%M%S)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script; done

# System packages (Debian, as root): CJK fonts so stage names in any script render in plots;
# Chromium for the classroom app's browser tests (tests/lifecycle/app; they skip without /usr/bin/chromium).
system-deps:
	apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei chromium

clean:
	rm -rf $(VENV) build *.egg-info
