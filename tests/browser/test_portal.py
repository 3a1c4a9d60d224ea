"""A customer walks through the portal in chromium: signs in, edits their profile, redeems
a reward and gets its code, asks support a question that their account manager answers. And at 390 px (a phone) no page of the portal or of the staff
side scrolls sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from loyalty.models import Redemption
from loyalty.services import points_adjust
from relationships.support.services import support_request_open
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    InteractionFactory,
    MembershipFactory,
    ProgramFactory,
    PurchaseFactory,
    RelationshipStrategyFactory,
    RewardFactory,
    SegmentFactory,
    TierFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@pytest.fixture
def member(customer_user, manager_a):
    customer = CustomerFactory(user=customer_user, name="Carol Client", account_manager=manager_a)
    for n in range(3):
        PurchaseFactory(
            customer=customer, reference=f"INV-LONG-REFERENCE-{n:04d}", product="Annual licence"
        )
    program = ProgramFactory(name="Club", points_name="stars")
    membership = MembershipFactory(program=program, customer=customer)
    points_adjust(membership=membership, points=500, reason="Welcome", actor=manager_a)
    RewardFactory(program=program, name="Coffee voucher", cost=200)
    return customer


def sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_a_customer_signs_in_edits_their_profile_and_redeems_a_reward(page, live_server, member):
    sign_in(page, live_server, "carol")
    expect(page.get_by_role("heading", name="Hello, Carol Client")).to_be_visible()

    page.get_by_role("link", name="Profile", exact=True).first.click()
    page.get_by_label("Phone", exact=True).fill("+45 1234 5678")
    page.get_by_role("button", name="Save my details").click()
    expect(page.get_by_role("status")).to_contain_text("Your contact details are saved.")
    expect(page.get_by_label("Phone", exact=True)).to_have_value("+45 1234 5678")

    page.get_by_label("Yes, send me the newsletter").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("you will get the newsletter")

    page.get_by_role("link", name="Points & rewards").first.click()
    page.get_by_role("link", name="Redeem Coffee voucher").click()
    expect(page.get_by_text("After redeeming")).to_be_visible()
    page.get_by_role("button", name="Yes, redeem for 200 stars").click()
    code = Redemption.objects.get().code
    expect(page.get_by_role("status")).to_contain_text(f"Your code is {code}")
    expect(page.locator("#reward-code")).to_have_text(code)

    # A support request, answered by the account manager in another browser.
    page.get_by_role("link", name="Support", exact=True).first.click()
    page.get_by_label("What is it about?").select_option("order")
    page.get_by_label("Subject").fill("Where is my parcel?")
    page.get_by_label("Your message").fill("Ordered ten days ago.")
    page.get_by_label("Attachment").set_input_files(
        files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("status")).to_contain_text("is with our team")
    expect(page.locator("#support-status")).to_have_text("Open")

    staff = page.context.browser.new_page()
    sign_in(staff, live_server, "alice")
    staff.get_by_role("link", name="Support", exact=True).first.click()
    staff.get_by_role("link", name="Where is my parcel?").click()
    expect(staff.get_by_text("receipt.png")).to_be_visible()
    staff.get_by_label("Message").fill("It leaves the warehouse today.")
    staff.get_by_role("button", name="Send").click()
    expect(staff.get_by_role("status")).to_contain_text("sees your reply")
    staff.close()

    page.reload()
    expect(page.get_by_text("It leaves the warehouse today.")).to_be_visible()
    expect(page.locator("#support-status")).to_have_text("Waiting on customer")


def scrolls_sideways(page, live_server, paths) -> list[str]:
    wide = []
    for path in paths:
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide.append(f"{path} is {width}px wide")
    return wide


PORTAL_PAGES = [
    "/",
    "/my/profile/",
    "/my/purchases/",
    "/my/loyalty/",
    "/my/delete/",
    "/my/support/",
    "/my/nope/",
]
STAFF_PAGES = [
    "/customers/",
    "/customers/{pk}/",
    "/follow-ups/",
    "/at-risk/",
    "/analytics/",
    "/ladder/",
    "/plans/",
    "/analytics/defections/complaints/",
    "/analytics/defections/",
    "/customers/{pk}/purchases/new/",
    "/community/",
    "/support/",
    "/support/{request}/",
]


def test_no_portal_page_scrolls_sideways_on_a_phone(browser, live_server, member):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server, "carol")
    redemption_pages = [f"/my/loyalty/{member.memberships.get().pk}/movements/"]
    request = support_request_open(
        customer=member,
        author=member.user,
        category="complaint",
        subject="A-very-long-subject-without-spaces-that-must-wrap-on-a-phone",
        body="x" * 300,
    )
    support_pages = [f"/my/support/{request.pk}/"]
    assert (
        scrolls_sideways(page, live_server, PORTAL_PAGES + redemption_pages + support_pages) == []
    )
    context.close()


def test_no_admin_page_scrolls_sideways_on_a_phone(browser, live_server, admin_user):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, live_server, "ada")
    program = ProgramFactory(name="Club")
    tier = TierFactory(program=program, name="Gold-tier-with-a-long-name")
    segment = RelationshipStrategyFactory(segment=SegmentFactory(name="Key accounts")).segment
    paths = [
        "/imports/",
        f"/loyalty/programs/{program.pk}/",
        "/loyalty/programs/new/",
        f"/loyalty/programs/{program.pk}/edit/",
        f"/loyalty/programs/{program.pk}/rule/new/",
        f"/loyalty/programs/{program.pk}/tier/{tier.pk}/edit/",
        f"/loyalty/programs/{program.pk}/offer/new/",
        f"/loyalty/programs/{program.pk}/preview/",
        "/settings/segments/",
        f"/settings/segments/{segment.pk}/",
        f"/settings/segments/{segment.pk}/edit/",
        "/settings/users/",
        "/settings/users/invite/",
        "/settings/users/reassign/",
    ]
    assert scrolls_sideways(page, live_server, paths) == []
    context.close()


def test_no_staff_page_scrolls_sideways_on_a_phone(browser, live_server, manager_a, customer_a):
    for n in range(12):
        InteractionFactory(
            customer=customer_a,
            author=manager_a,
            subject=f"Call back about the renewal {n}",
            follow_up_on=customer_a.created_at.date(),
        )
        PurchaseFactory(customer=customer_a, reference=f"INV-LONG-REFERENCE-{n:04d}")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    customer_a.user = UserFactory(username="ann", role="customer")
    customer_a.save(update_fields=["user"])
    request = support_request_open(
        customer=customer_a,
        author=customer_a.user,
        category="complaint",
        subject="A-very-long-subject-without-spaces-that-must-wrap-on-a-phone",
        body="x" * 300,
    )
    sign_in(page, live_server, "alice")
    paths = [p.format(pk=customer_a.pk, request=request.pk) for p in STAFF_PAGES]
    assert scrolls_sideways(page, live_server, paths) == []
    context.close()
