# Two commands for a fresh machine: `make run` and `make test`.
# Both install the package as users do: pip's resolver, the dependencies pyproject.toml declares.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run serve test docs test-portability models bench-peers bench-quality bench-gpu bench-scaling python browser clean

# said before anything is made: the wheels pinned in pyproject.toml are for Python 3.11 and newer
python:
	@"$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "make: lstmkit needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo 'not found'): make PYTHON=/path/to/python3.11 ..."; exit 2; }

$(BIN)/python: | python
	$(PYTHON) -m venv $(VENV)

# steploops.c is compiled by the install: an edit to it installs again
# the trained models are a distribution of their own (models/, docs/MODELS.md), installed beside lstmkit
$(VENV)/.installed: $(BIN)/python pyproject.toml src/lstmkit/nn/steploops.c models/pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./models
	touch $@

# samples from the installed char model (models/), and says how to serve the installed models and train one's own
run: python $(VENV)/.installed
	$(BIN)/lstmkit demo

# the installed models behind the HTTP API and the web page (http://127.0.0.1:8000/)
serve: python $(VENV)/.installed
	$(BIN)/lstmkit serve

# The browser tests drive a Chromium (pip cannot install browsers): LSTMKIT_CHROMIUM names one, else
# Debian's chromium on the PATH, installed here when root. Checked before the long install.
browser:
	@if [ -n "$$LSTMKIT_CHROMIUM" ]; then \
	  [ -x "$$LSTMKIT_CHROMIUM" ] || { echo "make: LSTMKIT_CHROMIUM=$$LSTMKIT_CHROMIUM is not an executable file; expected the path of a Chromium or Chrome binary"; exit 2; }; \
	elif command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; }; } || \
	  { echo "make: the browser tests need Chromium and apt-get could not install it: install chromium, or LSTMKIT_CHROMIUM=/path/to/chromium make test"; exit 1; }; \
	else echo "make: the browser tests need Chromium: sudo apt-get install chromium (Debian, Ubuntu), or LSTMKIT_CHROMIUM=/path/to/chromium make test"; exit 1; fi

# the suite in TEST_WORKERS processes (pytest-xdist), one test file to a process, each on one torch thread
TEST_WORKERS ?= 2
test: python browser $(VENV)/.installed
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The documentation site (mkdocs.yml) into site/: offline, --strict (a broken link or reference fails it). The CLI
# reference, the settings tables and the tutorials are made as it builds (tools/docs_hooks.py); the tutorials run
# unless LSTMKIT_TUTORIALS_RENDERED names a folder of rendered ones. NO_MKDOCS_2_WARNING: the theme's banner.
docs: python $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir site

# the suite under settings that change the CPU kernels, the threads, the locale and the time zone
test-portability: python $(VENV)/.installed
	bash bench/portability.sh

# Keras 3, plain PyTorch and lstmkit on the lecture's models, interleaved (bench/peers/README.md); the peers get
# their own virtualenvs under bench/out/ (Keras and TensorFlow are never lstmkit's dependencies).
# PEERS_ARGS=--quick for a functional check; the table goes into docs/RESULTS.md.
PEERS_OUT := bench/out/peers
PEERS_ARGS ?=
$(PEERS_OUT)/venv-keras/.installed: | python
	$(PYTHON) -m venv $(PEERS_OUT)/venv-keras
	$(PEERS_OUT)/venv-keras/bin/python -m pip install --quiet tensorflow-cpu==2.21.0 keras==3.15.1
	touch $@

# torch 2.13.0 alone: any other version resolves to a multi-GB CUDA build
$(PEERS_OUT)/venv-torch/.installed: | python
	$(PYTHON) -m venv $(PEERS_OUT)/venv-torch
	$(PEERS_OUT)/venv-torch/bin/python -m pip install --quiet torch==2.13.0
	touch $@

bench-peers: python $(VENV)/.installed $(PEERS_OUT)/venv-keras/.installed $(PEERS_OUT)/venv-torch/.installed
	$(BIN)/python bench/peers/run.py --out $(PEERS_OUT) $(PEERS_ARGS)

# Time to quality against the lecture's own scripts (bench/time_to_quality.py): Keras running
# ../shared/bench/lecture-keras, lstmkit's lecture recipe and its fast one, one after another, each until it
# meets the target (IMDB validation accuracy 0.85, Nietzsche held-out 1.67 nats/char) or --cap-minutes (15).
# QUALITY_ARGS=--quick for a functional check; table, raw.json and plot in bench/out/quality/.
QUALITY_ARGS ?=
bench-quality: python $(VENV)/.installed $(PEERS_OUT)/venv-keras/.installed
	$(BIN)/python bench/time_to_quality.py --keras-python $(PEERS_OUT)/venv-keras/bin/python $(QUALITY_ARGS)

# The prepared GPU check (bench/gpu.sh): the layer benchmark, a minute of each task's training and bench/serve.py,
# all on cuda, each under a timeout; one table, also in bench/out/gpu/table.md. Without a CUDA device it says so
# and exits 0. The venv's torch is a CPU build: PY=/path/to/python (a CUDA build of torch) make bench-gpu.
# Retrains every shipped model from its card's command (hours; resumable: run it again to go on), checks
# its metric against the card's within the stated noise, and packs it into models/lstmkit_models.
# MODELS="imdb-lstm ..." for some of them.
MODELS ?=
models: python $(VENV)/.installed
	$(BIN)/python models/build.py all $(MODELS)

bench-gpu: python $(VENV)/.installed
	PY="$${PY:-$(BIN)/python}" bash bench/gpu.sh

# One LSTM layer, lstmkit beside torch.nn.LSTM, as T, B and H grow, against this CPU's matmul ceiling
# (bench/scaling.py): table, raw rows and plot in bench/out/scaling/. SCALING_ARGS=--quick for a functional check.
SCALING_ARGS ?=
bench-scaling: python $(VENV)/.installed
	$(BIN)/python bench/scaling.py $(SCALING_ARGS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache test-artifacts site
