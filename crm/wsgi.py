import os
import sys

from django.core.wsgi import get_wsgi_application

from crm.settings.env import SettingsError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.production")
try:
    application = get_wsgi_application()
except SettingsError as exc:
    sys.exit(f"Configuration error: {exc}")
