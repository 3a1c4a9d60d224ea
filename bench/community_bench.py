"""Server time and SQL queries of the forum pages on the bench book with 1M forum posts.

    make bench-community   # DATABASE_URL=postgres://.../crm_bench python bench/community_bench.py

Needs the bench book's customers (seeded like `make bench` when missing). Seeds the forums
once when they hold fewer posts than --posts (1,000,000 by default): customer accounts for
--members customers, eight categories, ~20 posts a thread with one thread of 200 replies,
written by the demo's bulk writer (crm/demo/community_book.py). Then it requests the
forum pages in process as a customer and as an account manager and prints the median and
p99 time and the number of SQL queries. It prints figures; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import time

# First: customer_pages sets up Django (settings, DEBUG off) before the models are imported.
from customer_pages import analyze_unanalyzed_tables, ensure_book, measure
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse

from crm.demo.community_book import write_topics
from customers.models import Customer, Role, User
from relationships.community.models import Category, CategoryAccess, Post, Topic

GOAL_MS = 50.0
LONG_THREAD = 200
BENCH_PASSWORD = "bench-member-pass"  # noqa: S105 (a throwaway login for the bench book)


def ensure_members(count: int) -> list[User]:
    have = list(User.objects.filter(username__startswith="bench-member-").order_by("pk"))
    if len(have) >= count:
        return have[:count]
    free = list(Customer.objects.filter(user__isnull=True).order_by("pk")[: count - len(have)])
    password = make_password(BENCH_PASSWORD)
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(username=f"bench-member-{c.pk}", role=Role.CUSTOMER, password=password)
            for c in free
        )
        for customer, user in zip(free, users, strict=True):
            customer.user = user
        Customer.objects.bulk_update(free, ["user"], batch_size=5_000)
    return have + users


def ensure_forums(posts: int, members: list[User], staff: list[User]) -> None:
    have = Post.objects.count()
    if have >= posts:
        print(f"The forums hold {have:,} posts; reusing them.")
        return
    print(f"The forums hold {have:,} posts; writing {posts - have:,} more (minutes)...")
    categories = [
        Category.objects.get_or_create(
            slug=f"bench-{n}",
            defaults={"name": f"Bench forum {n}", "access": CategoryAccess.CUSTOMERS},
        )[0]
        for n in range(1, 9)
    ]
    mean_replies = 19.0
    started = time.perf_counter()
    written = write_topics(
        categories=categories,
        authors=members,
        staff=staff,
        topics=int((posts - have) / (mean_replies + 1)),
        mean_replies=mean_replies,
        long_topic_replies=0
        if Topic.objects.filter(reply_count=LONG_THREAD).exists()
        else LONG_THREAD,
        days=3 * 365,
        seed=have + 11,
    )
    print(
        f"Wrote {written.topics:,} topics and {written.posts:,} posts "
        f"in {time.perf_counter() - started:.0f} s."
    )
    with connection.cursor() as c:
        for model in (Topic, Post):
            c.execute(f'ANALYZE "{model._meta.db_table}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("Warning: the benchmark is meant for PostgreSQL (make sets DATABASE_URL).")
    call_command("migrate", verbosity=0)
    ensure_book(args.customers)
    members = ensure_members(args.members)
    staff = list(User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True))
    ensure_forums(args.posts, members, staff)
    analyze_unanalyzed_tables()

    long_thread = Topic.objects.filter(reply_count=LONG_THREAD).order_by("pk").first()
    busiest = Category.objects.filter(slug="bench-1").get()
    topics_in = busiest.topics.count()
    pages = [
        ("Forum index", reverse("community:index")),
        (
            f"Category, first page ({topics_in:,} topics)",
            reverse("community:category", args=[busiest.slug]),
        ),
        (
            "Category, page 100",
            reverse("community:category", args=[busiest.slug]) + "?page=100",
        ),
        (
            f"Topic with {LONG_THREAD} replies",
            reverse("community:topic", args=[long_thread.pk]) if long_thread else "",
        ),
        ("Search 'account manager'", reverse("community:search") + "?q=account+manager"),
    ]
    reader = members[len(members) // 2]
    clients = {}
    for role, user in (("customer", reader), ("alice", User.objects.get(username="alice"))):
        client = Client()
        client.force_login(user)
        clients[role] = client

    print(
        f"\nForum pages on {Post.objects.count():,} posts in {Topic.objects.count():,} topics, "
        f"{args.requests} requests each (goal: {GOAL_MS:.0f} ms server time):"
    )
    print(f"{'page':<42} {'as':<9} {'median':>8} {'p99':>8} {'SQL':>7} {'queries':>8}")
    # Static files from the app's folders, as in customer_pages.py (no collectstatic run).
    static = {"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES={**settings.STORAGES, **static}):
        measure_pages(pages, clients, args.requests)


def measure_pages(pages: list[tuple[str, str]], clients: dict[str, Client], requests: int) -> None:
    for title, url in pages:
        if not url:
            print(f"{title:<42} (no such thread: seed into an empty forum)")
            continue
        for role, client in clients.items():
            m = measure(client, url, requests)
            queries = "/".join(str(n) for n in sorted(m["queries"]))
            print(
                f"{title:<42} {role:<9} {m['median']:7.1f}ms {m['p99']:7.1f}ms "
                f"{m['sql']:6.1f}ms {queries:>8}"
            )


if __name__ == "__main__":
    main()
