"""The dashboard early in a month: headline cards on the last complete period, the running
period drawn dashed, lifetimes at 100% retention, the period picker, and every number
clicking through to exactly the customers behind it (page and API)."""

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from relationships.models import CustomerMetrics, CutKind, ModelFit, RetentionSnapshot
from relationships.nightly import nightly_run
from relationships.selectors import customers_behind_figure
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory

RUN = dt.date(2026, 6, 3)  # the 3rd: the run knows June 1 and 2 only


def on(day: dt.date, amount: str = "100.00") -> dict:
    return {
        "occurred_at": timezone.make_aware(dt.datetime.combine(day, dt.time(12))),
        "amount": Decimal(amount),
    }


def monthly(customer, first: dt.date, last: dt.date, amount: str = "100.00") -> None:
    day = first
    while day <= last:
        PurchaseFactory(customer=customer, **on(day, amount))
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=min(day.day, 28))


@pytest.fixture
def book(manager_a, manager_b):
    """May 2026, the last complete month, for the whole book: Anna, Ben and Dan at its
    start; Anna and Dan kept; Ben lost (60 days after his last purchase, on May 9);
    Cleo new. Dan is Bob's only customer (Bob keeps everyone: no churn yet)."""
    subscribers = SegmentFactory(name="Subscribers", inactivity_days=60)
    people = {
        "anna": CustomerFactory(
            name="Anna Kept",
            segment=subscribers,
            account_manager=manager_a,
            acquired_on=dt.date(2025, 1, 10),
        ),
        "ben": CustomerFactory(
            name="Ben Lost",
            segment=subscribers,
            account_manager=manager_a,
            acquired_on=dt.date(2025, 2, 1),
        ),
        "cleo": CustomerFactory(
            name="Cleo New",
            segment=subscribers,
            account_manager=manager_a,
            acquired_on=dt.date(2026, 5, 15),
        ),
        "dan": CustomerFactory(
            name="Dan Other",
            segment=subscribers,
            account_manager=manager_b,
            acquired_on=dt.date(2025, 3, 1),
        ),
        "pia": CustomerFactory(
            name="Pia Prospect", segment=subscribers, stage="prospect", acquired_on=None
        ),
    }
    monthly(people["anna"], dt.date(2025, 1, 10), dt.date(2026, 5, 20))
    monthly(people["ben"], dt.date(2025, 2, 10), dt.date(2026, 3, 10), "250.00")
    PurchaseFactory(customer=people["cleo"], **on(dt.date(2026, 5, 15)))
    monthly(people["dan"], dt.date(2025, 3, 1), dt.date(2026, 5, 25))
    nightly_run(run_date=RUN)
    return people


def names(response) -> set[str]:
    return {row["name"] for row in response.context["rows"]}


def links(page: str) -> list[str]:
    """Every click-through link of a page, unescaped."""
    return [u.replace("&amp;", "&") for u in re.findall(r'href="(/customers/\?[^"]+)"', page)]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- Headline cards on the 3rd ------------------------------------------------------------


def test_headline_cards_on_the_3rd_show_the_last_complete_month(client, book, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("analytics"))
    page = response.content.decode()
    cards = page[page.index('id="headline"') : page.index('id="running-note"')]
    assert "Retention, May 2026" in cards
    assert "last complete month" in cards
    assert "67%" in cards  # 2 of the 3 customers at the start of May
    assert re.search(r">2</a> of <a[^>]*>3</a> kept, <a[^>]*>1</a> lost, <a[^>]*>1</a> new", cards)
    assert "Revenue retention, May 2026" in cards
    assert "vs April 2026, same customers" in cards
    assert "3.0 months" in cards  # 1 / (1 - 2/3)
    assert "June" not in cards  # two days of June would compare badly with a full month
    assert "June 2026 is still running (data to 2 June 2026)" in page
    assert response.context["cards"]["headline"].period_start == dt.date(2026, 5, 1)


def test_lifetime_at_full_retention_reads_no_churn_yet(client, book, manager_b):
    client.force_login(manager_b)  # Bob's book (Dan) lost nobody in May
    page = client.get(reverse("analytics")).content.decode()
    cards = page[page.index('id="headline"') : page.index('id="running-note"')]
    assert "Retention, May 2026" in cards
    assert "100%" in cards
    assert "no churn yet" in cards
    assert "months" not in cards.split("Average lifetime")[1].split("</strong>")[0]


def test_the_running_period_is_drawn_dashed(client, book, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("analytics")).content.decode()
    svg = page[page.index('<svg class="chart"') : page.index("</svg>")]
    circles = re.findall(r'<circle class="([^"]+)"[^>]*><title>([^<]+)</title>', svg)
    partial = [title for cls, title in circles if cls == "dot partial"]
    assert len(partial) == 1
    assert partial[0].startswith("June 2026 so far")
    assert all(cls == "dot" for cls, title in circles if not title.startswith("June 2026"))
    assert re.search(r'<line class="line partial" x1="[\d.]+" y1="[\d.]+"', svg)
    assert "June 2026 so far (not complete)" in page  # the legend says what dashed means


# --- Period kind and date range -----------------------------------------------------------


def test_admin_picks_quarters_within_a_date_range(client, book, admin_user):
    client.force_login(admin_user)
    response = client.get(
        reverse("analytics"), {"period": "quarter", "from": "2025-10-01", "to": "2026-06-30"}
    )
    overview = response.context["overview"]
    assert [s.period_start for s in overview.periods] == [
        dt.date(2025, 10, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 1),
    ]
    page = response.content.decode()
    assert "Retention, Q1 2026" in page  # Q2 runs to June 30: not complete on June 3
    assert "Q2 2026 is still running" in page
    assert 'value="quarter" selected' in page


def test_admin_picks_years_and_a_range_that_ends_in_the_past(client, book, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("analytics"), {"period": "year", "to": "2025-12-31"})
    overview = response.context["overview"]
    assert [s.period_start.year for s in overview.periods] == [2024, 2025]
    assert overview.running is None
    page = response.content.decode()
    assert "Retention, 2025" in page
    assert "is still running" not in page


def test_api_filters_snapshots_by_kind_and_range_and_says_which_are_complete(book, admin_user):
    url = "/api/v1/retention-snapshots/"
    query = {"period_kind": "quarter", "from": "2025-10-01", "to": "2026-06-30", "cut_kind": "all"}
    rows = api(admin_user).get(url, query).json()["results"]
    assert sorted((r["period_start"], r["complete"]) for r in rows) == [
        ("2025-10-01", True),
        ("2026-01-01", True),
        ("2026-04-01", False),
    ]
    running = api(admin_user).get(url, {**query, "complete": "false"}).json()["results"]
    assert [r["period_start"] for r in running] == ["2026-04-01"]
    years = api(admin_user).get(url, {"period_kind": "year", "cut_kind": "all"}).json()["results"]
    assert {r["period_kind"] for r in years} == {"year"}


# --- Click-through -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ("at_start", {"Anna Kept", "Ben Lost", "Dan Other"}),
        ("retained", {"Anna Kept", "Dan Other"}),
        ("lost", {"Ben Lost"}),
        ("new", {"Cleo New"}),
    ],
)
def test_a_card_number_lists_exactly_the_customers_behind_it(
    client, book, admin_user, figure, expected
):
    client.force_login(admin_user)
    page = client.get(reverse("analytics")).content.decode()
    cards = page[page.index('id="headline"') : page.index('id="running-note"')]
    url = next(u for u in links(cards) if f"retention={figure}&" in u)
    assert dict(parse_qsl(urlsplit(url).query)) == {
        "retention": figure,
        "period": "month",
        "period_start": "2026-05-01",
    }
    response = client.get(url)
    assert names(response) == expected
    snapshot = RetentionSnapshot.objects.get(
        run_date=RUN, period_kind="month", period_start=dt.date(2026, 5, 1), cut_kind="all"
    )
    assert len(expected) == getattr(snapshot, figure)
    count = len(expected)
    caption = f"{count} customer{'' if count == 1 else 's'} (whole book), as the nightly run of 2026-06-03 counted them."
    assert caption in response.content.decode()


def test_every_figure_of_the_run_matches_its_list(book, admin_user):
    """Each stored count, for every period and figure of the whole book, is the length of
    its list: the list applies the rule the nightly counted with."""
    snapshots = RetentionSnapshot.objects.filter(run_date=RUN, cut_kind=CutKind.ALL)
    assert snapshots.count() == 12 + 8 + 3
    for s in snapshots:
        for figure in ("at_start", "retained", "lost", "new"):
            listed = customers_behind_figure(
                actor=admin_user,
                figure=figure,
                period_kind=s.period_kind,
                period_start=s.period_start.isoformat(),
            )
            assert listed.count() == getattr(s, figure), (s, figure)


def test_the_nightly_stores_what_retention_counted(book):
    metrics = {m.customer.name: m for m in CustomerMetrics.objects.select_related("customer")}
    assert metrics["Ben Lost"].churned_on == dt.date(2026, 5, 9)
    assert metrics["Cleo New"].customer_since == dt.date(2026, 5, 15)
    assert metrics["Anna Kept"].churned_on is None
    assert metrics["Pia Prospect"].customer_since is None


def test_a_manager_sees_only_their_book_behind_a_number(client, book, manager_a, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("analytics")).content.decode()
    retained = next(u for u in links(page) if "retention=retained&" in u)
    client.force_login(manager_a)
    # The whole book kept Anna and Dan in May; Alice's book holds Anna only.
    assert names(client.get(retained)) == {"Anna Kept"}
    page = client.get(reverse("analytics")).content.decode()
    cards = page[page.index('id="headline"') : page.index('id="running-note"')]
    assert re.search(r">1</a> of <a[^>]*>2</a> kept, <a[^>]*>1</a> lost, <a[^>]*>1</a> new", cards)
    own = {
        f: next(u for u in links(cards) if f"retention={f}&" in u)
        for f in ("at_start", "lost", "new")
    }
    assert names(client.get(own["at_start"])) == {"Anna Kept", "Ben Lost"}
    lost = client.get(own["lost"])
    assert names(lost) == {"Ben Lost"}
    assert "Lost during May 2026: 1 customer (your book)" in lost.content.decode()
    assert names(client.get(own["new"])) == {"Cleo New"}
    listed = api(manager_a).get(
        "/api/v1/customers/",
        {"retention": "retained", "period": "month", "period_start": "2026-05-01"},
    )
    assert [c["name"] for c in listed.json()["results"]] == ["Anna Kept"]


def test_cut_tables_link_to_their_cut(client, book, admin_user, manager_b):
    client.force_login(admin_user)
    page = client.get(reverse("analytics")).content.decode()
    cut = f"cut=account_manager%3A{manager_b.pk}"
    url = next(u for u in links(page) if "retention=at_start&" in u and cut in u)
    assert names(client.get(url)) == {"Dan Other"}
    cohort = next(
        u for u in links(page) if "cut=cohort%3A2025" in u and "period_start=2026-05-01" in u
    )
    assert names(client.get(cohort)) == {"Anna Kept", "Dan Other"}  # Cleo came in 2026


def test_the_list_keeps_the_set_while_other_filters_change(client, book, admin_user):
    client.force_login(admin_user)
    query = {"retention": "at_start", "period": "month", "period_start": "2026-05-01"}
    page = client.get(reverse("customer-list"), query).content.decode()
    assert '<input type="hidden" name="retention" value="at_start">' in page
    assert "Customers at the start of May 2026" in page
    narrowed = client.get(reverse("customer-list"), {**query, "q": "Ben Lost"})
    assert names(narrowed) == {"Ben Lost"}


# --- Bad parameters: a clear message, never a 500 -----------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "week"}, "Unknown period kind &#x27;week&#x27;: use month, quarter or year."),
        ({"from": "2026-13-01"}, "is not a date: write it as YYYY-MM-DD"),
        (
            {"from": "2026-05-01", "to": "2026-01-31"},
            "The range ends (2026-01-31) before it starts",
        ),
    ],
)
def test_bad_dashboard_parameters_are_a_message(client, book, admin_user, params, message):
    client.force_login(admin_user)
    response = client.get(reverse("analytics"), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["overview"].headline.period_start == dt.date(2026, 5, 1)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"period_kind": "week"}, "period_kind", "Unknown period kind 'week'"),
        ({"from": "03/01/2026"}, "from", "is not a date"),
        ({"from": "2026-05-01", "to": "2026-01-31"}, "to", "before it starts"),
        ({"complete": "perhaps"}, "complete", "true or false"),
    ],
)
def test_bad_snapshot_api_parameters_are_a_400(book, admin_user, params, field, message):
    response = api(admin_user).get("/api/v1/retention-snapshots/", params)
    assert response.status_code == 400
    assert message in response.json()[field][0]


BEHIND = {"retention": "lost", "period": "month", "period_start": "2026-05-01"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"period": "week"}, "period", "Unknown period kind 'week'"),
        ({"retention": "gone"}, "retention", "Unknown figure 'gone'"),
        ({"period_start": "May"}, "period_start", "is not a date"),
        ({"period_start": ""}, "period_start", "Say which period"),
        ({"period_start": "2026-09-01"}, "period_start", "has not started"),
        ({"cut": "planet:3"}, "cut", "Unknown cut 'planet:3'"),
        ({"cut": "segment:x"}, "cut", "needs a number"),
    ],
)
def test_bad_click_through_parameters_are_a_message(
    client, book, admin_user, change, field, message
):
    params = {**BEHIND, **change}
    response = api(admin_user).get("/api/v1/customers/", params)
    assert response.status_code == 400
    assert message in response.json()[field][0]
    client.force_login(admin_user)
    page = client.get(reverse("customer-list"), params)
    assert page.status_code == 200
    assert names(page) == set()  # nobody, rather than the whole book under a wrong heading
    assert message.replace("'", "&#x27;") in page.content.decode()


# --- The model fit, readable ---------------------------------------------------------------


def test_the_model_page_says_how_far_to_trust_the_fit(client, admin_user):
    ModelFit.objects.create(
        run_date=RUN,
        n_customers=50_000,
        bgnbd_r=0.24,
        bgnbd_alpha=4.4,
        bgnbd_a=0.79,
        bgnbd_b=2.4,
        bgnbd_log_likelihood=-123456.7,
        bgnbd_converged=True,
        gg_p=6.2,
        gg_q=3.7,
        gg_v=15.4,
        gg_n_customers=12_345,
        gg_log_likelihood=-45678.9,
        gg_converged=False,
        penalizer=0.0,
    )
    client.force_login(admin_user)
    page = client.get(reverse("analytics")).content.decode()
    fit = page[page.index('id="model-fit"') :]
    assert "no penalty" in fit
    assert "fitted on 50,000 customers, converged, log-likelihood \u2212123,456.7" in fit
    assert (
        "fitted on 12,345 customers with a repeat purchase, did not converge: read its "
        "parameters with care, log-likelihood \u221245,678.9"
    ) in fit
    ModelFit.objects.filter(run_date=RUN).update(penalizer=0.001, bgnbd_converged=None)
    fit = client.get(reverse("analytics")).content.decode()
    assert "penalty 0.001" in fit
    assert "convergence not recorded" in fit


def test_a_manager_cannot_reach_another_book_through_a_cut(client, book, manager_a, manager_b):
    client.force_login(manager_a)
    cut = f"account_manager:{manager_b.pk}"
    response = client.get(
        reverse("customer-list"),
        {"retention": "at_start", "period": "month", "period_start": "2026-05-01", "cut": cut},
    )
    assert names(response) == set()
    page = response.content.decode()
    assert "Bob Berg" not in page  # not even the other cut's name
    assert f"account manager {manager_b.pk}" in page


def test_a_range_outside_the_run_says_so(client, book, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("analytics"), {"from": "2019-01-01", "to": "2019-12-31"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Retention, no complete month" in page
    assert "No month in this range: pick dates within what the run holds." in page
    assert "holds months from 1 Jul 2025 to 30 Jun 2026" in page
