# One task runner for people and CI.  `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.DEFAULT_GOAL := help
.PHONY: help install demo test lint unit broker-start broker-stop schema clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/snapline: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/snapline ## create .venv and install snapline with its dev tools

demo: install ## run the whole pipeline locally on the live-paced simulator (Ctrl-C to stop)
	$(BIN)/snapline demo

# pytest-xdist processes for the tests; they share one broker (tests/conftest.py)
TEST_WORKERS ?= 2

test: install lint ## lint, then every test on TEST_WORKERS processes (starts the local Kafka broker if needed)
	$(BIN)/pytest -n $(TEST_WORKERS)

unit: install ## the tests that need no broker, on TEST_WORKERS processes
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not integration"

lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

broker-start: install ## start the local Kafka (KRaft) broker
	$(BIN)/snapline broker start

broker-stop: install ## stop it
	$(BIN)/snapline broker stop

schema: install ## regenerate the published JSON Schema and rpk script
	$(BIN)/snapline schema export
	$(BIN)/snapline topics rpk > redpanda/create-topics.sh

clean: ## remove the venv and local broker data
	rm -rf $(VENV) .snapline .mypy_cache .ruff_cache .pytest_cache
