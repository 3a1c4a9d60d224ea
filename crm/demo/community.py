"""A small, lived-in community for the demo: forums with a solved question and a staff
answer, ideas at every stage, approved reviews. Written through the community's own
services (first posts held and approved, loyalty events fired), so the demo shows what
the product does, and the nightly run that follows counts it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.db.models import F

from customers.models import Customer, Purchase, Role, User
from relationships.community import services
from relationships.community.models import (
    Category,
    CategoryAccess,
    Moderator,
    Post,
    PostStatus,
    Topic,
)

from .catalogue import CUSTOMER_PASSWORD
from .community_book import write_topics

# Extra customer logins for the community (the portal's "customer" is the first member).
MEMBERS = (("maria", "Maria", "Marquez"), ("tom", "Tom", "Tanaka"), ("li", "Li", "Lindqvist"))
# Members who write in the forums but have no demo password, and the forums' past.
QUIET_MEMBERS = 40
BUSY_TOPICS = 300


def demo_community(*, actor: User, log: Callable[[str], None] = print) -> None:
    """Once: nothing is written when the community has a category already."""
    if Category.objects.exists():
        return
    members = _members()
    staff = User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).order_by("pk").first()
    if len(members) < 4 or staff is None:
        log("Community: skipped (the demo book has too few customers).")
        return
    with transaction.atomic():
        # The first account manager moderates every category (an admin always does).
        Moderator.objects.create(user=staff, category=None)
        topics = _forums(admin=actor, staff=staff, members=members)
        topics += _busy_forums(staff=staff, members=members + _quiet_members(), log=log)
        ideas = _ideas(admin=actor, staff=staff, members=members)
        reviews = _reviews(admin=actor, members=members)
        _written_days_ago(3)
    log(f"Community: {topics} topics, {ideas} ideas, {reviews} reviews.")


def _written_days_ago(days: int) -> None:
    """Date the community's rows (all of them demo rows) a few days back, as if written
    over the last week: tonight's run, counting the days before today, then sees them."""
    shift = dt.timedelta(days=days)
    for model in apps.get_app_config("community").get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateTimeField):
                name = field.name
                model._default_manager.filter(**{f"{name}__isnull": False}).update(
                    **{name: F(name) - shift}
                )


def _members() -> list[User]:
    """The portal's customer and three more logins, each linked to a demo customer."""
    members = list(User.objects.filter(role=Role.CUSTOMER, customer_record__isnull=False)[:1])
    free = Customer.objects.filter(user__isnull=True).order_by("pk")
    password = make_password(CUSTOMER_PASSWORD)
    for (username, first, last), customer in zip(MEMBERS, free[: len(MEMBERS)], strict=False):
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "role": Role.CUSTOMER,
                "first_name": first,
                "last_name": last,
                "password": password,
                "email": f"{username}@example.com",
            },
        )
        customer.user = user
        customer.save(update_fields=["user", "updated_at"])
        members.append(user)
    return members


def _quiet_members() -> list[User]:
    """Accounts for more demo customers, so the forums have many voices; they cannot
    sign in (no password)."""
    free = list(Customer.objects.filter(user__isnull=True).order_by("pk")[:QUIET_MEMBERS])
    users = User.objects.bulk_create(
        User(
            username=f"member{customer.pk}",
            first_name=customer.name.split(" ")[0][:150],
            last_name=" ".join(customer.name.split(" ")[1:])[:150],
            role=Role.CUSTOMER,
            password=make_password(None),
        )
        for customer in free
    )
    for customer, user in zip(free, users, strict=True):
        customer.user = user
    Customer.objects.bulk_update(free, ["user"])
    return users


def _busy_forums(*, staff: User, members: list[User], log: Callable[[str], None]) -> int:
    """A few hundred older threads in two more categories, written in bulk."""
    orders = Category.objects.create(
        name="Orders and delivery",
        slug="orders",
        access=CategoryAccess.CUSTOMERS,
        description="Ordering, delivery, returns: customers compare notes.",
        position=3,
    )
    points = Category.objects.create(
        name="Points and rewards",
        slug="points",
        access=CategoryAccess.CUSTOMERS,
        description="The loyalty program, tiers and rewards.",
        position=4,
    )
    help_ = Category.objects.get(slug="help")
    written = write_topics(
        categories=[orders, points, help_],
        authors=members,
        staff=[staff],
        topics=BUSY_TOPICS,
        mean_replies=3.0,
        days=120,
        log=lambda _: None,
    )
    log(f"Community: {written.posts} forum posts written in bulk.")
    return written.topics


def _shown(post: Post, admin: User) -> Post:
    """A new member's first post waits for a moderator: the demo's admin approves it."""
    if post.status == PostStatus.HELD:
        return services.post_approve(actor=admin, post=post)
    return post


def _topic(admin: User, **kwargs) -> Topic:
    topic = services.topic_create(**kwargs)
    _shown(topic.posts.get(number=1), admin)
    return topic


def _forums(*, admin: User, staff: User, members: list[User]) -> int:
    carmen, maria, tom, li = members[:4]
    news = Category.objects.create(
        name="Announcements",
        slug="announcements",
        access=CategoryAccess.PUBLIC,
        description="News from the team.",
    )
    help_ = Category.objects.create(
        name="Help and how-to",
        slug="help",
        access=CategoryAccess.CUSTOMERS,
        description="Ask anything; customers and staff answer.",
    )
    tips = Category.objects.create(
        name="Tips and tricks",
        slug="tips",
        access=CategoryAccess.CUSTOMERS,
        description="What works for you, shared.",
    )
    welcome = _topic(
        admin,
        actor=admin,
        category=news,
        title="Welcome to the community",
        body="Ask questions, share tips, and **vote on ideas**: the team reads everything here.",
    )
    services.topic_moderate(actor=admin, topic=welcome, action="pin")

    invoices = _topic(
        admin,
        actor=carmen,
        category=help_,
        title="How do I get all my invoices for last year?",
        body="Our accountant needs every invoice of 2025. Is there a way to get them at once?",
        kind="question",
    )
    answer = _shown(
        services.post_create(
            actor=maria,
            topic=invoices,
            body="Ask your account manager for the yearly statement: it lists every invoice.",
        ),
        admin,
    )
    services.post_create(
        actor=staff,
        topic=invoices,
        body="Maria is right. I have sent you the 2025 statement by e-mail, Carmen.",
    )
    services.answer_accept(actor=carmen, post=answer)
    services.post_like(actor=tom, post=answer)

    delivery = _topic(
        admin,
        actor=tom,
        category=help_,
        title="Can deliveries go to a second address?",
        body="We have a warehouse and an office. Can one order be split?",
        kind="question",
    )
    _shown(
        services.post_create(
            actor=li, topic=delivery, body="We asked the same last month, following this."
        ),
        admin,
    )

    tip = _topic(
        admin,
        actor=li,
        category=tips,
        title="Order on Mondays, get it by Wednesday",
        body="Orders placed before noon on Monday have always reached us by Wednesday.",
    )
    services.post_like(actor=carmen, post=tip.posts.get(number=1))
    return 4


def _ideas(*, admin: User, staff: User, members: list[User]) -> int:
    carmen, maria, tom, li = members[:4]
    specs = (
        (carmen, "Invoices as one PDF a month", "One file per month instead of one per order.", "shipped", "Shipped in the November release: find it under Your account."),
        (maria, "Reorder last month's basket", "A button to repeat an order.", "planned", "Planned for the first quarter."),
        (tom, "Delivery to several addresses", "Split one order between sites.", "under_review", "We are asking the carriers what it would cost."),
        (li, "Dark mode", "Easier on the eyes in the evening.", "new", ""),
    )  # fmt: skip
    voters = [carmen, maria, tom, li]
    for n, (author, title, body, status, reply) in enumerate(specs):
        idea = services.idea_propose(user=author, title=title, body=body)
        for voter in [v for v in voters if v != author][: 3 - n % 3]:
            services.idea_vote(user=voter, idea=idea)
        if status != "new":
            services.idea_set_status(actor=staff, idea=idea, status=status, reply=reply)
    return len(specs)


def _reviews(*, admin: User, members: list[User]) -> int:
    written = 0
    texts = {5: "Does exactly what we needed.", 4: "Good, delivery could be faster."}
    for user, rating in zip(members[:3], (5, 4, 5), strict=True):
        product = (
            Purchase.objects.filter(customer__user=user)
            .exclude(product="")
            .values_list("product", flat=True)
            .first()
        )
        if product is None:
            continue
        review = services.review_write(
            user=user, product=product, rating=rating, body=texts[rating]
        )
        services.review_moderate(actor=admin, review=review, approve=True)
        written += 1
    return written
