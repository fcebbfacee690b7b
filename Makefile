# The two commands of the Quickstart: `make demo` and `make test`.
# Both create .venv on first use (idempotently) and install what they need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Root installs Debian packages directly; anyone else through sudo.
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: compiled demo test lint types pytest browser redis screenshots swarm bench bench-memory clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,live,load]'
	touch $(STAMP)

# Opt-in: the simulation's typed modules compiled with mypyc (setup.py; simulators/compiled.py
# lists them), rebuilt when one of them changes. The sources run where they are not built, or
# changed since; bench/RESULTS.md ("Speed levers") has what it buys and why it is not the default.
COMPILED_SOURCES := $(shell sed -n 's/^    "\(.*\.py\)",$$/\1/p' simulators/compiled.py)
COMPILED := build/compiled.sha256

$(COMPILED): $(STAMP) $(COMPILED_SOURCES) setup.py
	@if command -v cc >/dev/null 2>&1; then \
	  mkdir -p build; echo "Compiling the simulation's modules with mypyc (about a minute; SYNCLINE_PURE=1 skips them)..."; \
	  SYNCLINE_COMPILE=1 $(BIN)/python setup.py --quiet build_ext --inplace -j 2 >build/mypyc.log 2>&1 \
	    || { tail -20 build/mypyc.log; echo "mypyc build failed: the pure sources run (build/mypyc.log)"; }; \
	else echo "No C compiler: the simulation runs as pure Python."; fi

compiled: $(COMPILED)

demo: $(STAMP)
	$(BIN)/syncline demo

test: lint types pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# Three workers on two cores: the live tests mostly wait on scaled real time, and the others
# use the CPU meanwhile; the slowest files go first (tests/conftest.py), not by test count.
pytest: $(STAMP) browser redis
	$(BIN)/pytest -q -n 3 --dist loadfile --no-loadscope-reorder

# The browser test drives Debian's Chromium; install it when it is absent.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser test (apt-get)..."; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium \
	    >/dev/null; }

# Live mode's broker is Debian's redis-server (serve starts it); install it when it is absent.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  echo "Installing Debian's redis-server for the live broker tests (apt-get)..."; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server \
	    >/dev/null; }

# The pictures in docs/: the demo's report, the lineage of the quote parked on a tax code, the
# four shipped designs compared, the sweep of ERP's MTBF, and the studio's pages and lesson film.
screenshots: $(STAMP) browser
	$(BIN)/syncline demo >/dev/null
	$(BIN)/python -m reports.browser runs/latest/report.html docs/report.png --viewport-only --height 1400
	$(BIN)/python -m reports.browser runs/latest/report.html docs/report-story.png --viewport-only --height 1400 --anchor story
	$(BIN)/syncline trace runs/latest Q-000101 >/dev/null
	cp runs/latest/traces/Q-000101.png docs/trace.png
	$(BIN)/syncline compare subscription_amendment --seed 7 >/dev/null
	$(BIN)/python -m reports.browser runs/latest-compare/comparison.html docs/comparison.png --viewport-only --height 1400 --anchor side-by-side
	$(BIN)/syncline sweep subscription_amendment --seeds 40 --vary erp.outages.mtbf=1d,3d,7d >/dev/null
	$(BIN)/python -m reports.browser runs/latest-sweep/sweep.html docs/sweep.png --viewport-only --height 1400 --anchor charts
	$(BIN)/python -m tests.studio.capture docs

# Verdicts beyond the tests' seeds: every shipped scenario × swarm seeds 1-50, reference design.
swarm: $(STAMP)
	$(BIN)/syncline swarm shipped --seeds 50 --first-seed 1

# The performance budget (bench/RESULTS.md): engine vs bare SimPy and the 30-day run, sweep
# scaling, live throughput, the studio on a 30-day run; then, separately (about 45 minutes), a
# million workflows' memory.
bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_sweep.py
	$(BIN)/python bench/bench_live.py
	$(BIN)/python bench/bench_studio.py

bench-memory: $(STAMP)
	$(BIN)/python bench/bench_memory.py

clean:
	rm -rf $(VENV) runs build .pytest_cache .mypy_cache .ruff_cache
	find harness simulators -name "*.so" -delete
