# Two commands for a fresh machine: `make run` (demo on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench

.PHONY: run install test lint bench bench-nightly bench-loyalty bench-community worker beat clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py demo_setup
	$(PY) manage.py collectstatic --noinput -v 0
	@echo ""
	@echo "  KeepCRM demo on http://127.0.0.1:8000"
	@echo "  admin:            admin / demo-admin-pass"
	@echo "  account manager:  alice / demo-manager-pass   (also bob, chris)"
	@echo "  customer portal:  customer / demo-customer-pass"
	@echo "  community:        maria, tom, li / demo-customer-pass  (forums, ideas, reviews at /community/)"
	@echo ""
	$(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run --settings=crm.settings.test
	$(PY) -m pytest

# ruff (lint and format check) and mypy with django-stubs; the mypy scope is [tool.mypy] in pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/customer_pages.py

worker: $(STAMP)
	$(VENV)/bin/celery -A crm worker -l info --concurrency 2

beat: $(STAMP)
	$(VENV)/bin/celery -A crm beat -l info

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache

bench-nightly: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/nightly_bench.py

bench-loyalty: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/loyalty_bench.py

bench-community: $(STAMP)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/community_bench.py
