"""The production settings, for one run of the whole suite in CI (`make test-production`):
the tests meet what production runs with (DEBUG off, the Redis cache, whitenoise's manifest
of collected static files, secure cookies, HSTS, SMTP mail settings), so a page that only
works with the test settings fails here.

The environment supplies what production's does (SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL,
CACHE_URL), with SECURE_SSL_REDIRECT=false because the test client speaks plain http; the
test database is made by pytest-django as usual. Only what a test run cannot do without
is taken from crm.settings.test, by name, so the two never drift apart."""

from .production import *  # noqa: F403
from .test import (  # noqa: F401 (settings read by name)
    ACCOUNT_RATE_LIMITS,
    AXES_ENABLED,
    CELERY_TASK_ALWAYS_EAGER,
    CRM_TOKEN_RATE,
    FREEZE_GC_AFTER_FIRST_REQUEST,
    PASSWORD_HASHERS,
    SUPPORT_ATTACHMENTS_ROOT,
)
