"""`manage.py import_purchases FILE`: the upload page's import, run here and now."""

from customers.models import ImportKind

from .import_customers import ImportCommand


class Command(ImportCommand):
    help = (
        "Import purchases from a CSV file (columns in docs/import.md); "
        "they earn loyalty points like any other purchase."
    )
    kind = ImportKind.PURCHASES
