import os
import sys

from django.core.wsgi import get_wsgi_application

from crm.settings.env import SettingsError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.production")
try:
    application = get_wsgi_application()
except SettingsError as exc:
    sys.exit(f"Configuration error: {exc}")

# The API refuses query parameters its schema does not document (crm.api): build that table
# while the worker starts, not on some caller's first request.
from crm.api import documented_query_parameters  # after the app is loaded

documented_query_parameters()
