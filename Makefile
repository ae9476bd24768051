# The two entry points of the README: `make demo` and `make test`. Both create the virtual
# environment first (pinned stack, CPU torch) when it is missing or out of date.
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
export HF_HUB_OFFLINE ?= 1

.PHONY: setup demo test lint format bench

setup: $(VENV)/.installed

$(VENV)/.installed: envs/requirements.txt pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r envs/requirements.txt -e .
	touch $@

demo: setup
	$(BIN)/snakemake --cores $(CORES) --configfile config/demo.yaml

test: lint
	$(BIN)/pytest -q

# the checks `make test` runs first (ruff and snakefmt are configured in pyproject.toml)
lint: setup
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/snakefmt --check Snakefile rules/
	$(BIN)/snakemake --lint

# rewrites the code the way `make lint` wants it
format: setup
	$(BIN)/ruff check --fix
	$(BIN)/ruff format
	$(BIN)/snakefmt Snakefile rules/

# tools/benchmark.py with its peer tool (TransformerLens) installed; ~15 min on 2 cores
bench: setup
	$(BIN)/pip install --quiet -r envs/bench.txt
	$(BIN)/python tools/benchmark.py --threads $(CORES)
