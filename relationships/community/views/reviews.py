"""Product review pages: what customers read (approved reviews, ratings per product), their
own reviews with the form to review a product they bought, and the staff's moderation."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from customers.errors import ApplicationError
from customers.permissions import staff_required
from customers.selectors import customer_of_user
from customers.web import add_application_error

from .. import selectors, services
from ..models import ReviewStatus
from .cocreation_forms import ReviewDecisionForm, ReviewForm
from .ideas import _customer_or_403

PUBLISHED_LIMIT = 50


def _review_page(request, *, form=None, status=200):
    customer = customer_of_user(user=request.user)
    product = request.GET.get("product", "")[:200]
    context = {
        "nav": "reviews",
        "product": product,
        "ratings": selectors.product_ratings(actor=request.user),
        "published": selectors.published_reviews(actor=request.user, product=product)[
            :PUBLISHED_LIMIT
        ],
        "customer": customer,
    }
    if customer is not None:
        products = selectors.reviewable_products(customer=customer)
        context["mine"] = selectors.my_reviews(customer=customer)
        context["form"] = form or ReviewForm(products=products)
        context["can_write"] = bool(products)
    return render(request, "community/reviews/list.html", context, status=status)


@login_required
def review_list(request):
    return _review_page(request)


@require_http_methods(["GET", "POST"])
@login_required
def review_create(request):
    customer = _customer_or_403(request)
    if request.method == "GET":
        return redirect("community:review-list")
    form = ReviewForm(request.POST, products=selectors.reviewable_products(customer=customer))
    if form.is_valid():
        try:
            services.review_write(user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, "Thank you: your review will appear once it is approved.")
            return redirect("community:review-list")
    return _review_page(request, form=form)


@staff_required
def review_queue(request):
    status = request.GET.get("status", ReviewStatus.PENDING)
    status = status if status in ReviewStatus.values else ReviewStatus.PENDING
    return render(
        request,
        "community/staff/reviews.html",
        {
            "nav": "ideas",
            "tab": "reviews",
            "status": status,
            "statuses": ReviewStatus.choices,
            "reviews": selectors.review_queue(actor=request.user, status=status)[:200],
            "form": ReviewDecisionForm(),
        },
    )


@require_POST
@staff_required
def review_moderate(request, pk):
    review = selectors.review_get(actor=request.user, pk=pk)
    form = ReviewDecisionForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == ReviewStatus.APPROVED
        try:
            services.review_moderate(
                actor=request.user,
                review=review,
                approve=approve,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            messages.error(request, f"Review of {review.product}: {exc.message}")
        else:
            done = "approved" if approve else "rejected"
            messages.success(request, f"Review of {review.product} {done}.")
    else:
        messages.error(request, "Choose approve or reject.")
    return redirect("community:review-queue")
