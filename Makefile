# ribot: `make run` sets up everything on a fresh machine and starts the local web chat;
# `make test` sets up everything the tests need (Debian's chromium, the Teams Agents Playground) and runs them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLAYGROUND := tests/teams/playground
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup setup-test run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# CPU torch first: anything else lets pip pull a multi-GB CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

setup: $(VENV)/.installed

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(PLAYGROUND)/node_modules/.package-lock.json: $(PLAYGROUND)/package-lock.json
	cd $(PLAYGROUND) && npm ci --no-audit --no-fund

setup-test: setup /usr/bin/chromium $(PLAYGROUND)/node_modules/.package-lock.json

run: setup
	$(BIN)/ribot serve

test: setup-test
	$(BIN)/ruff check bot knowledge connectors tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check bot knowledge connectors tests bench
	$(BIN)/ruff format --check bot knowledge connectors
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/answers.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .ribot test-artifacts $(PLAYGROUND)/node_modules
