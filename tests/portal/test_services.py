"""The customer's own writes: profile, preferences and consent, the deletion request."""

from __future__ import annotations

import pytest

from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import ConsentChange, Customer, DeletionStatus, Purchase
from customers.services import (
    customer_preferences_set,
    customer_profile_update,
    deletion_request_complete,
    deletion_request_create,
    deletion_request_refuse,
    deletion_request_withdraw,
)


def test_profile_update_changes_only_the_self_editable_fields(x):
    updated = customer_profile_update(actor=x.user, customer=x.customer, name=" New Name ")
    assert updated.name == "New Name"
    with pytest.raises(ValidationFailed):
        customer_profile_update(actor=x.user, customer=x.customer, stage="partner")
    with pytest.raises(ValidationFailed):
        customer_profile_update(actor=x.user, customer=x.customer, name="  ")


def test_nobody_changes_another_customers_profile(x, y, manager_a):
    for actor in (y.user, manager_a):
        with pytest.raises(NotAllowed):
            customer_profile_update(actor=actor, customer=x.customer, name="Hijacked")


def test_consent_is_stamped_and_every_change_kept(x):
    customer = customer_preferences_set(
        actor=x.user, customer=x.customer, newsletter=True, allows_sms=True
    )
    given_at = customer.newsletter_consent_at
    assert customer.newsletter_consent is True
    assert given_at is not None
    assert customer.allows_sms is True
    # Saving the same consent again is not a new consent.
    customer_preferences_set(actor=x.user, customer=x.customer, newsletter=True, allows_post=False)
    assert Customer.objects.get(pk=x.customer.pk).newsletter_consent_at == given_at
    customer_preferences_set(actor=x.user, customer=x.customer, newsletter=False)
    assert list(
        ConsentChange.objects.filter(customer=x.customer)
        .order_by("changed_at", "id")
        .values_list("newsletter", "source")
    ) == [(True, "portal"), (False, "portal")]


def test_unknown_channels_are_refused(x):
    with pytest.raises(ValidationFailed):
        customer_preferences_set(
            actor=x.user, customer=x.customer, newsletter=False, allows_pigeon=True
        )


def test_one_pending_deletion_request_at_a_time_and_it_can_be_withdrawn(x):
    request = deletion_request_create(actor=x.user, customer=x.customer, reason="Moving")
    with pytest.raises(Conflict):
        deletion_request_create(actor=x.user, customer=x.customer)
    withdrawn = deletion_request_withdraw(actor=x.user, request=request)
    assert withdrawn.status == DeletionStatus.WITHDRAWN
    deletion_request_create(actor=x.user, customer=x.customer)  # may ask again


def test_completing_anonymises_keeps_purchases_and_closes_the_login(x, admin_user):
    customer_preferences_set(actor=x.user, customer=x.customer, newsletter=True)
    request = deletion_request_create(actor=x.user, customer=x.customer)
    done = deletion_request_complete(actor=admin_user, request=request)
    assert done.status == DeletionStatus.COMPLETED
    assert done.decided_by == admin_user
    customer = Customer.objects.get(pk=x.customer.pk)
    assert customer.name == f"Deleted customer {customer.pk}"
    assert (customer.email, customer.phone, customer.address, customer.user_id) == (
        "",
        "",
        "",
        None,
    )
    assert customer.newsletter_consent is False
    assert Purchase.objects.filter(customer=customer, reference="INV-XMARK").exists()
    x.user.refresh_from_db()
    assert not x.user.is_active
    assert not x.user.has_usable_password()
    assert x.user.username == f"deleted-{x.user.pk}"
    assert x.user.email == ""
    with pytest.raises(Conflict):
        deletion_request_complete(actor=admin_user, request=request)


def test_only_admins_decide_and_a_refusal_says_why(x, manager_a, admin_user):
    request = deletion_request_create(actor=x.user, customer=x.customer)
    with pytest.raises(NotAllowed):
        deletion_request_complete(actor=manager_a, request=request)
    with pytest.raises(NotAllowed):
        deletion_request_complete(actor=x.user, request=request)
    with pytest.raises(ValidationFailed):
        deletion_request_refuse(actor=admin_user, request=request, note=" ")
    refused = deletion_request_refuse(actor=admin_user, request=request, note="Open invoice")
    assert refused.status == DeletionStatus.REFUSED
