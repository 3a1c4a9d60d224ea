"""Who may use a page or an endpoint at all, by role. Which rows they then reach is the
selectors' business (customers.selectors.customers_visible_to). Every app uses these, so
they live in the app every other app already depends on."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from .models import User
from .selectors import portal_customer


def staff_required(view):
    """Pages for logged-in admins and account managers; anonymous users go to the login."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff_member:
            raise PermissionDenied("Only staff may use this page.")
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    """Pages for logged-in admins only."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_admin:
            raise PermissionDenied("Only an admin may use this page.")
        return view(request, *args, **kwargs)

    return wrapper


def customer_portal(view):
    """Portal pages: a logged-in customer, handed to the view as `customer` (the record
    linked to their login, from selectors.portal_customer). Staff are refused; a login with
    no customer record gets a 404 (there is nothing of theirs to show)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if request.user.is_staff_member:
            raise PermissionDenied("This page is for customers.")
        return view(request, portal_customer(user=request.user), *args, **kwargs)

    return wrapper


def actor_of(request: Request) -> User:
    """The logged-in user of an API request, typed as our User so selectors and services
    take it. Only for endpoints whose permission classes already refused anonymous users:
    reaching here anonymous means a check is missing, so refuse rather than act as nobody."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


class IsStaffMember(permissions.BasePermission):
    """The API's default: admins and account managers."""

    message = "Only staff (admins and account managers) may use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff_member)


class IsAdminRole(permissions.BasePermission):
    message = "Only an admin may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)


class AdminWritesStaffReads(permissions.BasePermission):
    message = "Only an admin may change this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff_member):
            return False
        return request.method in permissions.SAFE_METHODS or user.is_admin
