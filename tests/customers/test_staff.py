"""Users and roles in the app: admins invite staff by e-mail (the link sets a password and
activates the account), deactivate them once their book is handed over, never the last
admin, and hand a whole book to another account manager; pages and API, with the roles."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from customers import services
from customers.errors import Conflict, NotAllowed, ValidationFailed
from customers.models import AccountManagerAssignment, Customer, Role, StaffEvent, User
from tests.factories import PASSWORD, CustomerFactory, UserFactory


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def link_in(message) -> str:
    match = re.search(r"https?://[^\s]+/welcome/[^\s]+/", message.body)
    assert match, message.body
    return match.group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


@pytest.fixture
def book_a(manager_a):
    return [CustomerFactory(account_manager=manager_a, name=f"A{k}") for k in range(3)]


# --- invitations ------------------------------------------------------------------------


def test_an_invitation_creates_an_inactive_account_and_mails_a_link_that_sets_the_password(
    client, admin_user
):
    client.force_login(admin_user)
    response = client.post(
        reverse("staff-invite"),
        {"email": "Nina@Example.com", "first_name": "Nina", "role": "account_manager"},
    )
    assert response.status_code == 302
    nina = User.objects.get(username="nina@example.com")
    assert not nina.is_active
    assert not nina.has_usable_password()
    assert nina.role == Role.ACCOUNT_MANAGER
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nina@example.com"]
    link = link_in(mail.outbox[0])

    client.logout()
    # Django's token flow: the link redirects to the set-password form of the session.
    page = client.get(path_of(link), follow=True)
    assert page.status_code == 200
    assert "Choose a password" in page.content.decode()
    done = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a-Long-new-pass-42", "new_password2": "a-Long-new-pass-42"},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("login")
    nina.refresh_from_db()
    assert nina.is_active
    assert client.login(username="nina@example.com", password="a-Long-new-pass-42")
    assert [e.kind for e in StaffEvent.objects.filter(user=nina).order_by("at", "id")] == [
        "invited",
        "joined",
    ]

    # The link works once.
    client.logout()
    again = client.get(path_of(link), follow=True)
    assert "This link no longer works" in again.content.decode()


def test_a_withdrawn_invitations_link_no_longer_works(client, admin_user):
    invitation = services.staff_invite(
        actor=admin_user, email="olga@example.com", role="admin", base_url="http://testserver"
    )
    link = link_in(mail.outbox[0])
    services.staff_deactivate(actor=admin_user, user=invitation.user)
    page = client.get(path_of(link), follow=True)
    assert "This link no longer works" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "", "role": "admin"}, "email"),
        ({"email": "not-an-address", "role": "admin"}, "email"),
        ({"email": "x@example.com", "role": "customer"}, "role"),
        ({"email": "x@example.com", "role": "admin", "first_name": "x" * 151}, "first_name"),
    ],
)
def test_a_bad_invitation_is_a_form_error_and_a_400_naming_the_field(
    client, admin_user, data, field
):
    client.force_login(admin_user)
    page = client.post(reverse("staff-invite"), data)
    assert page.status_code == 200
    assert field in page.context["form"].errors
    answer = api_for(admin_user).post("/api/v1/staff/", data, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert not mail.outbox


def test_inviting_an_address_that_has_an_account_is_refused(client, admin_user, manager_a):
    client.force_login(admin_user)
    page = client.post(reverse("staff-invite"), {"email": "ALICE@example.com", "role": "admin"})
    assert "already has an account" in str(page.context["form"].errors["email"])
    answer = api_for(admin_user).post(
        "/api/v1/staff/", {"email": "alice@example.com", "role": "admin"}, format="json"
    )
    assert answer.status_code == 409
    assert "email" in answer.json()


def test_the_api_invites_and_says_whether_the_mail_left(admin_user):
    answer = api_for(admin_user).post(
        "/api/v1/staff/",
        {"email": "pia@example.com", "role": "account_manager", "last_name": "Peters"},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["state"] == "invited"
    assert body["mailed"] is True
    assert len(mail.outbox) == 1


def test_an_open_invitation_can_be_sent_again(client, admin_user):
    invitation = services.staff_invite(
        actor=admin_user, email="rita@example.com", role="admin", base_url="http://testserver"
    )
    client.force_login(admin_user)
    client.post(reverse("staff-invite-resend", args=[invitation.user.pk]))
    assert len(mail.outbox) == 2
    answer = api_for(admin_user).post(f"/api/v1/staff/{invitation.user.pk}/send-invitation/")
    assert answer.status_code == 200
    assert len(mail.outbox) == 3


# --- deactivation -----------------------------------------------------------------------


def test_a_manager_with_a_book_cannot_be_deactivated_until_it_is_handed_over(
    client, admin_user, manager_a, manager_b, book_a
):
    client.force_login(admin_user)
    page = client.get(reverse("staff-deactivate", args=[manager_a.pk]))
    assert "manages 3 customers" in page.content.decode()
    refused = client.post(reverse("staff-deactivate", args=[manager_a.pk]))
    assert refused.status_code == 409
    assert "still manages 3 customers" in refused.content.decode()
    answer = api_for(admin_user).post(f"/api/v1/staff/{manager_a.pk}/deactivate/")
    assert answer.status_code == 409
    assert "hand their book" in answer.json()["detail"]
    manager_a.refresh_from_db()
    assert manager_a.is_active

    services.book_reassign(
        actor=admin_user, from_manager=manager_a, to_manager=manager_b, reason="Alice leaves"
    )
    done = client.post(reverse("staff-deactivate", args=[manager_a.pk]))
    assert done.status_code == 302
    manager_a.refresh_from_db()
    assert not manager_a.is_active
    # They can no longer sign in.
    assert not client.login(username="alice", password=PASSWORD)


def test_the_last_active_admin_cannot_be_deactivated_through_the_service_page_or_api(
    client, admin_user
):
    with pytest.raises(Conflict, match="last active admin"):
        services.staff_deactivate(actor=admin_user, user=admin_user)
    client.force_login(admin_user)
    page = client.post(reverse("staff-deactivate", args=[admin_user.pk]))
    assert page.status_code == 409
    assert "last active admin" in page.content.decode()
    answer = api_for(admin_user).post(f"/api/v1/staff/{admin_user.pk}/deactivate/")
    assert answer.status_code == 409
    assert "last active admin" in answer.json()["detail"]
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_the_django_admin_cannot_demote_or_deactivate_the_last_admin(client, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:customers_user_change", args=[admin_user.pk])
    form = {
        "username": "ada",
        "email": "ada@example.com",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    demoted = client.post(url, {**form, "role": "account_manager", "is_active": "on"})
    assert demoted.status_code == 200
    assert "last active admin" in demoted.content.decode()
    stopped = client.post(url, {**form, "role": "admin"})
    assert "last active admin" in stopped.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN
    assert admin_user.is_active


def test_two_admins_deactivating_each_other_leave_one_admin(admin_user):
    second = UserFactory(username="root", role="admin")
    services.staff_deactivate(actor=second, user=admin_user)
    # Ada's request was already on its way: the service finds she is no longer an admin.
    with pytest.raises(NotAllowed):
        services.staff_deactivate(actor=admin_user, user=second)
    assert list(User.objects.filter(role=Role.ADMIN, is_active=True)) == [second]


def test_deactivating_yourself_is_refused(admin_user):
    UserFactory(username="root", role="admin")
    with pytest.raises(Conflict, match="yourself"):
        services.staff_deactivate(actor=admin_user, user=admin_user)


def test_only_admins_invite_and_deactivate(manager_a, manager_b):
    with pytest.raises(NotAllowed):
        services.staff_invite(
            actor=manager_a, email="z@example.com", role="admin", base_url="http://x"
        )
    with pytest.raises(NotAllowed):
        services.staff_deactivate(actor=manager_a, user=manager_b)
    assert api_for(manager_a).get("/api/v1/staff/").status_code == 403
    assert (
        api_for(manager_a).post("/api/v1/staff/", {"email": "z@example.com", "role": "admin"})
    ).status_code == 403
    assert api_for(manager_a).post(f"/api/v1/staff/{manager_b.pk}/deactivate/").status_code == 403


# --- the users page ---------------------------------------------------------------------


def test_the_users_page_shows_roles_books_and_last_sign_in(
    client, admin_user, manager_a, manager_b, book_a
):
    client.login(username="bob", password=PASSWORD)  # sets bob's last_login
    client.logout()
    services.staff_invite(
        actor=admin_user, email="new@example.com", role="account_manager", base_url="http://x"
    )
    client.force_login(admin_user)
    html = client.get(reverse("staff-list")).content.decode()
    assert "3 customers" in html
    assert "Invited" in html
    assert "never" in html  # alice never signed in
    assert "ago" in html or "now" in html  # bob did, just now
    rows = api_for(admin_user).get("/api/v1/staff/").json()
    rows = rows.get("results", rows)
    by_name = {r["username"]: r for r in rows}
    assert by_name["alice"]["book_size"] == 3
    assert by_name["bob"]["last_login"] is not None
    assert by_name["new@example.com"]["state"] == "invited"


def test_managers_and_customers_may_not_open_the_users_pages(client, manager_a, customer_user):
    for user in (manager_a, customer_user):
        client.force_login(user)
        for name in ("staff-list", "staff-invite", "book-reassign"):
            assert client.get(reverse(name)).status_code == 403


# --- handing a book over ----------------------------------------------------------------


def test_a_book_moves_in_one_step_with_an_assignment_row_per_customer(
    client, admin_user, manager_a, manager_b, book_a
):
    CustomerFactory(account_manager=manager_b, name="B0")
    client.force_login(admin_user)
    page = client.get(reverse("book-reassign"))
    assert "Books today" in page.content.decode()
    done = client.post(
        reverse("book-reassign"),
        {"from_manager": manager_a.pk, "to_manager": manager_b.pk, "reason": "Alice leaves"},
        follow=True,
    )
    assert "3 customers moved from Alice Anders to Bob Berg" in done.content.decode()
    assert Customer.objects.filter(account_manager=manager_b).count() == 4
    assert not Customer.objects.filter(account_manager=manager_a).exists()
    open_rows = AccountManagerAssignment.objects.filter(ended_at__isnull=True)
    assert open_rows.filter(account_manager=manager_b, reason="Alice leaves").count() == 3
    for c in book_a:
        assert c.assignments.filter(ended_at__isnull=True).count() == 1


def test_the_api_hands_a_book_over_and_says_how_many_moved(
    admin_user, manager_a, manager_b, book_a
):
    answer = api_for(admin_user).post(
        "/api/v1/staff/reassign-book/",
        {"from_manager": manager_a.pk, "to_manager": manager_b.pk, "reason": "Holiday"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json() == {"moved": 3}
    assert api_for(manager_a).post("/api/v1/staff/reassign-book/", {}).status_code == 403


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"to_manager": "same"}, "to_manager"),
        ({"to_manager": "admin"}, "to_manager"),
        ({"to_manager": "abc"}, "to_manager"),
        ({"from_manager": "empty", "to_manager": "alice"}, "from_manager"),
    ],
)
def test_a_bad_book_handover_names_the_field(
    client, admin_user, manager_a, manager_b, book_a, change, field
):
    ids = {"same": manager_a.pk, "alice": manager_a.pk, "admin": admin_user.pk}
    ids |= {"empty": manager_b.pk}
    data = {"from_manager": manager_a.pk, "to_manager": manager_b.pk, "reason": "r"}
    data |= {k: ids.get(v, v) for k, v in change.items()}
    client.force_login(admin_user)
    page = client.post(reverse("book-reassign"), data)
    assert page.status_code == 400
    assert field in page.context["form"].errors
    answer = api_for(admin_user).post("/api/v1/staff/reassign-book/", data, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert Customer.objects.filter(account_manager=manager_a).count() == 3


def test_book_reassign_refuses_an_inactive_receiver(admin_user, manager_a, book_a):
    gone = UserFactory(username="gone", role="account_manager", is_active=False)
    with pytest.raises(ValidationFailed) as exc:
        services.book_reassign(
            actor=admin_user, from_manager=manager_a, to_manager=gone, reason="r"
        )
    assert exc.value.field == "to_manager"


def test_a_mail_that_does_not_leave_is_said_and_can_be_sent_again(client, admin_user, monkeypatch):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    client.force_login(admin_user)
    page = client.post(
        reverse("staff-invite"), {"email": "ula@example.com", "role": "admin"}, follow=True
    )
    assert "the mail did not leave" in page.content.decode()
    ula = User.objects.get(username="ula@example.com")
    assert services.staff_invite_is_open(ula)
    monkeypatch.undo()
    client.post(reverse("staff-invite-resend", args=[ula.pk]))
    assert len(mail.outbox) == 1
