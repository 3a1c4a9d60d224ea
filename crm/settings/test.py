"""Tests: PostgreSQL when DATABASE_URL is set, SQLite otherwise."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tests run tasks in process unless a test starts a real worker itself
# (tests/customers/test_celery.py does, against the configured broker).
CELERY_TASK_ALWAYS_EAGER = True
