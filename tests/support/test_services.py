"""Opening, answering, reopening and rating support requests: routing, the interaction on
the timeline, the complaint's root cause in the defection analysis, mail, attachments."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from customers.errors import NotAllowed, ValidationFailed
from relationships.models import DefectionReason, Interaction
from relationships.selectors import defection_report
from relationships.support import services
from relationships.support.models import Status, SupportMessage, SupportRequest
from relationships.support.selectors import support_queue, support_requests_visible_to
from tests.support.conftest import EXE, PDF, PNG, upload


def open_for(customer, **extra):
    data = {"category": "question", "subject": "Opening hours", "body": "When are you open?"}
    data.update(extra)
    return services.support_request_open(customer=customer, author=customer.user, **data)


def test_a_request_is_an_interaction_routed_to_the_account_manager(
    xena, manager_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        req = open_for(xena)
    assert req.assigned_to == manager_a
    assert req.status == Status.OPEN
    interaction = Interaction.objects.get(pk=req.interaction_id)
    assert (interaction.kind, interaction.channel, interaction.customer) == (
        "support",
        "portal",
        xena,
    )
    assert [m.to for m in mail.outbox] == [[manager_a.email]]
    assert "Opening hours" in mail.outbox[0].subject


def test_without_an_account_manager_it_goes_to_the_queue(orphan, manager_a, admin_user):
    req = open_for(orphan)
    assert req.assigned_to is None
    assert list(support_queue(actor=admin_user, scope="unassigned")) == [req]
    # Managers see the queue and may take it.
    assert list(support_queue(actor=manager_a, scope="unassigned")) == [req]
    services.support_take(request=req, actor=manager_a)
    req.refresh_from_db()
    assert req.assigned_to == manager_a


def test_another_managers_customer_is_not_visible(xena, manager_b):
    req = open_for(xena)
    assert not support_requests_visible_to(manager_b).filter(pk=req.pk).exists()
    with pytest.raises(NotAllowed):
        services.support_staff_reply(request=req, actor=manager_b, body="Hi")


def test_a_complaint_counts_by_root_cause_in_the_defection_analysis(xena, manager_a, admin_user):
    req = open_for(xena, category="complaint", subject="Rude driver")
    assert req.interaction.kind == "complaint"
    rows = {r["name"]: r for r in defection_report(actor=admin_user)["reasons"]}
    assert rows["Not classified"]["complaints"] == 1
    price = DefectionReason.objects.get(code="price")
    services.support_root_cause_set(request=req, actor=manager_a, root_cause=price)
    rows = {r["name"]: r for r in defection_report(actor=admin_user)["reasons"]}
    assert rows["Price"]["complaints"] == 1


def test_only_a_complaint_takes_a_root_cause(xena, manager_a):
    req = open_for(xena)
    price = DefectionReason.objects.get(code="price")
    with pytest.raises(ValidationFailed, match="Only a complaint"):
        services.support_root_cause_set(request=req, actor=manager_a, root_cause=price)


def test_staff_reply_waits_on_the_customer_and_mails_them(
    xena, manager_a, django_capture_on_commit_callbacks
):
    req = open_for(xena)
    with django_capture_on_commit_callbacks(execute=True):
        services.support_staff_reply(request=req, actor=manager_a, body="9 to 5.")
    req.refresh_from_db()
    assert req.status == Status.WAITING
    assert [m.to for m in mail.outbox] == [["xena@example.com"]]
    assert "9 to 5." in mail.outbox[0].body


def test_an_internal_note_sends_nothing_and_changes_no_status(
    xena, manager_a, django_capture_on_commit_callbacks
):
    req = open_for(xena)
    with django_capture_on_commit_callbacks(execute=True):
        services.support_staff_reply(request=req, actor=manager_a, body="VIP", internal=True)
    req.refresh_from_db()
    assert req.status == Status.OPEN
    assert mail.outbox == []


def test_customer_reply_reopens_the_wait_and_resolved_needs_reopening(xena, manager_a):
    req = open_for(xena)
    services.support_staff_reply(request=req, actor=manager_a, body="Which shop?")
    services.support_customer_reply(request=req, author=xena.user, body="Berlin")
    req.refresh_from_db()
    assert req.status == Status.OPEN
    services.support_status_set(request=req, actor=manager_a, status="resolved")
    with pytest.raises(ValidationFailed, match="reopen"):
        services.support_customer_reply(request=req, author=xena.user, body="One more")
    services.support_reopen(request=req, author=xena.user, body="Still closed on Sunday")
    req.refresh_from_db()
    assert (req.status, req.resolved_at) == (Status.OPEN, None)
    assert req.messages.count() == 4


def test_rating_once_and_only_when_resolved(xena, manager_a):
    req = open_for(xena)
    with pytest.raises(ValidationFailed, match="once the request is resolved"):
        services.support_rate(request=req, author=xena.user, rating=5)
    services.support_status_set(request=req, actor=manager_a, status="resolved")
    with pytest.raises(ValidationFailed, match="1 to 5"):
        services.support_rate(request=req, author=xena.user, rating=6)
    services.support_rate(request=req, author=xena.user, rating=4, comment="Quick")
    with pytest.raises(ValidationFailed, match="already rated"):
        services.support_rate(request=req, author=xena.user, rating=5)
    req.refresh_from_db()
    assert (req.rating, req.rating_comment) == (4, "Quick")


def test_another_customer_cannot_act_on_a_request(xena, yuri):
    req = open_for(xena)
    with pytest.raises(NotAllowed):
        services.support_customer_reply(request=req, author=yuri.user, body="Me too")
    with pytest.raises(NotAllowed):
        services.support_request_open(
            customer=xena, author=yuri.user, category="question", subject="x", body="y"
        )


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("shot.png", PNG, "image/png"),
        ("bill.pdf", PDF, "application/pdf"),
        ("notes.txt", "Grüße\n".encode(), "text/plain"),
    ],
)
def test_images_pdfs_and_text_are_accepted_by_content(xena, name, content, mime):
    req = open_for(xena, attachment=upload(name, content))
    message = req.messages.get()
    assert (message.attachment_name, message.attachment_type) == (name, mime)
    assert message.attachment.read() == content


def test_a_program_renamed_to_pdf_is_refused_and_nothing_is_written(xena):
    with pytest.raises(ValidationFailed, match="cannot be attached") as exc:
        open_for(xena, attachment=upload("invoice.pdf", EXE, "application/pdf"))
    assert exc.value.field == "attachment"
    assert not SupportRequest.objects.exists()
    assert not Interaction.objects.exists()


@override_settings(SUPPORT_ATTACHMENT_MAX_BYTES=100)
def test_an_oversized_file_is_refused_with_the_limit(xena):
    with pytest.raises(ValidationFailed, match="at most") as exc:
        open_for(xena, attachment=upload("big.txt", b"a" * 101))
    assert exc.value.field == "attachment"
    assert not SupportMessage.objects.exists()


def test_bad_input_names_the_field(xena):
    for data, field in [
        ({"category": "nonsense"}, "category"),
        ({"subject": "  "}, "subject"),
        ({"body": ""}, "body"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            open_for(xena, **data)
        assert exc.value.field == field
