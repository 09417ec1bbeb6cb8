# The two-command quickstart: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := demo-out

BQVENV := .venv-bq
BQSTAMP := $(BQVENV)/.installed-stamp

.PHONY: setup bq-emulator demo test fuzz golden lint format typecheck bench docs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## bq-emulator: the BigQuery emulator's own venv (its DuckDB pin differs), started offline by the
## BigQuery tests (tests/bqemu.py); see scripts/setup-bq-emulator.sh.
$(BQSTAMP): scripts/setup-bq-emulator.sh
	PYTHON=$(PYTHON) sh scripts/setup-bq-emulator.sh $(BQVENV)

bq-emulator: $(BQSTAMP)

## demo: synthesize 24 h of staging logs and metrics, pull them through the local API emulator
## with the real Google clients (quota, pushdown, checkpoints), and run the main job on them.
demo: setup
	rm -f $(DEMO)/demo.duckdb $(DEMO)/demo.duckdb.wal
	$(eval END := $(shell date -u +%Y-%m-%dT%H:%M:00Z))
	$(BIN)/forensics demo --out $(DEMO)/demo-export.jsonl --end $(END)
	$(BIN)/forensics emulator demo --db $(DEMO)/demo.duckdb --end $(END)
	$(BIN)/forensics analyze --db $(DEMO)/demo.duckdb --hours 24 --until $(END) \
		--issues-file patterns/issues.demo.yaml --out $(DEMO)/report
	@echo ""
	@echo "Demo output in $(DEMO)/:"
	@echo "  store:   demo.duckdb (collected through the emulator on 127.0.0.1)"
	@echo "  reports: report/report.md, report/report.html, report/report.json"
	@echo "  export:  demo-export.jsonl (the same day as a log-sink export: try"
	@echo "           .venv/bin/forensics classify $(DEMO)/demo-export.jsonl --format table)"

## test: lint, type-check and run the whole test suite (installs headless Chromium if missing).
test: setup lint typecheck bq-emulator
	sh scripts/install-browser.sh
	$(BIN)/python -m pytest -q

## fuzz: run the property tests with fresh random examples, FUZZ_ROUNDS times (default 5).
FUZZ_ROUNDS ?= 5
fuzz: setup
	for i in $$(seq $(FUZZ_ROUNDS)); do \
	  FORENSICS_HYPOTHESIS=explore $(BIN)/python -m pytest -q -x $$(grep -l "from hypothesis" tests/test_*.py) || exit 1; \
	done

## golden: rewrite the golden report files on purpose; review the diff before committing.
golden: setup
	FORENSICS_REGEN_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_report_golden.py

lint: setup
	$(BIN)/ruff check forensics tests benchmarks
	$(BIN)/ruff format --check forensics tests benchmarks

format: setup
	$(BIN)/ruff check --fix forensics tests benchmarks
	$(BIN)/ruff format forensics tests benchmarks

typecheck: setup
	$(BIN)/mypy forensics

## bench: the speed, memory and accuracy figures (ratios to DuckDB's own rate in the same run).
bench: setup
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_classify.py
	$(BIN)/python benchmarks/accuracy.py

clean:
	rm -rf $(VENV) $(BQVENV) $(DEMO) .pytest_cache .ruff_cache .mypy_cache

## docs: regenerate the README's command reference from the CLI itself.
docs: setup
	$(BIN)/python -m forensics.cli.reference --write README.md
