# Two commands for a newcomer: `make demo` and `make test`. Everything else is behind them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages the product or its tests run (installed only when missing): GDAL's clients,
# Chromium for the browser tests, PostgreSQL + PostGIS for pygeoapi's PostgreSQL provider test,
# Noto Sans and WenQuanYi Micro Hei for the label glyphs (and Chinese in Chromium),
# EGL/Mesa/libcurl for mapli (raster rendering on the CPU), nginx (and openssl for a test
# certificate) in front of two nodes in tests/deploy/test_nginx.py; OpenSSH (`release push` to
# user@host:/path targets; the server for tests/release/test_push_ssh.py);
# wrk and SpatiaLite (stock pygeoapi's SQLiteGPKG in bench/serve.py) for `make bench` only.
APT_PACKAGES := gdal-bin chromium postgresql postgresql-15-postgis-3 fonts-noto-core fonts-wqy-microhei \
  libegl1 libegl-mesa0 libgl1-mesa-dri libcurl4 nginx openssl openssh-client openssh-server
BENCH_APT_PACKAGES := wrk libsqlite3-mod-spatialite
# The viewer: maplibre-gl, pmtiles and esbuild from npm (web/package-lock.json), bundled into
# publish/viewer/static/ (gitignored), served by the server.
VIEWER := publish/viewer/static/index.html
NODE_MODULES := web/node_modules/.package-lock.json
SAMPLE := sample
TILES := tiles
PARCELS ?= 20000

.PHONY: install demo test lint bench bench-tools sample clean

install: $(STAMP) $(VIEWER)
	@$(PY) -m publish.fonts >/dev/null  # label glyphs from Noto Sans, once, into ~/.cache (servers copy them)

# apt-get install of the packages in $(1) that are missing
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) || \
	  { echo "could not install$$missing (run as root?)"; exit 1; }; fi
endef

$(STAMP): pyproject.toml Makefile
	$(call apt_install,$(APT_PACKAGES))
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

$(NODE_MODULES): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

$(VIEWER): $(NODE_MODULES) web/build.mjs $(wildcard web/src/*) $(wildcard web/src/*/*)
	cd web && npm run --silent build

sample: install
	$(PY) -m publish sample --out $(SAMPLE) --parcels $(PARCELS)

# The sample is deterministic: rebuilding it leaves the layers' fingerprints unchanged, so the
# build reuses every layer and only publishes a new release.
demo: sample
	$(PY) build_tiles.py --catalog $(SAMPLE)/layers.yml --out $(TILES)
	$(PY) -m publish serve --tiles $(TILES) --host 127.0.0.1 --port 8000

LINTED := publish tests support docs $(wildcard bench build_tiles.py)

lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy publish

test: lint
	$(PY) -m pytest -q

bench-tools:
	$(call apt_install,$(BENCH_APT_PACKAGES))

bench: install bench-tools
	$(PY) bench/sample.py
	$(PY) bench/build.py

clean:
	rm -rf $(VENV) web/node_modules publish/viewer/static publish/fonts/glyphs $(SAMPLE) $(TILES)/releases $(TILES)/current $(TILES)/cache \
	  $(TILES)/reports $(TILES)/.staging $(TILES)/.build.lock $(TILES)/.data
