# Two entry points for a fresh machine: `make demo` (main job) and `make test` (whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The web map's assets: MapLibre GL JS from npm, pinned by package-lock.json (served, never a CDN).
WEB       := src/arverne/service/web
WEB_STAMP := $(WEB)/node_modules/.installed
# Its browser tests drive Debian's Chromium.
CHROMIUM  := /usr/bin/chromium
AS_ROOT   := $(if $(filter 0,$(shell id -u)),,sudo)
APT_GET   := $(AS_ROOT) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	command -v npm >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq npm; }
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

$(CHROMIUM):
	$(APT_GET) update -qq
	$(APT_GET) install -y -qq chromium

# `make demo` builds the demo territory, then serves the API and the map on it at
# http://127.0.0.1:8000 until Ctrl-C; `make demo BATCH=1` only builds (for scripts).
demo: $(STAMP) $(WEB_STAMP)
	$(BIN)/arverne demo --out demo-out $(if $(BATCH),,--serve)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint $(WEB_STAMP) $(CHROMIUM)
	scripts/with-postgres.sh $(BIN)/pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) demo-out .pytest_cache .mypy_cache .ruff_cache $(WEB)/node_modules test-artifacts
