import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import AccountManagerAssignment, Customer, Purchase, Tag
from customers.views import customers as customer_views
from tests.factories import CustomerFactory, PurchaseFactory, SegmentFactory


def names_on(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<a class="strong" href="/customers/\d+/">([^<]+)</a>', html)


def names_on_html(html: str) -> list[str]:
    return re.findall(r'<a class="strong" href="/customers/\d+/">([^<]+)</a>', html)


def next_url(response) -> str | None:
    match = re.search(r'id="next-page" href="([^"]+)"', response.content.decode())
    return match.group(1).replace("&amp;", "&") if match else None


def make_book(manager, count, **extra):
    return Customer.objects.bulk_create(
        [Customer(name=f"Cust {i:04d}", account_manager=manager, **extra) for i in range(count)]
    )


# --- who may see the list -------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("customer-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_customer_role_may_not_open_staff_list(client, customer_user):
    client.force_login(customer_user)
    assert client.get(reverse("customer-list")).status_code == 403
    assert client.get(reverse("customer-export")).status_code == 403


def test_manager_sees_only_own_book(client, manager_a, customer_a, customer_b):
    client.force_login(manager_a)
    response = client.get(reverse("customer-list"))
    assert names_on(response) == ["Acme Alpha"]
    assert "Bravo Beta" not in response.content.decode()


def test_manager_cannot_widen_scope_with_manager_filter(
    client, manager_a, manager_b, customer_a, customer_b
):
    client.force_login(manager_a)
    response = client.get(reverse("customer-list"), {"account_manager": manager_b.pk})
    assert names_on(response) == ["Acme Alpha"]
    assert 'name="account_manager"' not in response.content.decode()


def test_admin_sees_everyone_and_filters_by_manager(
    client, admin_user, manager_b, customer_a, customer_b
):
    client.force_login(admin_user)
    assert names_on(client.get(reverse("customer-list"))) == ["Acme Alpha", "Bravo Beta"]
    response = client.get(reverse("customer-list"), {"account_manager": manager_b.pk})
    assert names_on(response) == ["Bravo Beta"]


# --- search, filters, sort --------------------------------------------------------------


def test_search_filters_and_sort(client, manager_a):
    gold = SegmentFactory(name="Gold")
    CustomerFactory(account_manager=manager_a, name="Zeta Corp", stage="client", segment=gold)
    CustomerFactory(
        account_manager=manager_a, name="Alpha Ltd", stage="prospect", email="hi@alpha.test"
    )
    vip = CustomerFactory(account_manager=manager_a, name="Mid GmbH", stage="client")
    vip.tags.add(Tag.objects.create(name="vip"))
    client.force_login(manager_a)
    url = reverse("customer-list")
    assert names_on(client.get(url, {"q": "alpha.test"})) == ["Alpha Ltd"]
    assert names_on(client.get(url, {"stage": "client"})) == ["Mid GmbH", "Zeta Corp"]
    assert names_on(client.get(url, {"segment": gold.pk})) == ["Zeta Corp"]
    assert names_on(client.get(url, {"tag": "vip"})) == ["Mid GmbH"]
    assert names_on(client.get(url, {"sort": "-name"})) == ["Zeta Corp", "Mid GmbH", "Alpha Ltd"]


def test_bad_filter_values_show_an_error_not_a_500(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.get(reverse("customer-list"), {"stage": "emperor", "sort": "nonsense"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert names_on(response) == ["Acme Alpha"]


def test_htmx_search_returns_the_results_fragment(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.get(reverse("customer-list"), {"q": "acme"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="customer-table"' in html
    assert names_on(response) == ["Acme Alpha"]
    assert "HX-Request" in response["Vary"]


# --- keyset pagination and the capped count ---------------------------------------------


def test_htmx_swap_skips_the_filter_bar_choices(
    client, manager_a, customer_a, django_assert_num_queries
):
    """Typing in the search box swaps only the results: the segment choices and tag
    suggestions of the filter bar are not read for it."""
    client.force_login(manager_a)
    client.get(reverse("customer-list"))
    # session, user, page, tags of the rows
    with django_assert_num_queries(4):
        html = client.get(
            reverse("customer-list"), {"q": "acme"}, HTTP_HX_REQUEST="true"
        ).content.decode()
    assert names_on_html(html) == ["Acme Alpha"]
    assert 'id="id_segment"' not in html


@pytest.mark.parametrize("sort", ["name", "-name", "acquired", "-acquired", "created", "-created"])
def test_walking_the_pages_visits_every_customer_once(client, manager_a, sort):
    today = timezone.localdate()
    made = Customer.objects.bulk_create(
        [
            Customer(
                name=f"Cust {i % 40:04d}",  # repeated names: ties are broken by id
                account_manager=manager_a,
                acquired_on=None if i % 7 == 0 else today - dt.timedelta(days=i % 9),
            )
            for i in range(123)
        ]
    )
    client.force_login(manager_a)
    url = f"{reverse('customer-list')}?sort={sort}"
    seen_ids = []
    pages = 0
    while url:
        response = client.get(url)
        pages += 1
        seen_ids += [
            int(pk)
            for pk in re.findall(
                r'<a class="strong" href="/customers/(\d+)/">', response.content.decode()
            )
        ]
        url = next_url(response)
    assert pages == 3
    assert sorted(seen_ids) == sorted(c.pk for c in made)
    assert len(seen_ids) == len(set(seen_ids))


def test_next_page_has_no_offset_and_keeps_filters(client, manager_a):
    make_book(manager_a, 60, stage="client")
    make_book(manager_a, 5, stage="prospect")
    client.force_login(manager_a)
    first = client.get(reverse("customer-list"), {"stage": "client"})
    url = next_url(first)
    assert "stage=client" in url
    assert "offset" not in url
    assert "page=" not in url
    second = client.get(url)
    assert len(names_on(first)) == 50
    assert len(names_on(second)) == 10
    assert next_url(second) is None


def test_tampered_cursor_shows_first_page_with_a_message(client, manager_a, customer_a):
    client.force_login(manager_a)
    for cursor in ["garbage!!", "WyJuYW1lIiwgMV0", "WyItbmFtZSIsICJ4IiwgMV0"]:
        response = client.get(reverse("customer-list"), {"cursor": cursor})
        assert response.status_code == 200
        assert "not valid any more" in response.content.decode()
        assert names_on(response) == ["Acme Alpha"]


def test_total_is_capped(client, manager_a, monkeypatch):
    monkeypatch.setattr(customer_views, "PAGE_SIZE", 2)
    monkeypatch.setattr(customer_views, "COUNT_CAP", 5)
    make_book(manager_a, 7)
    client.force_login(manager_a)
    html = client.get(reverse("customer-list")).content.decode()
    assert "<strong>5+</strong>" in html


def test_first_page_that_is_not_full_is_the_exact_total_without_a_count(
    client, manager_a, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(customer_views, "COUNT_CAP", 3)
    monkeypatch.setattr(customer_views, "SEARCH_COUNT_CAP", 3)
    make_book(manager_a, 7)
    client.force_login(manager_a)
    client.get(reverse("customer-list"))  # the session and user are read once first
    # session, user, page, tags, segment choices, tag names, the menu's Follow-ups badge:
    # no COUNT of the list, yet 7 and not "3+"
    with django_assert_num_queries(7):
        html = client.get(reverse("customer-list")).content.decode()
    assert "<strong>7</strong> customers" in html
    assert (
        "<strong>7</strong> customers"
        in client.get(reverse("customer-list"), {"q": "cust"}).content.decode()
    )


def test_search_beyond_one_page_is_counted_on_demand(client, manager_a, monkeypatch):
    monkeypatch.setattr(customer_views, "PAGE_SIZE", 2)
    monkeypatch.setattr(customer_views, "COUNT_CAP", 50)
    monkeypatch.setattr(customer_views, "SEARCH_COUNT_CAP", 3)
    make_book(manager_a, 7)
    client.force_login(manager_a)
    # Filters alone are counted (up to COUNT_CAP) ...
    assert "<strong>7</strong> customers" in client.get(reverse("customer-list")).content.decode()
    # ... a text search says "more than a page" and offers to count ...
    html = client.get(reverse("customer-list"), {"q": "cust"}).content.decode()
    assert "<strong>2+</strong> customers" in html
    count_link = re.search(r'<p class="count" id="result-count">.*?href="([^"]+)"', html).group(1)
    count_link = count_link.replace("&amp;", "&")
    assert "q=cust" in count_link
    assert "count=1" in count_link
    # ... which counts up to the search cap, keeping the search.
    counted = client.get(count_link).content.decode()
    assert "<strong>3+</strong> customers" in counted
    assert "count them" not in counted
    assert names_on(client.get(count_link)) == ["Cust 0000", "Cust 0001"]


def test_count_link_works_as_an_htmx_swap(client, manager_a, monkeypatch):
    monkeypatch.setattr(customer_views, "PAGE_SIZE", 2)
    make_book(manager_a, 4)
    client.force_login(manager_a)
    response = client.get(
        reverse("customer-list"), {"q": "cust", "count": "1"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert "<strong>4</strong> customers" in html


def test_filter_selects_keep_the_choice_and_offer_any(client, admin_user, manager_b, customer_b):
    gold = SegmentFactory(name="Gold")
    client.force_login(admin_user)
    html = client.get(
        reverse("customer-list"),
        {"segment": gold.pk, "stage": "client", "account_manager": manager_b.pk},
    ).content.decode()
    assert f'<option value="{gold.pk}" selected>Gold</option>' in html
    assert '<option value="client" selected>Client</option>' in html
    assert f'<option value="{manager_b.pk}" selected>{manager_b}</option>' in html
    assert (
        '<select class="js-refilter" name="status" id="id_status"><option value="" selected>Any</option>'
        in html
    )
    assert "---------" not in html


def test_total_is_exact_below_cap(client, manager_a):
    make_book(manager_a, 7)
    client.force_login(manager_a)
    assert "<strong>7</strong> customers" in client.get(reverse("customer-list")).content.decode()


def test_list_query_count_does_not_grow_with_rows(client, manager_a, django_assert_max_num_queries):
    tag = Tag.objects.create(name="vip")
    for c in make_book(manager_a, 45, segment=SegmentFactory()):
        c.tags.add(tag)
    client.force_login(manager_a)
    # session, user, count, page, tags, segment choices, tag names
    with django_assert_max_num_queries(9):
        response = client.get(reverse("customer-list"))
    assert len(names_on(response)) == 45


# --- CSV export -------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_export_has_every_visible_field_and_only_own_book(
    client, manager_a, customer_a, customer_b
):
    customer_a.tags.add(Tag.objects.create(name="vip"), Tag.objects.create(name="beta"))
    client.force_login(manager_a)
    response = client.get(reverse("customer-export"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert [r["name"] for r in rows] == ["Acme Alpha"]
    row = rows[0]
    assert row["id"] == str(customer_a.pk)
    assert row["email"] == customer_a.email
    assert row["segment"] == customer_a.segment.name
    assert row["stage"] == "customer"
    assert row["status"] == "active"
    assert row["acquired_on"] == customer_a.acquired_on.isoformat()
    assert row["account_manager"] == "alice"
    assert row["tags"] == "beta;vip"


def test_export_follows_the_filters(client, admin_user, customer_a, customer_b):
    client.force_login(admin_user)
    rows = read_csv(client.get(reverse("customer-export"), {"q": "bravo"}))
    assert [r["name"] for r in rows] == ["Bravo Beta"]


def test_export_defuses_spreadsheet_formulas_but_keeps_phone_numbers(client, manager_a):
    CustomerFactory(account_manager=manager_a, name="=HYPERLINK(1)", phone="+33 1 23 45 67 89")
    client.force_login(manager_a)
    row = read_csv(client.get(reverse("customer-export")))[0]
    assert row["name"] == "'=HYPERLINK(1)"
    assert row["phone"] == "+33 1 23 45 67 89"


def test_export_queries_do_not_grow_per_row(client, manager_a, django_assert_max_num_queries):
    tag = Tag.objects.create(name="vip")
    for c in make_book(manager_a, 30):
        c.tags.add(tag)
    client.force_login(manager_a)
    with django_assert_max_num_queries(6):
        rows = read_csv(client.get(reverse("customer-export")))
    assert len(rows) == 30
    assert {r["tags"] for r in rows} == {"vip"}


# --- create and edit --------------------------------------------------------------------


def test_manager_creates_customer_in_own_book(client, manager_a):
    client.force_login(manager_a)
    form = client.get(reverse("customer-create")).content.decode()
    assert 'name="account_manager"' not in form
    response = client.post(
        reverse("customer-create"),
        {
            "name": "New Co",
            "kind": "organisation",
            "stage": "prospect",
            "status": "active",
            "tags": "vip, lead",
        },
    )
    customer = Customer.objects.get(name="New Co")
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-detail", args=[customer.pk])
    assert customer.account_manager == manager_a
    assert sorted(customer.tags.values_list("name", flat=True)) == ["lead", "vip"]
    assert AccountManagerAssignment.objects.filter(
        customer=customer, account_manager=manager_a
    ).exists()


def test_admin_creates_customer_for_a_manager(client, admin_user, manager_b):
    client.force_login(admin_user)
    client.post(
        reverse("customer-create"),
        {
            "name": "Given Co",
            "kind": "person",
            "stage": "prospect",
            "status": "active",
            "account_manager": manager_b.pk,
        },
    )
    assert Customer.objects.get(name="Given Co").account_manager == manager_b


def test_create_with_bad_input_shows_errors_and_writes_nothing(client, manager_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("customer-create"),
        {
            "name": "",
            "kind": "robot",
            "email": "not-an-email",
            "stage": "prospect",
            "status": "active",
            "tags": "x" * 60,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    assert "Enter a valid email address." in html
    assert "Select a valid choice" in html
    assert "at most 50 characters" in html
    assert Customer.objects.count() == 0


def test_manager_edits_own_customer(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("customer-edit", args=[customer_a.pk]),
        {
            "name": "Acme Renamed",
            "kind": "person",
            "stage": "client",
            "status": "active",
            "tags": "gold",
        },
    )
    assert response.status_code == 302
    customer_a.refresh_from_db()
    assert customer_a.name == "Acme Renamed"
    assert customer_a.stage == "client"
    assert list(customer_a.tags.values_list("name", flat=True)) == ["gold"]


def test_edit_with_blank_name_changes_nothing(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("customer-edit", args=[customer_a.pk]),
        {"name": "  ", "kind": "person", "stage": "client", "status": "active"},
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    customer_a.refresh_from_db()
    assert customer_a.name == "Acme Alpha"
    assert customer_a.stage == "customer"


def test_manager_cannot_open_or_change_another_book(client, manager_a, customer_b):
    client.force_login(manager_a)
    url = reverse("customer-edit", args=[customer_b.pk])
    assert client.get(url).status_code == 404
    response = client.post(
        url, {"name": "Hijacked", "kind": "person", "stage": "client", "status": "active"}
    )
    assert response.status_code == 404
    customer_b.refresh_from_db()
    assert customer_b.name == "Bravo Beta"


# --- reassignment -----------------------------------------------------------------------


def test_reassign_is_admin_only(client, manager_a, customer_a, customer_b):
    client.force_login(manager_a)
    assert client.get(reverse("customer-reassign", args=[customer_a.pk])).status_code == 403
    assert client.get(reverse("customer-reassign", args=[customer_b.pk])).status_code == 404
    response = client.post(
        reverse("customer-reassign", args=[customer_b.pk]),
        {"account_manager": manager_a.pk, "reason": "mine now"},
    )
    assert response.status_code == 404
    customer_b.refresh_from_db()
    assert customer_b.account_manager_id != manager_a.pk


def test_admin_reassigns_with_a_reason(client, admin_user, manager_b, customer_a):
    client.force_login(admin_user)
    assert client.get(reverse("customer-reassign", args=[customer_a.pk])).status_code == 200
    response = client.post(
        reverse("customer-reassign", args=[customer_a.pk]),
        {"account_manager": manager_b.pk, "reason": "Alice moves to another region"},
    )
    assert response.status_code == 302
    customer_a.refresh_from_db()
    assert customer_a.account_manager == manager_b
    latest = customer_a.assignments.order_by("-started_at", "-id").first()
    assert latest.reason == "Alice moves to another region"
    assert latest.changed_by == admin_user
    detail = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    assert "Alice moves to another region" in detail


def test_reassign_without_reason_or_to_same_manager_is_refused(
    client, admin_user, manager_a, customer_a
):
    client.force_login(admin_user)
    url = reverse("customer-reassign", args=[customer_a.pk])
    response = client.post(url, {"account_manager": "", "reason": ""})
    assert "This field is required." in response.content.decode()
    response = client.post(url, {"account_manager": manager_a.pk, "reason": "no change"})
    assert "already managed by" in response.content.decode()
    customer_a.refresh_from_db()
    assert customer_a.account_manager == manager_a
    assert customer_a.assignments.count() == 1


# --- purchases --------------------------------------------------------------------------


def purchase_data(**overrides):
    data = {
        "reference": "INV-1",
        "amount": "99.50",
        "currency": "EUR",
        "occurred_at": "2026-01-05T10:30",
        "product": "Widget",
        "category": "",
    }
    data.update(overrides)
    return data


def test_record_purchase(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(reverse("purchase-create", args=[customer_a.pk]), purchase_data())
    assert response.status_code == 302
    purchase = Purchase.objects.get(customer=customer_a)
    assert purchase.amount == Decimal("99.50")
    assert purchase.occurred_at.year == 2026


def test_duplicate_purchase_reference_is_a_clear_error(client, manager_a, customer_a):
    PurchaseFactory(customer=customer_a, reference="INV-1")
    client.force_login(manager_a)
    response = client.post(reverse("purchase-create", args=[customer_a.pk]), purchase_data())
    assert response.status_code == 200
    assert "Purchase INV-1 is already recorded" in response.content.decode()
    assert Purchase.objects.filter(customer=customer_a).count() == 1


def test_purchase_bad_input_writes_nothing(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.post(
        reverse("purchase-create", args=[customer_a.pk]),
        purchase_data(amount="-3", currency="E1", occurred_at="yesterday"),
    )
    html = response.content.decode()
    assert "greater than or equal to 0" in html
    assert "Enter a valid date/time." in html
    assert not Purchase.objects.exists()


def test_purchase_on_another_book_is_404(client, manager_a, customer_b):
    client.force_login(manager_a)
    response = client.post(reverse("purchase-create", args=[customer_b.pk]), purchase_data())
    assert response.status_code == 404
    assert not Purchase.objects.exists()
