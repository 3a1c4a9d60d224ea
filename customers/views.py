"""Staff pages on customers: thin views over customers.selectors and customers.services."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .selectors import customer_filterset


def staff_required(view):
    """Logged-in admins and account managers; which rows they reach is the selectors' job."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff_member:
            raise PermissionDenied("Only staff may use this page.")
        return view(request, *args, **kwargs)

    return wrapper


@staff_required
def customer_list(request):
    filterset = customer_filterset(actor=request.user, data=request.GET)
    customers = list(filterset.qs[:50])
    return render(
        request,
        "customers/customer_list.html",
        {"nav": "customers", "filterset": filterset, "customers": customers},
    )
