# ribot: `make run` sets up everything on a fresh machine and starts the local web chat;
# `make test` sets up everything the tests need (Debian's chromium, the Teams Agents Playground, the
# deployment validators) and runs them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLAYGROUND := tests/teams/playground
TEAMS_SCHEMA := tests/deploy/teams_schema
PIP_FLAGS ?= --quiet
# torch comes from PyTorch's CPU wheel index: on Linux the ordinary index has only the CUDA build (over 3 GB
# with its nvidia packages). Point it at a mirror with `make setup TORCH_INDEX=https://mirror.example/whl/cpu`.
# pip's own configuration still applies, so a CPU wheel that this machine's pip finds on disk is used too.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_VERSION := $(shell sed -n 's/^torch==//p' constraints.txt)
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE ?= ghcr.io/karolinska/ribot
export HF_HUB_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup setup-test run test lint bench image image-push clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) --upgrade pip

# torch alone first, without its dependencies (they come pinned from the ordinary index next): only this one
# package is looked up on the CPU index. constraints.txt pins the +cpu build, which no other index has, so a
# CUDA build can never slip in.
$(VENV)/.torch: $(BIN)/python constraints.txt
	$(BIN)/pip install $(PIP_FLAGS) --no-deps --index-url $(TORCH_INDEX) "torch==$(TORCH_VERSION)"
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml constraints.txt
	$(BIN)/pip install $(PIP_FLAGS) -c constraints.txt -e ".[test]"
	touch $@

setup: $(VENV)/.installed

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(PLAYGROUND)/node_modules/.package-lock.json: $(PLAYGROUND)/package-lock.json
	cd $(PLAYGROUND) && npm ci --no-audit --no-fund

$(TEAMS_SCHEMA)/node_modules/.package-lock.json: $(TEAMS_SCHEMA)/package-lock.json
	cd $(TEAMS_SCHEMA) && npm ci --no-audit --no-fund

# The Python validators (kubernetes-validate, check-jsonschema, hadolint) come with the test extra.
setup-test: setup /usr/bin/chromium $(PLAYGROUND)/node_modules/.package-lock.json \
	$(TEAMS_SCHEMA)/node_modules/.package-lock.json

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

# The server image, tagged with the project's version (the tag deploy/k8s and deploy/compose.yaml pin).
image:
	docker build -f deploy/Dockerfile --build-arg TORCH_INDEX=$(TORCH_INDEX) -t $(IMAGE):$(VERSION) .

image-push: image
	docker push $(IMAGE):$(VERSION)

clean:
	rm -rf $(VENV) .ribot test-artifacts $(PLAYGROUND)/node_modules $(TEAMS_SCHEMA)/node_modules
