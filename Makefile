# sanitize: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SANITIZE_SECRET ?= demo-secret-not-for-production

.DEFAULT_GOAL := help
.PHONY: help install demo test check lint typecheck fixtures bench clean

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install sanitize with its dev tools

fixtures/shop.db: fixtures/build_demo.py | $(STAMP)
	$(BIN)/python fixtures/build_demo.py --out fixtures/shop.db

fixtures: fixtures/shop.db ## build the demo "production" database

demo: $(STAMP) fixtures/shop.db ## build the demo DB and sanitize it into ./snapshots
	$(BIN)/sanitize run --source sqlite:///fixtures/shop.db --rules rules --store snapshots

test: $(STAMP) ## run the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff
	$(BIN)/ruff check sanitizer tests scripts fixtures

typecheck: $(STAMP) ## mypy --strict on the package
	$(BIN)/mypy

check: lint typecheck test ## lint, types and tests

CUSTOMERS ?= 1000000
RUNS ?= 3
bench: $(STAMP) ## issue 7's benchmark: COPY round trip vs sanitize run (CUSTOMERS=, RUNS=; PostgreSQL at SANITIZE_TEST_PG_URL)
	$(BIN)/python scripts/bench.py --customers $(CUSTOMERS) --runs $(RUNS)

clean: ## remove the venv, generated fixtures and snapshots
	rm -rf $(VENV) snapshots fixtures/shop.db .pytest_cache .mypy_cache .ruff_cache
