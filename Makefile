# The two commands: `make run` (build layers, web maps, figures, compliance report)
# and `make test`. Each creates the virtual environment it needs on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test layers bench mutate clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "jixi_geo needs Python 3.11 or newer, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,notebooks,scale]"
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/jixi-geo run --out maps

test: $(STAMP)
	$(BIN)/python -m pytest

layers: $(STAMP)
	$(BIN)/jixi-geo build-layers

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_check_sites.py
	$(BIN)/python benchmarks/bench_controls.py

# Mutation testing of redline, the kernels, sites and report ([tool.mutmut] in pyproject.toml).
# Slow (about 5 500 mutants; hours on 2 cores), so not part of `make test` or CI. Narrow it with
# e.g. `make mutate MUTANTS='jixi_geo.report*'`; survivors are listed at the end.
MUTANTS ?=
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet "mutmut>=3.8,<4"
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) build dist .pytest_cache mutants
