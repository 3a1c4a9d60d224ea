"""Reads, and the one place that decides which customers a user may see."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404

from .filters import CustomerFilter
from .models import (
    AccountManagerAssignment,
    ConsentChange,
    Customer,
    CustomerMerge,
    CustomerStatus,
    DeletionRequest,
    DeletionStatus,
    Purchase,
    Role,
    Segment,
    StaffEvent,
    StaffEventKind,
    Stage,
    StageChange,
    Tag,
    User,
)


def customers_visible_to(actor: User) -> QuerySet[Customer]:
    """Admins see the whole book; an account manager sees the customers assigned to them;
    everyone else sees none (the portal reaches its own record through `customer_of_user`)."""
    qs = Customer.objects.all()
    if not actor.is_authenticated or not actor.is_active:
        return qs.none()
    if actor.is_admin:
        return qs
    if actor.is_account_manager:
        return qs.filter(account_manager=actor)
    return qs.none()


def customer_is_visible_to(*, actor: User, customer: Customer) -> bool:
    """The rule of `customers_visible_to` for a customer already loaded (through it), answered
    from the row instead of a query: the customer page's panels each asked the database
    again about the customer the page had just read."""
    if not actor.is_authenticated or not actor.is_active:
        return False
    if actor.is_admin:
        return True
    if actor.is_account_manager:
        return customer.account_manager_id == actor.pk
    return False


def customer_filterset(*, actor: User, data: Mapping[str, Any] | None) -> CustomerFilter:
    qs = customers_visible_to(actor).select_related("segment", "account_manager")
    return CustomerFilter(data=data or None, queryset=qs, actor=actor)


def customer_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Customer]:
    return customer_filterset(actor=actor, data=filters).qs


# What a row of the staff list shows, plus the sort fields its keyset cursor reads. The
# address, phone and notes stay in the database: a page of fifty rows never shows them.
CUSTOMER_LIST_FIELDS = (
    "name",
    "email",
    "company",
    "stage",
    "status",
    "acquired_on",
    "created_at",
    "segment__name",
    "account_manager__username",
    "account_manager__first_name",
    "account_manager__last_name",
)
_STAGE_LABELS = dict(Stage.choices)
_STATUS_LABELS = dict(CustomerStatus.choices)


def customer_tag_names(*, customer_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each customer's tag names in name order, in one query and without a model instance
    (or a related manager) per tag."""
    names: dict[int, list[str]] = defaultdict(list)
    links = Customer.tags.through.objects.filter(customer_id__in=list(customer_ids))
    for customer_id, name in links.order_by("tag__name").values_list("customer_id", "tag__name"):
        names[customer_id].append(name)
    return names


def customer_list_rows(*, customers: Sequence[Customer]) -> list[dict[str, Any]]:
    """The display values of the staff list's rows, worked out once per row here rather than
    by a lookup and a filter per cell in the template: on a page of fifty rows the
    per-cell template work was most of the request's time."""
    tags = customer_tag_names(customer_ids=[c.pk for c in customers])
    rows = []
    for c in customers:
        rows.append(
            {
                "pk": c.pk,
                "name": c.name,
                "email": c.email,
                "company": c.company or "—",
                "segment": c.segment.name if c.segment is not None else "—",
                "stage": c.stage,
                "stage_label": _STAGE_LABELS.get(c.stage, c.stage),
                "status": c.status,
                "status_label": _STATUS_LABELS.get(c.status, c.status),
                "manager": str(c.account_manager) if c.account_manager_id else "—",
                "tags": tags.get(c.pk, ()),
                "acquired": c.acquired_on.isoformat() if c.acquired_on else "—",
            }
        )
    return rows


def customer_get(*, actor: User, pk: int) -> Customer:
    """A customer outside the actor's book is a 404, not a 403: we do not confirm it exists."""
    try:
        return (
            customers_visible_to(actor)
            .select_related("segment", "account_manager", "user")
            .prefetch_related("tags")
            .get(pk=pk)
        )
    except (Customer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such customer.") from exc


def customer_of_user(*, user: User) -> Customer | None:
    if not user.is_authenticated or user.role != Role.CUSTOMER:
        return None
    return Customer.objects.filter(user=user).first()


def purchases_visible_to(actor: User) -> QuerySet[Purchase]:
    return Purchase.objects.filter(customer__in=customers_visible_to(actor))


def assignments_visible_to(actor: User) -> QuerySet[AccountManagerAssignment]:
    return AccountManagerAssignment.objects.filter(
        customer__in=customers_visible_to(actor)
    ).select_related("customer", "account_manager", "changed_by")


def customer_recent_purchases(
    *, customer: Customer, limit: int = 50, before=None
) -> list[Purchase]:
    qs = customer.purchases.all()
    if before is not None:
        qs = qs.filter(occurred_at__lt=before)
    return list(qs.order_by("-occurred_at", "-id")[:limit])


def customer_assignment_history(*, customer: Customer) -> QuerySet[AccountManagerAssignment]:
    return customer.assignments.select_related("account_manager", "changed_by").order_by(
        "-started_at", "-id"
    )


def customer_stage_history(*, customer: Customer, limit: int = 10) -> list[StageChange]:
    return list(customer.stage_changes.select_related("changed_by")[:limit])


def account_managers() -> QuerySet[User]:
    return User.objects.filter(role=Role.ACCOUNT_MANAGER, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def segments() -> QuerySet[Segment]:
    return Segment.objects.order_by("name")


def tag_names(*, limit: int = 200) -> list[str]:
    """Tag names for the search box's suggestions."""
    return list(Tag.objects.order_by("name").values_list("name", flat=True)[:limit])


# ---------------------------------------------------------------- portal


def portal_customer(*, user: User) -> Customer:
    """The customer of a portal request: the record linked to this login, and nothing else.
    Every portal page and export starts here, so a customer can only ever reach their own
    rows; a login with no record (or a staff login) gets a 404."""
    customer = customer_of_user(user=user) if user.is_active else None
    if customer is None:
        raise Http404("This login is not linked to a customer record.")
    return customer


def portal_purchases(*, customer: Customer) -> QuerySet[Purchase]:
    return customer.purchases.order_by("-occurred_at", "-id")


def portal_purchase_totals(*, customer: Customer) -> dict[str, Any]:
    """Count, first and last purchase, and the amount spent per currency (money in two
    currencies is never added up)."""
    qs = customer.purchases.order_by()
    overall = qs.aggregate(n=Count("id"), first=Min("occurred_at"), last=Max("occurred_at"))
    by_currency = [
        {"currency": row["currency"], "total": row["total"] or Decimal(0), "n": row["n"]}
        for row in qs.values("currency")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("currency")
    ]
    return {**overall, "by_currency": by_currency}


def consent_history(*, customer: Customer) -> QuerySet[ConsentChange]:
    return customer.consents.order_by("-changed_at", "-id")


def pending_deletion_request(*, customer: Customer) -> DeletionRequest | None:
    return customer.deletion_requests.filter(status=DeletionStatus.PENDING).first()


def deletion_requests_pending() -> QuerySet[DeletionRequest]:
    return DeletionRequest.objects.filter(status=DeletionStatus.PENDING).select_related(
        "customer", "requested_by"
    )


def customer_export(*, customer: Customer) -> dict[str, Any]:
    """What the customers app holds about a customer, as they may see it: their details,
    preferences, consent history, purchases and deletion requests. Staff-side fields (tags,
    segment, ladder stage, status) are the company's working notes, not the customer's
    data they gave us, and stay out; see docs/portal.md."""
    manager = customer.account_manager
    return {
        "profile": {
            "id": customer.pk,
            "kind": customer.kind,
            **{name: getattr(customer, name) for name in Customer.SELF_EDITABLE_FIELDS},
            "customer_since": customer.acquired_on,
            "created_at": customer.created_at,
            "account_manager": (
                {"name": str(manager), "email": manager.email} if manager is not None else None
            ),
        },
        "communication_preferences": {
            **{name: getattr(customer, name) for name in Customer.CHANNEL_FIELDS},
            "newsletter_consent": customer.newsletter_consent,
            "newsletter_consent_at": customer.newsletter_consent_at,
        },
        "consent_history": list(
            consent_history(customer=customer).values("newsletter", "changed_at", "source")
        ),
        "purchases": list(
            portal_purchases(customer=customer).values(
                "reference", "occurred_at", "product", "category", "amount", "currency"
            )
        ),
        "deletion_requests": list(
            customer.deletion_requests.order_by("-requested_at").values(
                "requested_at", "reason", "status", "decided_at"
            )
        ),
    }


# --- Staff accounts (admins' pages and API) ----------------------------------------------

STAFF_ROLE_VALUES = (Role.ACCOUNT_MANAGER, Role.ADMIN)


def staff_members() -> QuerySet[User]:
    """Admins and account managers, each with the size of their book, their last event
    (an open invitation is an inactive account whose last event is the invitation) and
    when they last signed in: one query."""
    last_event = StaffEvent.objects.filter(user=OuterRef("pk")).order_by("-at", "-id")
    return (
        User.objects.filter(role__in=STAFF_ROLE_VALUES)
        .annotate(
            book_size=Count("book", distinct=True),
            last_event=Subquery(last_event.values("kind")[:1]),
        )
        .order_by("-is_active", "role", "first_name", "last_name", "username")
    )


def staff_state(user: User) -> str:
    """active, invited or deactivated, for a row of `staff_members`."""
    if user.is_active:
        return "active"
    if getattr(user, "last_event", None) == StaffEventKind.INVITED:
        return "invited"
    return "deactivated"


def staff_get(*, pk: int) -> User:
    try:
        return staff_members().get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such staff member.") from exc


def book_holders() -> QuerySet[User]:
    """The people a book can be handed from: whoever manages at least one customer,
    largest book first."""
    return (
        User.objects.annotate(book_size=Count("book"))
        .filter(book_size__gt=0)
        .order_by("-book_size", "first_name", "last_name", "username")
    )


def book_sizes() -> QuerySet[User]:
    """Every active account manager and anyone still holding customers, with book sizes."""
    return (
        User.objects.annotate(book_size=Count("book"))
        .filter(Q(role=Role.ACCOUNT_MANAGER, is_active=True) | Q(book_size__gt=0))
        .order_by("-book_size", "first_name", "last_name", "username")
    )


def merged_survivor_id(pk: int) -> int | None:
    """Where a merged-away customer's records went (None if `pk` was never merged)."""
    return (
        CustomerMerge.objects.filter(absorbed_id=pk).values_list("survivor_id", flat=True).first()
    )


def customer_duplicates(*, customer: Customer, limit: int = 10) -> list[Customer]:
    """Records that may be the same customer: the same e-mail, name or external id (any
    case), for the merge page to offer."""
    same = Q(name__iexact=customer.name)
    if customer.email:
        same |= Q(email__iexact=customer.email)
    if customer.external_id:
        same |= Q(external_id=customer.external_id)
    return list(
        Customer.objects.filter(same)
        .exclude(pk=customer.pk)
        .select_related("account_manager")
        .order_by("pk")[:limit]
    )


def customer_merges(*, customer: Customer) -> QuerySet[CustomerMerge]:
    """The records merged into this customer, newest first."""
    return CustomerMerge.objects.filter(survivor=customer).select_related("merged_by")
