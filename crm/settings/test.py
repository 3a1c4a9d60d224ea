"""Tests: PostgreSQL when DATABASE_URL is set, SQLite otherwise."""

import tempfile

from .base import *  # noqa: F403

DEBUG = False
FREEZE_GC_AFTER_FIRST_REQUEST = False  # tests/crm/test_settings.py turns it on for its own test
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests run tasks in process unless a test starts a real worker itself
# (tests/customers/test_celery.py does, against the configured broker).
CELERY_TASK_ALWAYS_EAGER = True

# Many tests log in through the token endpoint from one address; tests/crm/test_api_throttle.py
# checks the limit itself.
CRM_TOKEN_RATE = "10000/minute"  # noqa: S105 (a rate, not a password)

# django-axes counts failed logins in the database; most tests log in with
# client.login() (no request object, which axes needs). tests/crm/test_login_lockout.py
# turns it on for its own tests.
AXES_ENABLED = False

# allauth's own rate limits (sign-ups, mails, resets per address and minute) count in the
# shared cache across tests, which sign in and up from one address again and again.
ACCOUNT_RATE_LIMITS = False

# Support attachments written by tests land in a throwaway directory, not var/.
SUPPORT_ATTACHMENTS_ROOT = tempfile.mkdtemp(prefix="keepcrm-support-")
