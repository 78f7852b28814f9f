# `make run` and `make test` are the two commands in README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint unit-and-sqlite scale-out demo

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/inbox serve

demo: $(STAMP)
	$(BIN)/inbox demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The embedded default: SQLite, Dramatiq in-process.
unit-and-sqlite: $(STAMP)
	$(BIN)/pytest -q

# Scale-out: PostgreSQL, separate worker and scheduler processes on Redis (and the story on RabbitMQ).
scale-out: $(STAMP)
	INBOX_TEST_DATABASE=postgres INBOX_TEST_BROKER=redis $(BIN)/pytest -q tests/integration tests/e2e
	INBOX_TEST_DATABASE=postgres INBOX_TEST_BROKER=amqp $(BIN)/pytest -q tests/e2e/test_email_story.py

test: lint unit-and-sqlite scale-out
