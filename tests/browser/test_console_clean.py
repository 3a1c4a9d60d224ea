"""No page logs a console error: the main pages as admin, account manager and customer, and
typing a search then clicking Filter on the customer list (which used to abort the search's
request, and htmx logs an abort as an error). A failed request (a 404 favicon) counts too."""

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.browser.test_log_interaction import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

STAFF_PAGES = [
    "/customers/",
    "/customers/{pk}/",
    "/follow-ups/",
    "/at-risk/",
    "/analytics/",
    "/analytics/defections/",
    "/ladder/",
    "/plans/",
    "/settings/segments/",
]
ADMIN_PAGES = [
    *STAFF_PAGES,
    "/loyalty/programs/",
    "/imports/",
    "/admin/",
    "/settings/segments/new/",
    "/settings/users/",
    "/settings/users/invite/",
    "/settings/users/reassign/",
]


def watch(page) -> list[str]:
    """Console errors, uncaught exceptions and answers of 400 or more, as they happen."""
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda exc: problems.append(f"exception: {exc}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"),
    )
    return problems


def visit(page, live_server, paths, pk=None) -> list[str]:
    problems = watch(page)
    for path in paths:
        page.goto(f"{live_server.url}{path.format(pk=pk)}")
        page.wait_for_load_state("networkidle")
        # Headless chromium fetches no icon itself: ask for the one the page names (or the
        # /favicon.ico a browser falls back to) as a browser would.
        icon = page.locator("link[rel=icon]")
        href = icon.get_attribute("href") if icon.count() else "/favicon.ico"
        answer = page.request.get(f"{live_server.url}{href}")
        if answer.status != 200:
            problems.append(f"{answer.status} icon {href} on {path}")
    return problems


def test_staff_pages_log_no_console_error(page, live_server, manager_a, customer_a):
    log_in(page, live_server, "alice")
    assert visit(page, live_server, STAFF_PAGES, pk=customer_a.pk) == []


def test_admin_pages_log_no_console_error(page, live_server, admin_user, customer_a):
    log_in(page, live_server, "ada")
    assert visit(page, live_server, ADMIN_PAGES, pk=customer_a.pk) == []


def test_the_customer_portal_logs_no_console_error(page, live_server, customer_a, customer_user):
    customer_a.user = customer_user
    customer_a.save()
    page.goto(f"{live_server.url}/accounts/login/")
    problems = watch(page)
    page.fill("#id_login", "carol")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert [*problems, *visit(page, live_server, ["/"])] == []


def test_the_favicon_is_served(page, live_server):
    response = page.goto(f"{live_server.url}/favicon.ico")
    assert response.status == 200
    assert "svg" in response.headers["content-type"]


def test_typing_a_search_then_clicking_filter_logs_no_error(page, live_server, manager_a):
    Customer.objects.bulk_create(
        [Customer(name=f"Cust {i:03d}", account_manager=manager_a) for i in range(30)]
        + [Customer(name="Other Ltd", account_manager=manager_a)]
    )
    log_in(page, live_server, "alice")
    problems = watch(page)
    page.fill("#id_q", "other")
    page.click("#customer-filters button[type=submit]")  # within the search's 300 ms delay
    expect(page.locator("#result-count")).to_contain_text("1 customer")
    page.fill("#id_q", "cust")
    page.click("#customer-filters button[type=submit]")
    page.wait_for_timeout(600)  # past the delay, so the search's own request went too
    page.wait_for_load_state("networkidle")
    expect(page.locator("#result-count")).to_contain_text("30 customers")
    assert problems == []
