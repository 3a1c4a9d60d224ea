"""Counts follow quick actions: "Mark done" on a follow-up and "Accept"/"Dismiss" on a ladder
suggestion answer htmx with the page's counts and the menu badge as out-of-band swaps, so none
of them stays stale until a reload."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, FollowUpFactory, LadderSuggestionFactory

pytestmark = pytest.mark.django_db


class OutOfBand(HTMLParser):
    """id -> text of each element the answer swaps in by id (hx-swap-oob), tags stripped and
    the menu badge's words for screen readers left out."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self.open: list[str | None] = []  # the oob id each open element belongs to

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        inside = self.open[-1] if self.open else None
        if attributes.get("hx-swap-oob") == "true":
            inside = attributes["id"]
            self.found[inside] = ""
        self.open.append(None if "visually-hidden" in (attributes.get("class") or "") else inside)

    def handle_endtag(self, tag: str) -> None:
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1]:
            self.found[self.open[-1]] += data


def out_of_band(html: str) -> dict[str, str]:
    parser = OutOfBand()
    parser.feed(html)
    return {key: " ".join(text.split()) for key, text in parser.found.items()}


def badge(html: str) -> str:
    found = re.search(r'id="menu-follow-ups-due"[^>]*>(.*?)</span>\s*</a>', html, re.S)
    assert found, "no Follow-ups badge in the menu"
    return re.sub(r"<[^>]+>", "", found.group(1)).replace(": due now", "").strip()


@pytest.fixture
def follow_ups(manager_a, manager_b, customer_a, customer_b):
    day = timezone.localdate()
    due = {
        "overdue": [day - dt.timedelta(days=3), day - dt.timedelta(days=1)],
        "today": [day],
        "week": [day + dt.timedelta(days=2)],
        "later": [day + dt.timedelta(days=20)],
    }
    items = {
        key: [
            FollowUpFactory(customer=customer_a, what=f"{key} {n}", due_on=on)
            for n, on in enumerate(days)
        ]
        for key, days in due.items()
    }
    # Not counted: already done, someone else's.
    FollowUpFactory(customer=customer_a, due_on=day, done_at=timezone.now(), done_by=manager_a)
    FollowUpFactory(customer=customer_b, due_on=day)
    return items


def test_the_menu_badge_counts_follow_ups_due_today_or_overdue(client, manager_a, follow_ups):
    client.force_login(manager_a)
    html = client.get(reverse("customer-list")).content.decode()
    assert badge(html) == "3"
    page = client.get(reverse("follow-up-list")).content.decode()
    assert re.search(r'id="follow-up-total">5<', page)
    assert re.search(r'id="follow-up-count-overdue">2<', page)


def test_the_badge_is_empty_when_nothing_is_due(client, manager_b):
    client.force_login(manager_b)
    assert badge(client.get(reverse("customer-list")).content.decode()) == ""


def mark_done(client, item, place="list", here=""):
    response = client.post(
        reverse("follow-up-done", args=[item.pk]),
        {"note": "", "place": place, "next": here or reverse("follow-up-list")},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    return response.content.decode()


def test_mark_done_sends_the_new_counts_and_badge_out_of_band(client, manager_a, follow_ups):
    client.force_login(manager_a)
    html = mark_done(client, follow_ups["today"][0])
    assert "Done: today 0." in html  # the item says so in place
    assert out_of_band(html) == {
        "follow-up-count-all": "4",
        "follow-up-count-overdue": "2",
        "follow-up-count-today": "0",
        "follow-up-count-week": "1",
        "follow-up-count-later": "1",
        "follow-up-total": "4",
        "menu-follow-ups-due": "2",
    }


def test_the_total_follows_the_tab_the_list_shows(client, manager_a, follow_ups):
    client.force_login(manager_a)
    here = reverse("follow-up-list") + "?when=overdue"
    html = mark_done(client, follow_ups["overdue"][0], here=here)
    assert out_of_band(html)["follow-up-total"] == "1"


def test_on_the_customer_page_only_the_badge_comes_along(client, manager_a, follow_ups):
    client.force_login(manager_a)
    html = mark_done(client, follow_ups["overdue"][1], place="customer", here="/customers/1/")
    assert out_of_band(html) == {"menu-follow-ups-due": "2"}


def test_marking_the_last_due_one_done_empties_the_badge(client, manager_a, customer_a):
    item = FollowUpFactory(customer=customer_a, what="Call", due_on=timezone.localdate())
    client.force_login(manager_a)
    counts = out_of_band(mark_done(client, item))
    assert (counts["menu-follow-ups-due"], counts["follow-up-total"]) == ("", "0")


@pytest.fixture
def suggestions(manager_a, manager_b):
    mine = [
        LadderSuggestionFactory(
            customer=CustomerFactory(account_manager=manager_a, stage="customer", name=f"Mine {n}")
        )
        for n in range(3)
    ]
    LadderSuggestionFactory(customer=CustomerFactory(account_manager=manager_b, stage="customer"))
    return mine


def decide(client, suggestion, decision: str) -> str:
    response = client.post(
        reverse("ladder-suggestion-decide", args=[suggestion.pk]),
        {"decision": decision},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    return response.content.decode()


def test_accept_sends_the_waiting_count_moves_and_funnel_out_of_band(
    client, manager_a, suggestions
):
    client.force_login(manager_a)
    page = client.get(reverse("ladder")).content.decode()
    assert 'id="suggestion-count">3<' in page
    assert 'id="suggestion-total">3<' in page

    html = decide(client, suggestions[0], "accept")

    counts = out_of_band(html)
    assert counts["suggestion-count"] == "2"
    assert counts["suggestion-status"] == "Mine 0 is now a client."
    assert re.search(r'id="ladder-kpis"[^>]*hx-swap-oob="true"', html)
    assert 'id="suggestion-total">2<' in html
    assert 'id="moves-up">1<' in html
    assert re.search(r'id="ladder-funnel"[^>]*hx-swap-oob="true"', html)
    # The funnel counts manager A's customers: two still customers, one now a client.
    funnel = dict(re.findall(r'\?stage=(\w+)#rung">[^<]*</a></span>.*?<span>(\d+)</span>', html))
    assert (funnel["customer"], funnel["client"]) == ("2", "1")


def test_dismiss_lowers_the_count_and_moves_nobody(client, manager_a, suggestions):
    client.force_login(manager_a)
    html = decide(client, suggestions[1], "dismiss")
    counts = out_of_band(html)
    assert counts["suggestion-count"] == "2"
    assert counts["suggestion-status"] == "Dismissed the suggestion for Mine 1."
    assert 'id="moves-up">0<' in html
