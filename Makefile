# `make run` and `make test` are the two commands in README.md; `make check` is the quick one
# to run while working (lint and the tests that need no server, in under two minutes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# pytest-xdist workers. Many tests wait on servers (Dovecot, inbox serve, Chromium), so more
# workers than cores keep the cores busy; each worker has its own databases and ports.
WORKERS ?= 4
PYTEST := $(BIN)/pytest -q -n $(WORKERS) --dist worksteal --durations=15

.PHONY: run test check lint quick sqlite scale-out demo bytecode

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

# Where PYTHONDONTWRITEBYTECODE is set (as on this project's CI machine), no Python process
# writes the modules it compiles: every `inbox` process the tests start (hundreds of them)
# would compile the project again, 0.7 s of CPU each. Compiled once here, they are read.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q inbox connectors workers migrations tests bench

# Unit tests and the in-process integration tests: no Dovecot, Chromium, PostgreSQL, Redis
# or `inbox serve` (the tests that need one are marked `services` by tests/conftest.py).
quick: bytecode
	$(PYTEST) -m "not services"

check: lint quick

# The embedded default: SQLite, Dramatiq in-process; every test.
sqlite: bytecode
	$(PYTEST)

# Scale-out: PostgreSQL, separate worker and scheduler processes on Redis, then the email
# story on RabbitMQ (one test: no workers to spread it over). Not beside the suite: a desk
# told to stop must stop within seconds, which a loaded machine does not promise.
scale-out: bytecode
	INBOX_TEST_DATABASE=postgres INBOX_TEST_BROKER=redis $(PYTEST) tests/integration tests/e2e
	INBOX_TEST_DATABASE=postgres INBOX_TEST_BROKER=amqp $(BIN)/pytest -q tests/e2e/test_email_story.py

# The suite is bound by CPU; ruff and mypy run beside the SQLite suite, in what it leaves.
test: $(STAMP)
	$(MAKE) --no-print-directory -j2 --output-sync=target lint sqlite
	$(MAKE) --no-print-directory scale-out
