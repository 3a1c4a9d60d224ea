"""Production settings fail at start with one clear sentence and pass check --deploy."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "SECRET_KEY": "k" * 20 + "x9!Qz" * 10,
    "ALLOWED_HOSTS": "crm.example.com",
    "DATABASE_URL": "postgres://crm:secret@db.internal:5432/crm",
    "CACHE_URL": "redis://redis.internal:6379/1",
}


# Only what a process needs to start: the settings must come from GOOD and each test's
# overrides, never from the run's own environment (make test-production sets
# SECURE_SSL_REDIRECT=false, CI sets CELERY_BROKER_URL, a developer may set anything).
PROCESS_ENV = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}


def run_manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if k in PROCESS_ENV}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "crm.settings.production"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=GOOD)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "The environment variable SECRET_KEY must be set."),
        ("ALLOWED_HOSTS", "The environment variable ALLOWED_HOSTS must be set"),
        ("DATABASE_URL", "The environment variable DATABASE_URL must be set."),
        ("CACHE_URL", "The environment variable CACHE_URL must be set."),
    ],
)
def test_missing_setting_fails_with_one_sentence(missing, message):
    env = {k: v for k, v in GOOD.items() if k != missing}
    result = run_manage("check", env_overrides=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Configuration error: ")
    assert message in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DATABASE_URL", "not-a-url", "DATABASE_URL"),
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("SECRET_KEY", "short", "SECRET_KEY must be a random value of at least 50 characters"),
        ("CACHE_URL", "memcached://cache:11211", "CACHE_URL must be a Redis URL"),
        ("CRM_TRUSTED_PROXIES", "one", "CRM_TRUSTED_PROXIES must be a whole number"),
    ],
)
def test_malformed_setting_fails_with_one_sentence(name, value, message):
    result = run_manage("check", env_overrides={**GOOD, name: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_production_keeps_throttle_counts_in_the_shared_redis_cache():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        env_overrides=GOOD,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.core.cache.backends.redis.RedisCache"
