"""Helpers the staff pages of every app use: HTMX fragment detection and form plumbing.

They live here, not in one app's views, so relationships and crm reach for them
without importing another app's pages.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from .dates import storable_moment
from .errors import ApplicationError

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"

T = TypeVar("T")


def wants_fragment(request: HttpRequest) -> bool:
    """An HTMX swap gets a fragment; a boosted link or a history restore needs the page."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The page to go back to after a form (the `next` field or parameter), when it is on
    this site; else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def add_application_error(form: forms.BaseForm, exc: ApplicationError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def form_submit(form: forms.BaseForm, act: Callable[[dict[str, Any]], T]) -> T | None:
    """A bound form's cleaned data handed to a service: the service's result, or None when
    the form is invalid or the service refused (its message then on the form, next to the
    field it names). The services this serves return what they wrote, never None."""
    if not form.is_valid():
        return None
    try:
        return act(form.cleaned_data)
    except ApplicationError as exc:
        add_application_error(form, exc)
        return None


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """A form's ModelChoiceField (or multiple-choice one) by name, to set its queryset per
    form: `form.fields` is typed as plain fields."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a model choice field.")
    return field


class DateTimeField(forms.DateTimeField):
    """forms.DateTimeField that hands on only moments the database can take: an offset
    beyond ±15:59 or a year out of range once in UTC is a form error, not a 500."""

    def to_python(self, value: str | dt.datetime | dt.date | None) -> dt.datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return storable_moment(moment)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from exc


def datetime_local_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)


def now_local() -> dt.datetime:
    """The initial value of a datetime-local field: now, to the minute, where the company is."""
    return timezone.localtime().replace(second=0, microsecond=0)


def site_base_url(request: HttpRequest) -> str:
    """Where links in e-mails point: CRM_SITE_URL when set (behind a proxy the request's
    own host may be an internal one), else the host this request came to."""
    return (getattr(settings, "CRM_SITE_URL", "") or request.build_absolute_uri("/")).rstrip("/")
