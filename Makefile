# Two commands for a fresh machine: `make run` and `make test`.
# Both install the package as users do: pip's resolver, the dependencies pyproject.toml declares.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# keeps its model in runs/demo (trained once; `lstmkit demo --out runs/demo --retrain` trains it anew)
run: $(VENV)/.installed
	$(BIN)/lstmkit demo --out runs/demo

# the suite includes tests/test_packaging.py (the wheel built, installed in a new venv and run) and
# browser tests of the served page, which drive Debian's Chromium (pip cannot install browsers):
# installed here when root, else named
test: $(VENV)/.installed
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && export DEBIAN_FRONTEND=noninteractive && \
	    { apt-get install -y -q --no-install-recommends chromium >/dev/null || \
	      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null; }; }; } || \
	  { echo "make: the browser tests need Chromium: sudo apt-get install chromium (Debian, Ubuntu)"; exit 1; }
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache test-artifacts
