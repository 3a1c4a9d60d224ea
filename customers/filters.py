"""Customer filters shared by the staff list page, the CSV export and the API."""

import django_filters
from django.db.models import Q

from .models import Customer, CustomerStatus, Role, Segment, Stage, User

SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "acquired": ("acquired_on", "id"),
    "-acquired": ("-acquired_on", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
DEFAULT_SORT = "name"
SORT_CHOICES = [
    ("name", "Name A→Z"),
    ("-name", "Name Z→A"),
    ("-acquired", "Newest acquired"),
    ("acquired", "Oldest acquired"),
    ("-created", "Newest added"),
    ("created", "Oldest added"),
]


def sort_or_default(value: str | None) -> str:
    """The sort a request asks for, if the list knows it; the default otherwise."""
    return value if value is not None and value in SORTS else DEFAULT_SORT


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    segment = django_filters.ModelChoiceFilter(queryset=Segment.objects.all())
    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    status = django_filters.ChoiceFilter(choices=CustomerStatus.choices)
    account_manager = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(role=Role.ACCOUNT_MANAGER), label="Manager"
    )
    tag = django_filters.CharFilter(field_name="tags__name", label="Tag")

    class Meta:
        model = Customer
        fields = ["q", "segment", "stage", "status", "account_manager", "tag"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        if actor is not None and not actor.is_admin:
            # An account manager's book is theirs already; the filter would only confuse.
            self.filters.pop("account_manager", None)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(company__icontains=value)
        )
