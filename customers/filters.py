"""Customer filters shared by the staff list page, the CSV export and the API."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django_filters.fields import IsoDateTimeField

from .dates import storable_moment
from .errors import ValidationFailed
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


class StorableIsoDateTimeField(IsoDateTimeField):
    """django-filter's ISO 8601 field, as UTC the database can take."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return storable_moment(moment)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 filter whose offset and year the database can take (else a 400 naming
    the parameter): use it, not django_filters.IsoDateTimeFilter."""

    field_class = StorableIsoDateTimeField


@dataclass(frozen=True)
class ListExtension:
    """A set of customers another app lets the list, the export and the API filter by
    (relationships: the customers behind a retention figure). Registered from that app's
    AppConfig.ready(), since customers imports no other app.

    ``params`` are the query parameters it reads (plain text: ``resolve`` parses them);
    it applies when any is given. ``resolve(values, actor)`` turns their values into a
    spec or raises ValidationFailed naming the parameter; ``apply`` narrows the list's
    queryset (already the actor's book) to the spec; the spec's ``caption`` says what the
    list shows."""

    params: tuple[str, ...]
    resolve: Callable[[Mapping[str, str], User | None], Any]
    apply: Callable[[QuerySet[Customer], Any], QuerySet[Customer]]


_extensions: list[ListExtension] = []


def register_list_extension(extension: ListExtension) -> ListExtension:
    """Offer a customer set to the list; registering the same one twice is a no-op."""
    if extension not in _extensions:
        _extensions.append(extension)
    return extension


def list_extension_params() -> tuple[str, ...]:
    return tuple(p for ext in _extensions for p in ext.params)


class ExtensionParam(django_filters.CharFilter):
    """A parameter a ListExtension reads: on the form (so errors name it), filtering
    nothing itself."""

    def filter(self, qs, value):
        return qs


class _ExtensionForm(forms.Form):
    """Resolves the registered extensions once the fields are clean; a refusal becomes
    an error on the parameter it names (a 400 in the API, a message on the page)."""

    actor: User | None = None  # set by CustomerFilter.get_form_class

    def clean(self):
        cleaned = super().clean()
        self.extension_specs: list[tuple[ListExtension, Any]] = []
        for ext in _extensions:
            values = {p: self.data.get(p, "") for p in ext.params}
            if not any(values.values()):
                continue
            try:
                self.extension_specs.append((ext, ext.resolve(values, self.actor)))
            except ValidationFailed as exc:
                field = exc.field if exc.field in self.fields else ext.params[0]
                self.add_error(field, exc.message)
        return cleaned


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
        form = _ExtensionForm

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        if actor is not None and not actor.is_admin:
            # An account manager's book is theirs already; the filter would only confuse.
            self.filters.pop("account_manager", None)
        self.actor = actor
        for name in list_extension_params():
            self.filters[name] = ExtensionParam(field_name=name, label=name)

    def get_form_class(self):
        return type("CustomerFilterForm", (super().get_form_class(),), {"actor": self.actor})

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if any(name in self.form.errors for name in list_extension_params()):
            # "Lost in March" over the whole book would mislead: show nobody, and the error.
            return queryset.none()
        for ext, spec in getattr(self.form, "extension_specs", ()):
            queryset = ext.apply(queryset, spec)
        return queryset

    @property
    def captions(self) -> list[str]:
        """What the extensions narrowed the list to, for its heading."""
        if not self.is_bound or not self.form.is_valid():
            return []
        return [spec.caption for _, spec in self.form.extension_specs]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(company__icontains=value)
        )
