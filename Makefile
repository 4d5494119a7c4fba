# The two commands: `make run` serves the whole site, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test install migrate lint lock bench-pages bench-room bench-reminders bench-soak bench-embedded smoke-prod clean

$(STAMP): requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo
	PORT=$(PORT) exec bin/run-embedded

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Server-side latency of the community page and "My calls" on a seeded scratch database.
bench-pages: $(STAMP)
	$(BIN)/python -m benchmarks.pages

# Live rooms under load: two web processes on PostgreSQL and Redis, R rooms of 8 sockets, a baseline.
# Needs DATABASE_URL (PostgreSQL) and REDIS_URL. BENCH_ARGS="--rooms 20 --seconds 20" for a short run.
bench-room: $(STAMP)
	$(BIN)/python -m benchmarks.room $(BENCH_ARGS)

# 10,000 reminders due at once, sent by one real Celery worker (and beat) on Redis to a local SMTP sink.
# Needs DATABASE_URL (PostgreSQL) and REDIS_URL. BENCH_ARGS="--reminders 2000" for a short run.
bench-reminders: $(STAMP)
	$(BIN)/python -m benchmarks.reminders $(BENCH_ARGS)

# The soak: 200 rooms of 8 sockets for 20 minutes on two web processes, 10% of clients reconnecting
# every 30 to 120 s; RSS growth, unrecovered version gaps and Redis connections before and after.
# Needs DATABASE_URL (PostgreSQL) and REDIS_URL. BENCH_ARGS="--rooms 40 --minutes 4" for a short run.
bench-soak: $(STAMP)
	$(BIN)/python -m benchmarks.soak $(BENCH_ARGS)

# The embedded default left running: `make run` for 15 minutes with a reminder due every minute;
# no crash, /healthz always up, every reminder once. BENCH_ARGS="--minutes 3" for a short run.
bench-embedded: $(STAMP)
	$(BIN)/python -m benchmarks.embedded $(BENCH_ARGS)

# The production processes for real: two web processes, a worker and a beat from the Procfile, with
# production settings, on PostgreSQL (DATABASE_URL) and a Redis of its own; a scripted client signs
# people up, receives a reminder over SMTP, runs a round across both processes, kills one, restarts
# Redis, and checks /healthz and /metrics.
smoke-prod: $(STAMP)
	$(BIN)/python -m tests.smoke.prod

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

lock: $(STAMP)
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
