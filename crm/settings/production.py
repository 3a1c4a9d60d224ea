"""Production: every secret comes from the environment, with no default."""

from .base import *  # noqa: F403
from .env import SettingsError, env_bool, env_database, env_list, env_str

SECRET_KEY = env_str("SECRET_KEY", required=True)
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise SettingsError(
        "The environment variable SECRET_KEY must be a random value of at least 50 characters."
    )
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", required=True)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"https://{h}" for h in ALLOWED_HOSTS])
DATABASES = {"default": env_database("DATABASE_URL", None, required=True)}
# Throttle counts kept per worker process would multiply the limit by the worker count.
CACHE_URL = env_str("CACHE_URL", required=True)
if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise SettingsError(
        "The environment variable CACHE_URL must be a Redis URL (redis://host:6379/1)."
    )
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# Mail (invitations, password resets, community notifications) over SMTP.
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Links in sign-up confirmations and password-reset mails (django-allauth).
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
