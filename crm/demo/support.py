"""Support requests for the demo: the unassigned queue and every manager's queue with
something to do, threads waiting on the customer, resolved and rated requests, complaints
classified by root cause, and three requests for the portal's demo customer.

Each request is written through the support services, as a customer and staff would
write it (so its interaction is on the timeline and a complaint's cause counts in the
defection report), then dated back: the services stamp every step "now", and a demo whose
threads were all answered within the same second would not look lived in. Re-dating moves
the request, its messages (in their order) and its interaction together, so what the pages
and the nightly run read is what the services would have written over those days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from customers.models import Customer, CustomerStatus, Role, User
from relationships.models import DefectionReason, Interaction
from relationships.support import services
from relationships.support.models import Status, SupportMessage, SupportRequest

SEED = 11
PORTAL, QUEUE, MANAGED = "portal", "queue", "managed"

# A step of a thread: who does what after the opening message.
#   ("reply", text)      staff answer (the request then waits on the customer)
#   ("note", text)       staff's internal note
#   ("customer", text)   the customer answers (the request is open again)
#   ("take",)            an account manager takes it from the unassigned queue
#   ("resolve",)         staff resolve it
#   ("reopen", text)     the customer reopens it
#   ("rate", n, text)    the customer rates the answer
#   ("cause", code)      staff classify the complaint's root cause
Step = tuple


@dataclass(frozen=True)
class Story:
    pool: str  # PORTAL (the demo login), QUEUE (no account manager) or MANAGED
    category: str
    subject: str
    body: str
    hours_ago: float  # when it was opened
    steps: tuple[Step, ...] = ()


STORIES: tuple[Story, ...] = (
    # The portal's demo customer: one resolved and rated, one waiting on them, one new.
    Story(PORTAL, "order", "Parcel for order 2291 has not arrived",
          "The tracking page has said 'at the depot' for four days. Can you find out where it is?",
          9 * 24, (
              ("reply", "I am sorry: the carrier lost the parcel at the depot. I have sent a "
                        "replacement by express today; it should reach you tomorrow."),
              ("customer", "It came this morning. Thank you for sorting it out so quickly!"),
              ("resolve",),
              ("rate", 5, "Quick and friendly."),
          )),
    Story(PORTAL, "billing", "VAT number missing on my last invoice",
          "My accountant needs the VAT number on the invoice for my October order.",
          2 * 24, (
              ("reply", "Of course. Which VAT number should the invoice carry? I will reissue "
                        "it as soon as I have it."),
          )),
    Story(PORTAL, "account", "Stars from my last purchase are not showing",
          "I bought a team licence last week but my stars balance has not changed.", 5),
    # The unassigned queue: customers without an account manager.
    Story(QUEUE, "question", "Do you deliver to the Canary Islands?",
          "We are opening a second shop in Las Palmas. Do you deliver there, and how long "
          "does it take?", 3),
    Story(QUEUE, "product", "Replacement charger for the X200",
          "The charger of our X200 scanner stopped working. Can we order just the charger?",
          20),
    Story(QUEUE, "order", "Change the delivery address of my order",
          "I placed an order an hour ago with my old address. Can it go to the new one?", 1.5),
    Story(QUEUE, "billing", "Charged twice for one order",
          "My card statement shows the same amount twice for yesterday's order.", 2 * 24, (
              ("note", "Finance confirms the second charge is a pre-authorisation; it drops "
                       "off within five days. Tell the customer so if they write again."),
          )),
    Story(QUEUE, "account", "I cannot sign in to the webshop",
          "The password reset e-mail never arrives. I checked the spam folder.", 30, (
              ("take",),
              ("reply", "Your address had a typo in our records; I have corrected it and sent "
                        "a new reset link. Does it arrive now?"),
          )),
    Story(QUEUE, "complaint", "Rude answer on the phone",
          "I called about a late delivery and was told it was 'not our problem'. That is not "
          "how I expect to be treated.", 50, (
              ("reply", "I am sorry you were spoken to that way. I have talked to the team; "
                        "your delivery is on its way and arrives on Friday."),
              ("cause", "service"),
              ("customer", "Thank you for taking it seriously."),
              ("resolve",),
              ("rate", 4, ""),
          )),
    Story(QUEUE, "question", "Opening hours over the holidays",
          "Is the showroom open between Christmas and New Year?", 12 * 24, (
              ("reply", "Yes, from 10 to 16 every day except the 25th, 26th and 1st."),
              ("resolve",),
              ("rate", 5, "Thanks!"),
          )),
    # Account managers' queues (spread over the managers in turn).
    Story(MANAGED, "product", "Screen flickers after the update",
          "Since last night's update the screen of our till flickers every few seconds.", 6),
    Story(MANAGED, "order", "Can I add two items to yesterday's order?",
          "We forgot two boxes of labels. Can they go in the same delivery?", 4),
    Story(MANAGED, "question", "Quote for 50 licences",
          "We are rolling out to two more offices. What would 50 licences cost?", 26, (
              ("note", "Asked sales for the volume price; answer by Thursday."),
          )),
    Story(MANAGED, "billing", "Payment terms for our next order",
          "Could we pay our next order at 60 days instead of 30?", 3 * 24, (
              ("reply", "We can offer 45 days net for orders above 5,000 EUR. Would that work?"),
              ("customer", "45 days works. Please note it on the order confirmation."),
          )),
    Story(MANAGED, "product", "Missing screws in the shelving kit",
          "The shelving kit we received has no small screws.", 4 * 24, (
              ("reply", "Sorry about that. Which kit is it, and how many screws are missing?"),
              ("customer", "Kit SH-40; eight of the small screws."),
          )),
    Story(MANAGED, "account", "Merge our two customer accounts",
          "We have two accounts, one per office. Can they become one?", 2 * 24, (
              ("reply", "Yes. Which of the two should we keep, and should the points of both "
                        "be added together?"),
          )),
    Story(MANAGED, "order", "Delivery note does not match the parcel",
          "The delivery note lists six boxes; we received five.", 24, (
              ("reply", "Could you send a photo of the labels on the five boxes? I will check "
                        "with the warehouse."),
          )),
    Story(MANAGED, "question", "Training for new staff",
          "Three new colleagues start next month. Do you run introductory training?", 3 * 24, (
              ("reply", "We have a workshop on the 14th. Shall I book three seats?"),
          )),
    Story(MANAGED, "order", "Return a damaged table",
          "The table top arrived with a deep scratch. How do we return it?", 15 * 24, (
              ("reply", "A courier will collect it on Thursday and bring a new one."),
              ("customer", "Collected and replaced. Thanks."),
              ("resolve",),
              ("rate", 4, "Took a while for the courier to come."),
          )),
    Story(MANAGED, "billing", "Invoice in our company's name",
          "The invoice was made out to me personally; it should be the company.", 20 * 24, (
              ("reply", "Done: the corrected invoice is in your account under Documents."),
              ("resolve",),
              ("rate", 5, ""),
          )),
    Story(MANAGED, "product", "Warranty on the coffee machine",
          "Is the coffee machine still under warranty? It was bought 20 months ago.",
          25 * 24, (
              ("reply", "The warranty is two years, so yes; we will repair it free of charge."),
              ("customer", "Good. Where do we send it?"),
              ("reply", "No need to send it: a technician will come on Monday."),
              ("resolve",),
              ("rate", 3, "Fine in the end, but I had to ask twice."),
          )),
    Story(MANAGED, "question", "Where do I find the yearly statement?",
          "Our accountant asks for last year's statement.", 8 * 24, (
              ("reply", "Under Your account, then Documents; I have also sent it by e-mail."),
              ("resolve",),
          )),
    Story(MANAGED, "complaint", "Delivery a week late, again",
          "Third late delivery this quarter. We had to close the shop for a day.", 6 * 24, (
              ("reply", "I am sorry. We have changed carrier for your area and I will watch "
                        "your next deliveries myself."),
              ("cause", "service"),
              ("resolve",),
              ("rate", 2, "Better, but it should not have happened."),
          )),
    Story(MANAGED, "complaint", "Price went up 20% at renewal",
          "Our renewal quote is 20% higher than last year, with nothing new in it.", 4 * 24, (
              ("reply", "I have asked for the loyalty discount to be applied to your renewal; "
                        "could we talk it through on a call this week?"),
              ("cause", "price"),
          )),
    Story(MANAGED, "complaint", "Blender broke after two weeks",
          "The motor of the blender we bought stopped after two weeks of light use.",
          10 * 24, (
              ("reply", "That should not happen. A replacement from the new batch is on its way."),
              ("cause", "product_quality"),
              ("resolve",),
          )),
    Story(MANAGED, "complaint", "Still no answer about our order",
          "I asked about our order on the phone twice this week and nobody called back.", 20),
    Story(MANAGED, "product", "The app keeps signing me out",
          "The mobile app signs me out every time I close it.", 12 * 24, (
              ("reply", "Version 3.2 fixes it: please update from the store."),
              ("resolve",),
              ("reopen", "Updated, but it still happens on my tablet."),
          )),
    Story(MANAGED, "account", "Change the e-mail address on our account",
          "Invoices should go to accounts@ from now on.", 30 * 24, (
              ("reply", "Done: invoices now go to the new address."),
              ("resolve",),
              ("rate", 5, "Perfect."),
          )),
)  # fmt: skip

MESSAGE_STEPS = {"reply", "note", "customer"}
# Steps that move the request's updated_at (as the services do).
UPDATING_STEPS = {"reply", "customer", "resolve", "reopen"}


def demo_support(*, actor: User, log: Callable[[str], None] = print) -> None:
    """Once: nothing is written when a support request exists."""
    if SupportRequest.objects.exists():
        return
    managers = list(User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).order_by("pk"))
    portal = Customer.objects.filter(user__username="customer").first()
    if not managers or portal is None:
        log("Support: skipped (no account manager or no demo customer login).")
        return
    rng = np.random.default_rng(SEED)
    now = timezone.now()
    # The services mail the manager and the customer on each step: not for a made-up past.
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
        transaction.atomic(),
    ):
        customers = _customers_for(STORIES, portal=portal, managers=managers, rng=rng)
        written = [
            _write(story, customer=customer, admin=actor, managers=managers, rng=rng, now=now)
            for story, customer in zip(STORIES, customers, strict=True)
            if customer is not None
        ]
    counts = {s: sum(r.status == s for r in written) for s in Status.values}
    log(
        f"Support: {len(written)} requests ({counts['open']} open, {counts['waiting']} waiting "
        f"on the customer, {counts['resolved']} resolved)."
    )


def _customers_for(
    stories: Sequence[Story], *, portal: Customer, managers: list[User], rng: np.random.Generator
) -> list[Customer | None]:
    """Who asks each story: the demo login, a customer without an account manager, or a
    customer of each manager in turn. Active customers who already have a login (the
    community's members) come first; others get one without a password."""
    queue_n = sum(s.pool == QUEUE for s in stories)
    managed_n = sum(s.pool == MANAGED for s in stories)
    per_manager = -(-managed_n // len(managers))
    pools: dict[int | None, list[Customer]] = {None: _pool(None, queue_n, portal, rng)}
    for manager in managers:
        pools[manager.pk] = _pool(manager, per_manager, portal, rng)
    used: dict[int | None, int] = {}
    chosen: list[Customer | None] = []
    managed_seen = 0
    for story in stories:
        if story.pool == PORTAL:
            chosen.append(portal)
            continue
        if story.pool == QUEUE:
            key: int | None = None
        else:
            key = managers[managed_seen % len(managers)].pk
            managed_seen += 1
        pool = pools[key]
        n = used.get(key, 0)
        used[key] = n + 1
        chosen.append(pool[n % len(pool)] if pool else None)
    return chosen


def _pool(
    manager: User | None, n: int, portal: Customer, rng: np.random.Generator
) -> list[Customer]:
    """`n` active customers of `manager` (None: without one), in a seeded order."""
    active = (
        Customer.objects.filter(account_manager=manager, status=CustomerStatus.ACTIVE)
        .exclude(pk=portal.pk)
        .order_by("pk")
    )
    with_login = list(active.filter(user__isnull=False))
    picked = [with_login[i] for i in rng.permutation(len(with_login))[:n]]
    if len(picked) < n:
        more = list(active.filter(user__isnull=True)[: n - len(picked)])
        _give_logins(more)
        picked += more
    return picked


def _give_logins(customers: list[Customer]) -> None:
    """A customer login without a password (they cannot sign in), as the community's
    quiet members have: the services take the request's author from it."""
    for customer in customers:
        first, _, last = customer.name.partition(" ")
        customer.user = User.objects.create(
            username=f"member{customer.pk}",
            first_name=first[:150],
            last_name=last[:150],
            role=Role.CUSTOMER,
            password=make_password(None),
        )
        customer.save(update_fields=["user", "updated_at"])


def _write(
    story: Story,
    *,
    customer: Customer,
    admin: User,
    managers: list[User],
    rng: np.random.Generator,
    now: dt.datetime,
) -> SupportRequest:
    """The story through the services, then dated back to when it happened."""
    author = customer.user
    if author is None:  # the pools give every customer a login
        raise ValueError(f"Demo customer {customer.pk} has no login.")
    request = services.support_request_open(
        customer=customer,
        author=author,
        category=story.category,
        subject=story.subject,
        body=story.body,
    )
    for step in story.steps:
        staff = request.assigned_to or admin
        match step:
            case ("reply", text):
                services.support_staff_reply(request=request, actor=staff, body=text)
            case ("note", text):
                services.support_staff_reply(request=request, actor=staff, body=text, internal=True)
            case ("customer", text):
                services.support_customer_reply(request=request, author=author, body=text)
            case ("take",):
                taker = managers[int(rng.integers(len(managers)))]
                services.support_take(request=request, actor=taker)
            case ("resolve",):
                services.support_status_set(request=request, actor=staff, status=Status.RESOLVED)
            case ("reopen", text):
                services.support_reopen(request=request, author=author, body=text)
            case ("rate", rating, comment):
                services.support_rate(
                    request=request, author=author, rating=rating, comment=comment
                )
            case ("cause", code):
                # A cause retired from the taxonomy (or never seeded) leaves it unclassified.
                cause = DefectionReason.objects.filter(code=code, is_active=True).first()
                if cause is not None:
                    services.support_root_cause_set(request=request, actor=staff, root_cause=cause)
            case _:
                raise ValueError(f"Unknown demo support step {step!r}")
        request.refresh_from_db()
    _date_back(request, story, rng=rng, now=now)
    return request


def _date_back(
    request: SupportRequest, story: Story, *, rng: np.random.Generator, now: dt.datetime
) -> None:
    """Open it `hours_ago`, each later step some hours after the one before (all before
    now), and move its messages, its times and its interaction's times there."""
    hours_ago = story.hours_ago * float(rng.uniform(0.85, 1.0))  # not all on the hour
    opened = now - dt.timedelta(hours=hours_ago)
    gaps = rng.uniform(0.5, 20.0, len(story.steps))
    room = max(hours_ago - 0.25, 0.0)
    if gaps.sum() > room:  # a recent request: its steps fit in the hours it has existed
        gaps *= room / gaps.sum()
    times = [opened + dt.timedelta(hours=float(h)) for h in np.cumsum(gaps)]
    message_times = [opened]
    updated, resolved = opened, None
    for step, at in zip(story.steps, times, strict=True):
        kind = step[0]
        if kind in MESSAGE_STEPS or (kind == "reopen" and step[1]):
            message_times.append(at)
        if kind in UPDATING_STEPS:
            updated = at
        if kind == "resolve":
            resolved = at
        elif kind == "reopen":
            resolved = None
    messages = list(SupportMessage.objects.filter(request=request).order_by("id"))
    for message, at in zip(messages, message_times, strict=True):
        message.created_at = at
    SupportMessage.objects.bulk_update(messages, ["created_at"])
    SupportRequest.objects.filter(pk=request.pk).update(
        created_at=opened, updated_at=updated, resolved_at=resolved
    )
    Interaction.objects.filter(pk=request.interaction_id).update(
        occurred_at=opened, created_at=opened
    )
    request.refresh_from_db()
