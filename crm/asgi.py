import os
import sys

from django.core.asgi import get_asgi_application

from crm.settings.env import SettingsError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.production")
try:
    application = get_asgi_application()
except SettingsError as exc:
    sys.exit(f"Configuration error: {exc}")
