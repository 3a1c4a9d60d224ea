import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from crm import views as crm_views
from customers.models import AccountManagerAssignment, Customer, Tag
from relationships.models import Interaction
from tests.factories import (
    PASSWORD,
    CustomerFactory,
    InteractionFactory,
    PurchaseFactory,
    RelationshipStrategyFactory,
)


def timeline_items(html: str) -> list[str]:
    return re.findall(r'<li class="tl-entry [^"]*" id="(\w+-\d+)">', html)


# --- login, logout, home ----------------------------------------------------------------


def test_login_then_logout(client, manager_a):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"login": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("customer-list")).status_code == 302


def test_wrong_password_shows_an_error(client, manager_a):
    response = client.post(reverse("login"), {"login": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "username and/or password you specified are not correct" in response.content.decode()


def test_home_sends_staff_to_customers(client, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse("home"))
    assert response["Location"] == reverse("customer-list")


def test_home_shows_a_customer_their_own_record(client, customer_user, manager_a):
    # Their segment's strategy gives them a named account manager, so the card shows.
    strategy = RelationshipStrategyFactory(relationship_types=["dedicated_assistance"])
    mine = CustomerFactory(
        user=customer_user,
        name="Carol's Shop",
        account_manager=manager_a,
        segment=strategy.segment,
    )
    PurchaseFactory(customer=mine, reference="INV-MINE")
    other = CustomerFactory(name="Someone Else")
    PurchaseFactory(customer=other, reference="INV-OTHER")
    client.force_login(customer_user)
    html = client.get(reverse("home")).content.decode()
    assert "Your account" in html
    assert "Carol&#x27;s Shop" in html
    assert "INV-MINE" in html
    assert "Alice Anders" in html
    assert "Someone Else" not in html
    assert "INV-OTHER" not in html


def test_home_shows_no_manager_card_without_dedicated_assistance(client, customer_user, manager_a):
    strategy = RelationshipStrategyFactory(relationship_types=["self_service"])
    CustomerFactory(user=customer_user, account_manager=manager_a, segment=strategy.segment)
    client.force_login(customer_user)
    html = client.get(reverse("home")).content.decode()
    assert "Alice Anders" not in html
    assert "Your personal contact" not in html


def test_home_for_customer_without_record(client, customer_user):
    client.force_login(customer_user)
    assert "not linked to a customer record" in client.get(reverse("home")).content.decode()


def test_customer_role_cannot_open_staff_pages(client, customer_user, customer_a):
    client.force_login(customer_user)
    assert client.get(reverse("customer-detail", args=[customer_a.pk])).status_code == 403
    assert client.get(reverse("follow-up-list")).status_code == 403


# --- the 360 page -----------------------------------------------------------------------


def test_360_shows_profile_history_and_timeline_newest_first(client, manager_a, customer_a):
    customer_a.tags.add(Tag.objects.create(name="vip"))
    now = timezone.now()
    InteractionFactory(
        customer=customer_a,
        author=manager_a,
        subject="Oldest",
        occurred_at=now - dt.timedelta(days=5),
    )
    purchase = PurchaseFactory(
        customer=customer_a, reference="INV-9", occurred_at=now - dt.timedelta(days=3)
    )
    newest = InteractionFactory(
        customer=customer_a,
        author=manager_a,
        subject="Newest",
        occurred_at=now - dt.timedelta(hours=1),
        sentiment=2,
        kind="complaint",
    )
    client.force_login(manager_a)
    response = client.get(reverse("customer-detail", args=[customer_a.pk]))
    html = response.content.decode()
    # no nightly run has scored the customer yet, so only the loyalty panel shows
    assert [p["template"] for p in response.context["panels"]] == ["loyalty/_customer_panel.html"]
    assert "Acme Alpha" in html
    assert "vip" in html
    assert "Alice Anders" in html
    assert "Initial assignment." in html
    items = timeline_items(html)
    assert items[0] == f"interaction-{newest.pk}"
    assert items[1] == f"purchase-{purchase.pk}"
    assert len(items) == 3
    assert "Very positive" in html
    assert response.context["nav"] == "customers"


def test_360_of_another_book_is_404(client, manager_a, customer_b):
    client.force_login(manager_a)
    assert client.get(reverse("customer-detail", args=[customer_b.pk])).status_code == 404
    assert (
        client.get(
            reverse("customer-timeline", args=[customer_b.pk]), HTTP_HX_REQUEST="true"
        ).status_code
        == 404
    )
    assert client.get(reverse("customer-detail", args=[987654])).status_code == 404


def test_reassign_button_only_for_admins(client, manager_a, admin_user, customer_a):
    url = reverse("customer-detail", args=[customer_a.pk])
    reassign = reverse("customer-reassign", args=[customer_a.pk])
    client.force_login(manager_a)
    assert reassign not in client.get(url).content.decode()
    client.force_login(admin_user)
    assert reassign in client.get(url).content.decode()


def test_timeline_load_more(client, manager_a, customer_a):
    now = timezone.now()
    made = [
        InteractionFactory(
            customer=customer_a, author=manager_a, occurred_at=now - dt.timedelta(hours=i + 1)
        )
        for i in range(crm_views.TIMELINE_PAGE + 5)
    ]
    client.force_login(manager_a)
    html = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    first = timeline_items(html)
    assert len(first) == crm_views.TIMELINE_PAGE
    more = re.search(r'hx-get="([^"]+)"[^>]*>Load more', html).group(1).replace("&amp;", "&")
    page = client.get(more, HTTP_HX_REQUEST="true").content.decode()
    rest = timeline_items(page)
    assert "<html" not in page
    assert "Load more" not in page
    assert first + rest == [f"interaction-{i.pk}" for i in made]


def test_timeline_load_more_without_htmx_opens_the_page(client, manager_a, customer_a):
    client.force_login(manager_a)
    url = reverse("customer-timeline", args=[customer_a.pk])
    response = client.get(url, {"before": "2026-01-01T00:00:00+00:00~interaction~1"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("customer-detail", args=[customer_a.pk]))


def test_timeline_bad_before_is_400(client, manager_a, customer_a):
    client.force_login(manager_a)
    response = client.get(
        reverse("customer-timeline", args=[customer_a.pk]),
        {"before": "last tuesday"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400


def test_a_malformed_timeline_link_on_the_customer_page_says_so_and_shows_the_newest(
    client, manager_a, customer_a
):
    InteractionFactory(customer=customer_a, author=manager_a, subject="Latest call")
    client.force_login(manager_a)
    page = client.get(reverse("customer-detail", args=[customer_a.pk]), {"before": "last tuesday"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "That link does not point into this timeline" in html
    assert "Latest call" in html
    fine = client.get(reverse("customer-detail", args=[customer_a.pk])).content.decode()
    assert "That link does not point into this timeline" not in fine


def test_360_query_count_does_not_grow_with_history(
    client, manager_a, manager_b, admin_user, django_assert_max_num_queries
):
    def build(rows):
        customer = CustomerFactory(account_manager=manager_a)
        AccountManagerAssignment.objects.filter(customer=customer).update(ended_at=timezone.now())
        AccountManagerAssignment.objects.bulk_create(
            [
                AccountManagerAssignment(
                    customer=customer,
                    account_manager=manager_b if i % 2 else manager_a,
                    reason=f"Move {i}",
                    changed_by=admin_user,
                    started_at=timezone.now() - dt.timedelta(days=400 - i),
                    ended_at=timezone.now() - dt.timedelta(days=399 - i),
                )
                for i in range(rows)
            ]
        )
        Interaction.objects.bulk_create(
            [
                Interaction(
                    customer=customer,
                    author=manager_a if i % 2 else admin_user,
                    channel="phone",
                    kind="sale",
                    subject=f"S{i}",
                    occurred_at=timezone.now() - dt.timedelta(hours=i + 1),
                )
                for i in range(rows)
            ]
        )
        for i in range(rows):
            PurchaseFactory(
                customer=customer,
                occurred_at=timezone.now() - dt.timedelta(hours=i + 1, minutes=30),
            )
        return customer

    small, big = build(2), build(25)
    client.force_login(manager_a)
    counts = []
    for customer in (small, big):
        # The timeline reads five sources: interactions, purchases, forum posts, ideas, reviews;
        # the loyalty panel's offers (usable and used) one more, the follow-ups card two
        # (the open ones, the last few done), the menu's Follow-ups badge one.
        with django_assert_max_num_queries(19) as captured:
            assert client.get(reverse("customer-detail", args=[customer.pk])).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_list_to_detail_visibility_for_every_page(client, manager_a, customer_b):
    """Account manager A reaches none of B's customer through any page."""
    client.force_login(manager_a)
    pk = customer_b.pk
    for name in [
        "customer-detail",
        "customer-edit",
        "purchase-create",
        "interaction-log",
        "customer-reassign",
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    assert "Bravo Beta" not in client.get(reverse("customer-list")).content.decode()
    assert (
        "Bravo Beta"
        not in b"".join(client.get(reverse("customer-export")).streaming_content).decode()
    )
    assert Customer.objects.get(pk=pk).name == "Bravo Beta"
