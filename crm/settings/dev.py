"""The zero-setup demo: SQLite under var/, eager tasks, DEBUG on unless told otherwise."""

from .base import *  # noqa: F403
from .env import env_bool, env_str

DEBUG = env_bool("DEBUG", True)
# The demo has no mail server: invitations and community notifications are printed to the
# console (EMAIL_BACKEND to send them for real).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
