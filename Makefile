# Two commands for a newcomer: `make demo` and `make test`. Everything else is behind them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the product or its tests run (installed only when missing).
APT_PACKAGES := gdal-bin
SAMPLE := sample
TILES := tiles
PARCELS ?= 20000

.PHONY: install demo test lint bench sample clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@missing=""; for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) || \
	  { echo "could not install$$missing (run as root?)"; exit 1; }; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

sample: install
	$(PY) -m publish sample --out $(SAMPLE) --parcels $(PARCELS)

# The sample is deterministic: rebuilding it leaves the layers' fingerprints unchanged, so the
# build reuses every layer and only publishes a new release.
demo: sample
	$(PY) build_tiles.py --catalog $(SAMPLE)/layers.yml --out $(TILES)
	$(PY) -m publish serve --tiles $(TILES) --host 127.0.0.1 --port 8000

LINTED := publish tests docs $(wildcard bench build_tiles.py)

lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy publish

test: lint
	$(PY) -m pytest -q

bench: install
	$(PY) bench/sample.py
	$(PY) bench/build.py

clean:
	rm -rf $(VENV) $(SAMPLE) $(TILES)/releases $(TILES)/current $(TILES)/cache \
	  $(TILES)/reports $(TILES)/.staging $(TILES)/.build.lock
