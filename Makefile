# Two commands for a fresh machine: `make run` (demo on SQLite) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm_bench

.PHONY: run install test test-production lint bench bench-nightly bench-loyalty bench-community worker beat clean

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

# The whole suite once more under the production settings (crm/settings/production_test.py):
# static files collected into whitenoise's manifest, the Redis cache, secure cookies. CI runs
# it after `make test`; it needs PostgreSQL (DATABASE_URL) and Redis (PRODUCTION_TEST_CACHE_URL),
# which is emptied first (it keeps the last run's throttle counts).
PRODUCTION_TEST_CACHE_URL ?= redis://127.0.0.1:6379/14
PRODUCTION_TEST_ENV = DJANGO_SETTINGS_MODULE=crm.settings.production_test \
	SECRET_KEY=ci-only-production-test-key-never-used-in-production-0123456789 \
	ALLOWED_HOSTS=testserver,localhost,127.0.0.1 \
	DATABASE_URL=$(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/postgres) \
	CACHE_URL=$(PRODUCTION_TEST_CACHE_URL) \
	SECURE_SSL_REDIRECT=false

test-production: $(STAMP)
	$(PRODUCTION_TEST_ENV) $(PY) manage.py collectstatic --noinput -v 0
	$(PRODUCTION_TEST_ENV) $(PY) manage.py shell -c "from django.core.cache import cache; cache.clear()"
	$(PRODUCTION_TEST_ENV) $(PY) -m pytest --ds=crm.settings.production_test

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
