# Kepai Station. `make run` serves the station with demo data; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
THREADS ?= 8
export FLASK_APP := wsgi

.PHONY: run serve test lint install translations bench soak

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	@$(BIN)/pybabel compile -d translations >/dev/null

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask node load-shipped
	@echo "Kepai Station: http://$(HOST):$(PORT)/  (demo-staff / kepai-demo-1)"
	$(BIN)/waitress-serve --host $(HOST) --port $(PORT) --threads $(THREADS) wsgi:app

serve: install
	$(BIN)/flask db upgrade
	$(BIN)/flask node load-shipped
	$(BIN)/waitress-serve --host $(HOST) --port $(PORT) --threads $(THREADS) wsgi:app

lint: install
	$(BIN)/ruff check .

test: install
	$(BIN)/pytest -q -n 4 --dist loadfile --no-loadscope-reorder

bench: install
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/sync.py

soak: install
	KEPAI_SOAK=200 $(BIN)/pytest -q tests/test_sync_property.py
	KEPAI_SOAK=25 $(BIN)/pytest -q -n 2 tests/test_no_server_errors.py
