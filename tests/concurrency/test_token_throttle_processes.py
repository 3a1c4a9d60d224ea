"""The token throttle counts across worker processes: four processes sharing the Redis
cache together let through exactly the rate, not the rate once per process."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import os
import django
django.setup()
from django.conf import settings
from django.test import RequestFactory
from crm.api_auth import ObtainAuthToken, TokenRateThrottle
settings.CRM_TOKEN_RATE = "10/minute"
request = ObtainAuthToken().initialize_request(
    RequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR=os.environ["PROBE_ADDRESS"])
)
allowed = sum(TokenRateThrottle().allow_request(request, None) for _ in range(8))
print(allowed)
"""


def redis_url() -> str:
    base = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(base, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI") == "true" or os.environ.get("CRM_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis at {base} is not reachable")
        pytest.skip(f"needs Redis ({base} is not reachable)")
    return base


def test_token_attempts_are_counted_once_across_worker_processes():
    url = redis_url()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.test",
        "CACHE_URL": url,
        # an address of its own, so another run's counts do not mix in
        "PROBE_ADDRESS": f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}",
    }
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    allowed = 0
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        allowed += int(out.strip().splitlines()[-1])
    assert allowed == 10  # 4 processes x 8 tries, 10 a minute in all
