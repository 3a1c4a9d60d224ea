from django.core.management.base import BaseCommand, CommandError

from crm.demo import demo_admin, demo_setup, has_book
from customers.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Complete the demo after seed_demo: segment strategies, a loyalty program with "
        "points for past purchases, and tonight's run. Safe to run again."
    )

    def handle(self, *args, **options):
        if not has_book():
            raise CommandError("The book is empty: run `manage.py seed_demo` first.")
        admin = demo_admin()
        if admin is None:
            raise CommandError("No active admin to act as: run `manage.py seed_demo` first.")
        try:
            demo_setup(actor=admin, log=self.stdout.write)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
