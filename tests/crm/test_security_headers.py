"""Every answer carries a Content-Security-Policy and a Permissions-Policy; the policy runs only
this site's own files, so an inline or injected script is refused. The few pages that need
more are widened for themselves only (crm/csp.py, docs/security.md)."""

import base64
import hashlib
import re

import pytest
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_a_page_runs_only_the_sites_own_scripts_and_styles(client):
    policy = directives(client.get(reverse("login")))
    # No 'unsafe-inline', 'unsafe-eval', nonce or hash: a <script> or style="" that reaches
    # the page (through a template or a stored value) is refused by the browser.
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "style-src-attr" not in policy


@pytest.mark.parametrize("who", ["anonymous", "customer", "manager", "admin"], ids=lambda who: who)
def test_every_role_gets_both_headers(client, who, admin_user, manager_a, customer_user):
    user = {"customer": customer_user, "manager": manager_a, "admin": admin_user}.get(who)
    if user:
        client.force_login(user)
    response = client.get(reverse("home"), follow=True)
    assert response.status_code == 200
    assert directives(response)["script-src"] == ["'self'"]
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions


def test_the_api_answers_with_the_headers_too(client, manager_a):
    token = Token.objects.create(user=manager_a)
    response = client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert directives(response)["script-src"] == ["'self'"]
    assert "Permissions-Policy" in response.headers


def test_the_browsable_api_allows_style_attributes_and_nothing_more(client, manager_a):
    client.force_login(manager_a)
    response = client.get("/api/v1/customers/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["style-src-attr"] == ["'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert b"<style>" not in response.content  # DRF's code colours would be refused


def test_the_api_docs_load_their_script_from_a_file(client, manager_a):
    client.force_login(manager_a)
    response = client.get(reverse("swagger-ui"))
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]  # Swagger UI's icons
    html = response.content.decode()
    assert not re.search(r"<script>|<style", html)
    script = re.search(r'<script src="([^"]*\?script=[^"]*)"', html)
    assert script, html
    answer = client.get(script.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200
    assert b"SwaggerUIBundle" in answer.content


def test_the_nightly_schedule_form_allows_its_one_inline_script_by_hash(client, admin_user):
    schedule = CrontabSchedule.objects.create(minute="0", hour="2")
    task = PeriodicTask.objects.create(name="night", task="x", crontab=schedule)
    client.force_login(admin_user)
    response = client.get(reverse("admin:django_celery_beat_periodictask_change", args=[task.pk]))
    assert response.status_code == 200
    script = re.search(
        r'<script id="periodic-task-overrides">(.*?)</script>', response.content.decode(), re.S
    )
    assert script
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    # That script, by its exact text, and no other inline one.
    assert directives(response)["script-src"] == ["'self'", f"'sha256-{digest}'"]


def test_other_admin_pages_keep_the_strict_policy(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 200
    assert directives(response)["script-src"] == ["'self'"]


def test_htmx_is_told_to_add_no_style_and_evaluate_no_script(client, manager_a):
    client.force_login(manager_a)
    html = client.get(reverse("customer-list")).content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert config
    assert '"includeIndicatorStyles": false' in config.group(1)
    assert '"allowEval": false' in config.group(1)
