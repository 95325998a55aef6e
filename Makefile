# Two commands for a fresh machine: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	@bash scripts/run.sh

test: install
	@bash scripts/install_axe.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) bench/scoring.py
	$(PY) bench/ingest.py
	$(PY) bench/queue.py
	$(PY) bench/referral.py
	$(PY) bench/rescore.py
	$(PY) bench/pipeline.py

clean:
	rm -rf var/
