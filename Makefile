# newsmon — run `make help` for the list of targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)
export UV_COMPILE_BYTECODE := 1

.DEFAULT_GOAL := help
.PHONY: help install demo up down status test lint eval eval-dedup bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@echo "== installing into $(VENV) from requirements.lock"
	@if command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv >/dev/null 2>&1; then \
	  UV="$$(command -v uv || echo $(PYTHON) -m uv)"; \
	  [ -x $(BIN)/python ] || $$UV venv --quiet --python $(PYTHON) $(VENV); \
	  VIRTUAL_ENV=$(VENV) $$UV pip sync --quiet requirements.lock; \
	  VIRTUAL_ENV=$(VENV) $$UV pip install --quiet --no-deps -e .; \
	else \
	  echo "uv unavailable: falling back to pip"; \
	  [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV); \
	  $(BIN)/pip install --quiet -r requirements.lock; \
	  $(BIN)/pip install --quiet --no-deps -e .; \
	fi
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP) ## create .venv from the lock file

demo: $(STAMP) ## run news_ingest once, through Airflow, on the bundled sample site
	$(BIN)/python -m newsmon.operations.demo

up: $(STAMP) ## start Airflow natively (api-server, scheduler, dag-processor, triggerer); DEMO=1 polls the sample site
	$(BIN)/python -m newsmon.operations.services up $(if $(filter-out 0,$(DEMO)),--demo)

down: ## stop exactly the processes `make up` started
	@[ -x $(BIN)/python ] && $(BIN)/python -m newsmon.operations.services down || echo "nothing to stop (no .venv)"

status: ## the processes `make up` started and the API's health report
	@$(BIN)/python -m newsmon.operations.services status

test: $(STAMP) ## run the whole test suite (PostgreSQL: local server, else a throwaway cluster)
	$(BIN)/python -m pytest -q

lint: $(STAMP) ## ruff
	$(BIN)/ruff check src dags plugins tests benchmarks

eval: $(STAMP) ## quality: extraction F1 (../shared, skipped without it), dedup P/R, tagging P/R/F1, topics on real feed items per language (../shared), events P/R
	$(BIN)/python -m benchmarks.eval_extraction
	$(BIN)/python -m benchmarks.eval_dedup
	$(BIN)/python -m benchmarks.eval_tagging
	$(BIN)/python -m benchmarks.eval_entities_real
	$(BIN)/python -m benchmarks.eval_topics_real
	$(BIN)/python -m benchmarks.eval_events

eval-dedup: $(STAMP) ## dedup precision/recall on eval/dedup, with the misclassified pairs
	$(BIN)/python -m benchmarks.eval_dedup --errors

bench: $(STAMP) ## benchmarks: whole-process import vs trafilatura and processing (need ../shared), dedup at 10k/1M, polling, tagging, search, export, pipeline end to end, partitioning, events at 10k/1M
	$(BIN)/python -m benchmarks.bench_import
	$(BIN)/python -m benchmarks.bench_processing
	$(BIN)/python -m benchmarks.bench_dedup
	$(BIN)/python -m benchmarks.bench_polling
	$(BIN)/python -m benchmarks.bench_tagging
	$(BIN)/python -m benchmarks.bench_search
	$(BIN)/python -m benchmarks.bench_export
	$(BIN)/python -m benchmarks.bench_pipeline
	$(BIN)/python -m benchmarks.bench_partitioning
	$(BIN)/python -m benchmarks.bench_events

clean: ## remove the venv and local state (.local: demo database cluster, Airflow home)
	-$(BIN)/python -c "from newsmon.operations.localdb import stop_local_cluster; stop_local_cluster(remove=True)" 2>/dev/null
	rm -rf $(VENV) .local .pytest_cache .ruff_cache
