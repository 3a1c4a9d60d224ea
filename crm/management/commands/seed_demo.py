"""Seed a believable demo book (or the 1M-customer benchmark book): `manage.py seed_demo`."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from crm import demo
from customers.models import Customer


def _positive_int(flag: str, raw) -> int:
    try:
        value = int(str(raw).replace("_", ""))
    except ValueError:
        raise CommandError(f"{flag} must be a whole number, not {raw!r}.") from None
    if value <= 0:
        raise CommandError(f"{flag} must be at least 1, not {value}.")
    return value


def _non_negative_float(flag: str, raw) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise CommandError(f"{flag} must be a number, not {raw!r}.") from None
    if not 0 <= value <= 10_000:  # also rejects nan and inf
        raise CommandError(f"{flag} must be between 0 and 10000, not {raw!r}.")
    return value


class Command(BaseCommand):
    help = (
        "Fill the database with a believable demo book: segments, account managers, "
        "customers on every rung of the ladder, three years of purchases and interactions. "
        "Logins: admin / demo-admin-pass, alice, bob, chris / demo-manager-pass, "
        "customer / demo-customer-pass. On PostgreSQL, large runs lock the customer tables "
        "while indexes are rebuilt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--customers", default="2000", help="How many customers (2000).")
        parser.add_argument("--seed", default="42", help="Random seed; same seed, same book.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any customer exists."
        )
        parser.add_argument(
            "--purchases-per-customer", default="6", help="Average purchases per customer (6)."
        )
        parser.add_argument(
            "--interactions-per-customer",
            default="4",
            help="Average interactions per customer (4).",
        )
        parser.add_argument(
            "--batch-size", default="20000", help="Customers generated per batch (20000)."
        )
        parser.add_argument(
            "--bench-customer",
            action="store_true",
            help=f"Add '{demo.BENCH_CUSTOMER_NAME}' with exactly "
            f"{demo.BENCH_HISTORY} purchases and {demo.BENCH_HISTORY} interactions.",
        )

    def handle(self, *args, **options):
        customers = _positive_int("--customers", options["customers"])
        batch_size = _positive_int("--batch-size", options["batch_size"])
        try:
            seed = int(str(options["seed"]))
        except ValueError:
            raise CommandError(f"--seed must be a whole number, not {options['seed']!r}.") from None
        if seed < 0:
            raise CommandError(f"--seed must be 0 or more, not {seed}.")
        purchases = _non_negative_float(
            "--purchases-per-customer", options["purchases_per_customer"]
        )
        interactions = _non_negative_float(
            "--interactions-per-customer", options["interactions_per_customer"]
        )
        if options["if_empty"] and Customer.objects.exists():
            self.stdout.write("The database already has customers; nothing seeded (--if-empty).")
            return

        self.stdout.write(
            f"Seeding {customers:,} customers (~{customers * purchases:,.0f} purchases, "
            f"~{customers * interactions:,.0f} interactions), seed {seed}..."
        )
        verbose = options["verbosity"] >= 1
        with tqdm(
            total=customers, unit=" customers", disable=not verbose, file=self.stderr._out
        ) as bar:
            result = demo.seed(
                customers=customers,
                seed=seed,
                purchases_per_customer=purchases,
                interactions_per_customer=interactions,
                batch_size=batch_size,
                bench_customer=options["bench_customer"],
                progress=bar.update,
            )
        for line in demo.iter_timings(result):
            self.stdout.write(f"  {line}")
        total = sum(seconds for _, seconds in result.timings)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {customers:,} customers and {sum(result.rows.values()) - customers:,} "
                f"related rows in {total:.1f} s. Logins: admin / {demo.ADMIN_PASSWORD}, "
                f"alice, bob, chris / {demo.MANAGER_PASSWORD}, "
                f"customer / {demo.CUSTOMER_PASSWORD}."
            )
        )
