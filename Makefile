# Two commands matter: `make run` and `make test`. Both build .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE ?= sample_exports/clean.zip

.PHONY: run test tools lint typecheck pytest bench schemas samples screenshot clean

# setup.py and the C source too: an edit to the fast path must rebuild the extension.
$(STAMP): pyproject.toml setup.py archivekit/check/fast/_scan.c archivekit/check/fast/_report.c \
		archivekit/write/_redact.c \
		archivekit/check/fast/_jsonline.h archivekit/check/fast/_identity.h \
		archivekit/read/_zipindex.c archivekit/read/_memberindex.h \
		archivekit/read/_imagehead.c
	@scripts/test-tools.sh --build
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/archivekit inspect $(SAMPLE)
	$(BIN)/archivekit validate $(SAMPLE)

test: $(STAMP) tools lint typecheck pytest

# System tools some tests need (chromium, 7z), installed when missing (as root, with apt).
tools:
	@scripts/test-tools.sh

lint: $(STAMP)
	$(BIN)/ruff check archivekit tests bench sample_exports scripts
	$(BIN)/ruff format --check archivekit tests bench sample_exports scripts

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python bench/run.py

schemas: $(STAMP)
	$(BIN)/archivekit schema export schemas
	$(BIN)/python scripts/decode_spec.py

samples: $(STAMP)
	$(BIN)/python sample_exports/generate.py

# docs/report-screenshot.png: the README's picture of `archivekit report` (needs chromium).
screenshot: $(STAMP) tools
	$(BIN)/python scripts/screenshot.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
