# The two entry points of the README: `make demo` and `make test`. Both create the virtual
# environment first (pinned stack, CPU torch) when it is missing or out of date.
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
export HF_HUB_OFFLINE ?= 1

.PHONY: setup demo test lint bench

setup: $(VENV)/.installed

$(VENV)/.installed: envs/requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r envs/requirements.txt -e .
	touch $@

demo: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo.yaml

test: setup
	$(BIN)/snakemake --lint
	$(BIN)/pytest -q

lint: setup
	$(BIN)/snakemake --lint

# tools/benchmark.py with its peer tool (TransformerLens) installed; ~15 min on 2 cores
bench: setup
	$(BIN)/pip install --quiet -r envs/bench.txt
	$(BIN)/python tools/benchmark.py --threads $(CORES)
