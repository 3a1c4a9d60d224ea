"""Check that every cached balance equals its ledger; exit non-zero on any drift."""

from django.core.management.base import BaseCommand, CommandError

from loyalty.selectors import ledger_drift


class Command(BaseCommand):
    help = "Report memberships whose balance or pending points differ from their ledger."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=50, help="How many drifting memberships to list."
        )

    def handle(self, *args, limit: int, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1.")
        drift = ledger_drift().order_by("pk")
        count = drift.count()
        if not count:
            self.stdout.write(self.style.SUCCESS("No drift: every balance equals its ledger."))
            return
        for m in drift[:limit]:
            self.stdout.write(
                f"membership {m.pk} ({m.customer} in {m.program}): balance {m.balance} but ledger "
                f"{m.ledger_balance} and open lots {m.lots}; pending {m.pending_points} but ledger "
                f"{m.ledger_pending}"
            )
        raise CommandError(f"{count} membership(s) drift from their ledger.")
