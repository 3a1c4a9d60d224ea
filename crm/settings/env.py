"""Reading settings from the environment, failing with one clear sentence."""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


class SettingsError(ImproperlyConfigured):
    """A missing or malformed environment value; manage.py and wsgi print just the sentence."""


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if required or default is None:
        raise SettingsError(f"The environment variable {name} must be set.")
    return default


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"The environment variable {name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise SettingsError(
            f"The environment variable {name} must be a whole number of at least {minimum}, "
            f"not {raw!r}."
        )
    return value


def env_list(name: str, default: list[str] | None = None, *, required: bool = False) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        if required or default is None:
            raise SettingsError(f"The environment variable {name} must be set (comma-separated).")
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_database(
    name: str, default: str | None, *, required: bool = False
) -> dj_database_url.DBConfig:
    raw = os.environ.get(name, "").strip() or (None if required else default)
    if not raw:
        raise SettingsError(f"The environment variable {name} must be set.")
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj_database_url raises several types for a malformed URL
        raise SettingsError(
            f"The environment variable {name} is not a valid database URL ({exc})."
        ) from exc
    if not config.get("ENGINE"):
        raise SettingsError(
            f"The environment variable {name} names an unsupported database scheme."
        )
    return config
