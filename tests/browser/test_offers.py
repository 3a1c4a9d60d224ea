"""Offers end to end in chromium: an account manager hands an offer from the customer page,
the customer finds it in the portal's "for you" card with a recommendation, and the admin
reads the offer's figures on the program page; at 390 px nothing scrolls sideways."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from loyalty.models import Offer, OfferGrant
from loyalty.services import (
    category_affinity_refresh,
    offer_grant,
    offer_reach_refresh,
    offer_redeem,
)
from tests.factories import CustomerFactory, ProgramFactory, PurchaseFactory

from .test_portal import scrolls_sideways, sign_in

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS") or Path(tempfile.gettempdir()) / "keepcrm-shots")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def book(customer_user, manager_a):
    carol = CustomerFactory(user=customer_user, name="Carol Client", account_manager=manager_a)
    PurchaseFactory(customer=carol, category="hardware")
    for _ in range(5):
        buyer = CustomerFactory()
        PurchaseFactory(customer=buyer, category="hardware")
        PurchaseFactory(customer=buyer, category="training")
    for _ in range(6):
        PurchaseFactory(customer=CustomerFactory(), category="retail")
    program = ProgramFactory(name="KeepCRM Rewards", points_name="stars")
    Offer.objects.create(
        name="Training for hardware buyers",
        coupon_code="TRAIN15",
        program=program,
        bought_category="hardware",
        not_bought_category="training",
        description="15% off an online course.",
    )
    category_affinity_refresh(run_date=timezone.localdate())
    return carol, program


def test_an_offer_goes_from_the_customer_page_to_the_portal(page, live_server, book, manager_a):
    carol, _program = book
    sign_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/customers/{carol.pk}/")
    _shot(page, "customer-page-offers")
    page.get_by_role("button", name="Give this offer (Training for hardware buyers)").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Training for hardware buyers handed to Carol Client"
    )
    expect(page.get_by_text("by Alice Anders")).to_be_visible()
    assert OfferGrant.objects.get().granted_by == manager_a
    _shot(page, "customer-page-offer-handed")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "customer-page-offer-handed-phone")
    assert scrolls_sideways(page, live_server, [f"/customers/{carol.pk}/"]) == []

    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "carol")
    card = page.locator(".for-you")
    expect(card).to_contain_text("Training for hardware buyers")
    expect(card).to_contain_text("picked for you by Alice")
    expect(card).to_contain_text("Customers who buy Hardware also buy Training")
    _shot(page, "portal-home-for-you")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "portal-home-for-you-phone")
    assert scrolls_sideways(page, live_server, ["/", "/my/loyalty/"]) == []


def test_the_admin_reads_the_offers_figures_on_the_program_page(
    page, live_server, book, admin_user, manager_a
):
    carol, program = book
    offer = Offer.objects.get()
    offer_grant(offer=offer, customer=carol, actor=manager_a)
    offer_redeem(offer=offer, customer=carol, actor=manager_a)
    offer_reach_refresh(run_date=timezone.localdate())
    sign_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/loyalty/programs/{program.pk}/#offers")
    offers = page.locator("#offers")
    expect(offers).to_contain_text("Training for hardware buyers")
    expect(offers).to_contain_text("100.0%")  # Carol was the only one targeted and used it
    _shot(page, "program-page-offers")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "program-page-offers-phone")
    assert scrolls_sideways(page, live_server, [f"/loyalty/programs/{program.pk}/"]) == []
