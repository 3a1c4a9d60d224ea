"""No page logs a console error or breaks the Content-Security-Policy: every page of every role
on the demo book, the main pages as admin, account manager and customer, and typing a search
then clicking Filter on the customer list (which used to abort the search's request, and htmx
logs an abort as an error). A failed request (a 404 favicon) counts too."""

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from crm import demo
from customers.models import Customer, ImportJob, Segment, User
from loyalty.models import Membership, Program, Reward
from relationships.community.models import Category, CategoryAccess, Idea, Post, Topic
from relationships.models import CorrectivePlan, Interaction
from relationships.support.services import support_request_open
from tests.browser.test_log_interaction import log_in
from tests.factories import PASSWORD, CorrectivePlanFactory

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


# Reports every Content-Security-Policy violation to the test: the browser fires
# `securitypolicyviolation` for each thing it refused (it also logs a console error).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.keepcrmCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} `
    + `at ${e.sourceFile || e.documentURI}:${e.lineNumber} ${e.sample || ""}`);
});
"""


def watch(page) -> list[str]:
    """Console errors, uncaught exceptions, answers of 400 or more and Content-Security-Policy
    violations, as they happen."""
    problems: list[str] = []
    # One reporter per page, telling every list watching it.
    lists = getattr(page, "keepcrm_csp_lists", None)
    if lists is None:
        lists = page.keepcrm_csp_lists = []
        page.expose_function(
            "keepcrmCspViolation", lambda text: [seen.append(f"csp: {text}") for seen in lists]
        )
        page.add_init_script(REPORT_VIOLATIONS)
    lists.append(problems)
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


# The whole tour, on the demo book: every page of every role, with the data the demo puts
# on them (charts, ladder suggestions, forums, rewards), under the Content-Security-Policy.
# Fragments, CSV downloads and POST-only actions are not pages; the htmx actions are
# clicked by their own browser tests, which watch the same way.


def demo_pages() -> dict[str, list[str]]:
    """The pages each demo login can open, with a real object for each object page."""
    alice = User.objects.get(username="alice")
    mine = Customer.objects.filter(account_manager=alice).order_by("pk").first()
    complaint = Interaction.objects.filter(
        customer__account_manager=alice, kind="complaint"
    ).first()
    plan = CorrectivePlan.objects.order_by("pk").first() or CorrectivePlanFactory()
    segment = Segment.objects.order_by("pk").first()
    program = Program.objects.order_by("pk").first()
    public = Category.objects.filter(access=CategoryAccess.PUBLIC).order_by("pk").first()
    topic = Topic.objects.filter(category=public, status="visible").order_by("pk").first()
    post = Post.objects.filter(topic=topic).order_by("pk").first()
    idea = Idea.objects.filter(is_hidden=False).order_by("pk").first()
    portal = Customer.objects.get(name=demo.PORTAL_CUSTOMER_NAME)
    membership = Membership.objects.filter(customer=portal).first()
    reward = Reward.objects.filter(program=membership.program).order_by("cost").first()
    other_staff = User.objects.get(username="bob")
    job = ImportJob.objects.create(
        kind="customers",
        mode="all_or_nothing",
        filename="book.csv",
        content="name\n",
        status="done",
        created_by=User.objects.get(username="admin"),
    )
    ticket = support_request_open(
        customer=portal,
        author=portal.user,
        category="order",
        subject="Where is my parcel?",
        body="It left the warehouse a week ago.",
    )
    assert None not in (mine, complaint, plan, segment, program, topic, post, idea, reward)
    community = [
        "/community/",
        f"/community/c/{public.slug}/",
        f"/community/t/{topic.pk}/",
        "/community/search/?q=order",
        "/community/ideas/",
        f"/community/ideas/{idea.pk}/",
        "/community/reviews/",
    ]
    member = [
        *community,
        "/community/notifications/",
        f"/community/c/{public.slug}/new/",
        "/accounts/password/change/",
        "/accounts/email/",
        "/accounts/2fa/",
        "/accounts/2fa/totp/activate/",
    ]
    staff = [
        *member,
        "/",
        "/customers/",
        "/customers/?q=a&stage=customer",
        f"/customers/{mine.pk}/",
        "/customers/new/",
        f"/customers/{mine.pk}/edit/",
        f"/customers/{mine.pk}/purchases/new/",
        f"/customers/{mine.pk}/defect/",
        f"/customers/{mine.pk}/ladder/",
        f"/interactions/{complaint.pk}/root-cause/",
        "/follow-ups/",
        "/follow-ups/?when=overdue",
        "/follow-ups/new/?q=a",
        f"/customers/{mine.pk}/follow-ups/new/",
        "/support/",
        "/at-risk/",
        "/analytics/",
        "/analytics/defections/",
        "/analytics/defections/customers/",
        "/analytics/defections/complaints/",
        "/ladder/",
        "/ladder/?stage=customer",
        "/plans/",
        f"/plans/{plan.pk}/",
        "/settings/segments/",
        f"/settings/segments/{segment.pk}/",
        "/community/moderation/",
        "/community/moderation/log/",
        "/community/moderation/bans/",
        f"/community/p/{post.pk}/history/",
        "/community/staff/ideas/",
        "/community/staff/reviews/",
        "/community/staff/active/",
        "/api/docs/",
        "/api/v1/",
    ]
    return {
        "anonymous": [
            *community,
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password/reset/",
            "/accounts/password/reset/done/",
            "/accounts/confirm-email/",
            "/welcome/MQ/not-a-token/",
        ],
        "customer": [
            *member,
            "/",
            "/my/profile/",
            "/my/purchases/",
            "/my/delete/",
            "/my/loyalty/",
            f"/my/loyalty/{membership.pk}/movements/",
            f"/my/rewards/{reward.pk}/redeem/",
            "/community/ideas/new/",
            "/community/reviews/new/",
            "/my/support/",
            f"/my/support/{ticket.pk}/",
        ],
        "alice": staff,
        "admin": [
            *staff,
            f"/customers/{mine.pk}/reassign/",
            "/imports/",
            "/imports/new/",
            f"/imports/{job.pk}/",
            "/settings/users/",
            "/settings/users/invite/",
            f"/settings/users/{other_staff.pk}/deactivate/",
            "/settings/users/reassign/",
            "/plans/new/",
            f"/plans/{plan.pk}/edit/",
            "/settings/segments/new/",
            f"/settings/segments/{segment.pk}/edit/",
            "/loyalty/programs/",
            f"/loyalty/programs/{program.pk}/",
            "/loyalty/programs/new/",
            f"/loyalty/programs/{program.pk}/edit/",
            f"/loyalty/programs/{program.pk}/rule/new/",
            f"/loyalty/programs/{program.pk}/tier/{program.tiers.first().pk}/edit/",
            f"/loyalty/programs/{program.pk}/reward/new/",
            f"/loyalty/programs/{program.pk}/offer/new/",
            f"/loyalty/programs/{program.pk}/preview/?customer={mine.pk}",
            f"/customers/{mine.pk}/changes/",
            f"/support/{ticket.pk}/",
            f"/customers/{mine.pk}/merge/",
            # The admin pages the app sends admins to (the nightly schedule among them).
            "/admin/",
            "/admin/customers/customer/",
            f"/admin/customers/customer/{mine.pk}/change/",
            "/admin/django_celery_beat/periodictask/",
            "/admin/django_celery_beat/periodictask/add/",
            "/admin/axes/accessattempt/",
        ],
    }


def log_in_as(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" not in page.url, f"{username} could not log in"


def tour(page, live_server, paths: list[str]) -> list[str]:
    """Open each page; every answer must carry the policy, and nothing may break it."""
    problems = watch(page)
    for path in paths:
        try:
            response = page.goto(f"{live_server.url}{path}")
        except PlaywrightError as exc:
            problems.append(f"{path}: {exc.message.splitlines()[0]}")
            continue
        page.wait_for_load_state("networkidle")
        policy = response.headers.get("content-security-policy", "")
        if "script-src 'self'" not in policy:
            problems.append(f"no script-src 'self' policy on {path}: {policy!r}")
        if "permissions-policy" not in response.headers:
            problems.append(f"no Permissions-Policy on {path}")
    return problems


@pytest.mark.django_db(transaction=True)
def test_every_page_of_every_role_keeps_to_the_content_security_policy(browser, live_server):
    demo.seed(customers=120, seed=7)
    demo.demo_setup(actor=demo.demo_admin(), log=lambda _: None)
    pages = demo_pages()
    found: list[str] = []
    for who, password in [
        ("anonymous", None),
        ("customer", demo.CUSTOMER_PASSWORD),
        ("alice", demo.MANAGER_PASSWORD),
        ("admin", demo.ADMIN_PASSWORD),
    ]:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(20_000)
        if password:
            log_in_as(page, live_server, who, password)
        found += [f"{who}: {p}" for p in tour(page, live_server, pages[who])]
        context.close()
    assert found == []
