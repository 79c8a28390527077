# Each target creates .venv on first use (only Python >= 3.10 is needed on the machine).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint dist clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/rigcheck

# pytest exits 5 when it collects no test; that is not a failure of the code.
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q; rc=$$?; [ $$rc -eq 5 ] && exit 0; exit $$rc

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check rigcheck tests benchmarks

# The bundle is built in its own .venv-dist (packaging/build.sh), so it needs no development .venv.
# DIST_ARGS=--tarball also writes dist/rigcheck-VERSION-OS-ARCH.tar.gz.
dist:
	PYTHON=$(PYTHON) bash packaging/build.sh $(DIST_ARGS)

clean:
	rm -rf build dist *.egg-info
