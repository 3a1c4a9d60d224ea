"""Who may reach what: every URL pattern of the project, every role and method, with the status
each role must get.

The matrix is keyed by URL name. `test_every_url_pattern_has_a_row` walks
django.urls.get_resolver() and fails when a pattern has no row (or a row names a URL that
no longer exists), so a new page or endpoint cannot ship without someone deciding who may
use it.

Adding a row, in short:
1. Pick the helper that says who may use it: `staff_page`, `admin_page`, `scoped_page`
   (object pages: the owner's manager and admins, others 404), `staff_api`, `admin_api`,
   `scoped_api`, `everyone`, or write the dict by hand (role -> expectation; for object
   URLs role -> (expectation on A's object, expectation on B's object)).
2. Add `"<url name>": [Case("get", ...), Case("post", data={...}, ...)]` to MATRIX. URLs
   with a `pk` take `obj="<kind>"` (a key of BUILDERS, which makes A's and B's object; add
   BUILDERS when your object is new); other URL arguments go in `kwargs`.
3. Expectations: an int status, LOGIN (302 to the login page), ADMIN_LOGIN, DENIED (the
   API without credentials: 401 with `WWW-Authenticate: Token`), or Redirect("/path/prefix").
Write cases that do not depend on each other's side effects: every role runs in turn on
the same data (anonymous, customer, manager B, manager A, admin).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from customers.models import CustomerMerge, ImportJob, StageChange
from loyalty import services as loyalty_services
from loyalty.models import ConfigChange, Offer, OfferGrant
from relationships.community import services as community_services
from relationships.community.models import (
    Category,
    CategoryAccess,
    Idea,
    IdeaComment,
    PostingBan,
    Review,
)
from relationships.models import (
    CustomerMetrics,
    CutKind,
    Defection,
    DefectionReason,
    ModelFit,
    NightlyRun,
    PeriodKind,
    RelationshipStrategy,
    RetentionSnapshot,
    RiskFlag,
)
from relationships.support.models import SupportMessage, SupportRequest
from tests.factories import (
    CorrectiveActionFactory,
    CorrectivePlanFactory,
    EarningRuleFactory,
    FollowUpFactory,
    InteractionFactory,
    LadderSuggestionFactory,
    MembershipFactory,
    ProgramFactory,
    PurchaseFactory,
    RewardFactory,
    SegmentFactory,
    TierFactory,
    UserFactory,
)

ROLES = ("anonymous", "customer", "manager_b", "manager_a", "admin")


@dataclass(frozen=True)
class Redirect:
    prefix: str


LOGIN = Redirect("/accounts/login/")
ADMIN_LOGIN = Redirect("/admin/login/")
DENIED = "401 with WWW-Authenticate"


@dataclass(frozen=True)
class Case:
    method: str
    expect: dict
    obj: str | None = None
    kwargs: dict = field(default_factory=dict)
    data: dict | None = None
    api: bool = False  # send `data` as JSON
    fresh: bool = False  # new objects for every role: the call changes their state
    headers: dict = field(default_factory=dict)


def everyone(status) -> dict:
    return dict.fromkeys(ROLES, status)


def signed_in(status, *, anonymous=LOGIN) -> dict:
    """Any signed-in person (their own account pages); the anonymous get `anonymous`."""
    return {**everyone(status), "anonymous": anonymous}


def staff_page(ok=200) -> dict:
    return {"anonymous": LOGIN, "customer": 403, "manager_a": ok, "manager_b": ok, "admin": ok}


def admin_page(ok=200) -> dict:
    return {"anonymous": LOGIN, "customer": 403, "manager_a": 403, "manager_b": 403, "admin": ok}


def scoped_page(ok=200) -> dict:
    """An object in someone's book: its manager and admins; another manager gets 404."""
    return {
        "anonymous": (LOGIN, LOGIN),
        "customer": (403, 403),
        "manager_a": (ok, 404),
        "manager_b": (404, ok),
        "admin": (ok, ok),
    }


def shared_page(expect: dict) -> dict:
    """An object nobody owns (a segment, an import): same answer for both objects."""
    return {role: (value, value) for role, value in expect.items()}


def user_page(ok=200) -> dict:
    """Any logged-in user (what they see is scoped by the selectors)."""
    return {"anonymous": LOGIN, "customer": ok, "manager_a": ok, "manager_b": ok, "admin": ok}


def customer_page(ok=200) -> dict:
    """Pages where a customer writes as themselves: staff are refused, and so is the
    matrix's customer login, which has no customer record."""
    return {"anonymous": LOGIN, "customer": 403, "manager_a": 403, "manager_b": 403, "admin": 403}


def portal_page() -> dict:
    """The customer portal: staff are refused; the matrix's customer login has no customer
    record, so there is nothing of theirs (404). tests/portal/ checks a linked customer."""
    return {"anonymous": LOGIN, "customer": 404, "manager_a": 403, "manager_b": 403, "admin": 403}


def staff_api(ok=200) -> dict:
    return {"anonymous": DENIED, "customer": 403, "manager_a": ok, "manager_b": ok, "admin": ok}


def admin_api(ok=200) -> dict:
    return {"anonymous": DENIED, "customer": 403, "manager_a": 403, "manager_b": 403, "admin": ok}


def scoped_api(ok=200) -> dict:
    return {
        "anonymous": (DENIED, DENIED),
        "customer": (403, 403),
        "manager_a": (ok, 404),
        "manager_b": (404, ok),
        "admin": (ok, ok),
    }


def user_api(ok=200) -> dict:
    """Any logged-in user; what they see is scoped by the selectors (a customer: their own)."""
    return {"anonymous": DENIED, "customer": ok, "manager_a": ok, "manager_b": ok, "admin": ok}


def member_scoped_api(ok=200) -> dict:
    """Like scoped_api, but customers are let in and find only their own rows: others 404."""
    return {**scoped_api(ok), "customer": (404, 404)}


HTMX = {"HTTP_HX_REQUEST": "true"}

MATRIX: dict[str, list[Case]] = {
    # --- Accounts (django-allauth; `login`/`logout` are our names for its pages) ---
    "login": [Case("get", signed_in(Redirect("/"), anonymous=200))],
    "account_login": [Case("get", signed_in(Redirect("/"), anonymous=200))],
    "favicon": [Case("get", everyone(Redirect("/static/favicon")))],
    "logout": [Case("post", everyone(LOGIN))],
    "account_logout": [Case("post", everyone(LOGIN))],
    "account_signup": [Case("get", signed_in(Redirect("/"), anonymous=200))],
    "account_change_password": [
        Case("get", signed_in(200)),
        Case("post", signed_in(200), data={}),
    ],
    "account_set_password": [Case("get", signed_in(Redirect("/accounts/password/change/")))],
    "account_email": [Case("get", signed_in(200))],
    "account_email_verification_sent": [Case("get", everyone(200))],
    "account_confirm_email": [Case("get", everyone(200), kwargs={"key": "not-a-key"})],
    "account_inactive": [Case("get", everyone(200))],
    "account_reauthenticate": [Case("get", signed_in(200))],
    "account_reset_password": [Case("get", everyone(200))],
    "account_reset_password_done": [Case("get", everyone(200))],
    "account_reset_password_from_key": [
        Case("get", everyone(200), kwargs={"uidb36": "1", "key": "not-a-key"})
    ],
    "account_reset_password_from_key_done": [Case("get", everyone(200))],
    "account_confirm_login_code": [Case("get", signed_in(Redirect("/")))],
    "account_request_reauthentication_code": [
        Case("get", signed_in(Redirect("/accounts/reauthenticate/")))
    ],
    "account_confirm_reauthentication_code": [
        Case("get", signed_in(Redirect("/accounts/reauthenticate/code/")))
    ],
    "mfa_index": [Case("get", signed_in(200))],
    "mfa_authenticate": [Case("get", signed_in(Redirect("/")))],
    "mfa_reauthenticate": [Case("get", signed_in(Redirect("/accounts/reauthenticate/")))],
    "mfa_activate_totp": [Case("get", signed_in(Redirect("/accounts/reauthenticate/")))],
    "mfa_deactivate_totp": [Case("get", signed_in(404))],
    "mfa_view_recovery_codes": [Case("get", signed_in(404))],
    "mfa_generate_recovery_codes": [Case("get", signed_in(Redirect("/accounts/reauthenticate/")))],
    "mfa_download_recovery_codes": [Case("get", signed_in(404))],
    # --- The Django admin: only admins (its sub-URLs are excluded below) ---
    "admin:index": [Case("get", {**everyone(ADMIN_LOGIN), "admin": 200})],
    # --- Staff pages ---
    "home": [
        Case(
            "get",
            {**staff_page(Redirect("/customers/")), "customer": 200},  # a customer's own page
        )
    ],
    # --- The customer portal (tests/portal/ has the isolation tests) ---
    "portal-profile": [Case("get", portal_page()), Case("post", portal_page(), data={})],
    "portal-preferences": [Case("post", portal_page(), data={})],
    "portal-purchases": [Case("get", portal_page())],
    "portal-deletion": [Case("get", portal_page()), Case("post", portal_page(), data={})],
    "portal-deletion-withdraw": [Case("post", portal_page(), data={})],
    "portal-export": [Case("get", portal_page())],
    "portal-loyalty": [Case("get", portal_page())],
    "portal-movements": [Case("get", shared_page(portal_page()), obj="loyalty-membership")],
    "portal-loyalty-join": [
        Case("post", shared_page(portal_page()), obj="loyalty-program", data={})
    ],
    "portal-reward-redeem": [
        Case("get", shared_page(portal_page()), obj="loyalty-reward"),
        Case("post", shared_page(portal_page()), obj="loyalty-reward", data={}),
    ],
    "portal-redemption": [Case("get", shared_page(portal_page()), obj="loyalty-redemption")],
    "portal-redemption-cancel": [
        Case("post", shared_page(portal_page()), obj="loyalty-redemption", data={})
    ],
    # Support requests (relationships.support; tests/support/ checks a linked customer)
    "portal-support": [Case("get", portal_page()), Case("post", portal_page(), data={})],
    "portal-support-detail": [Case("get", shared_page(portal_page()), obj="support-request")],
    "portal-support-reply": [
        Case("post", shared_page(portal_page()), obj="support-request", data={})
    ],
    "portal-support-reopen": [
        Case("post", shared_page(portal_page()), obj="support-request", data={})
    ],
    "portal-support-rate": [
        Case("post", shared_page(portal_page()), obj="support-request", data={})
    ],
    "portal-support-attachment": [
        Case(
            "get", shared_page(portal_page()), obj="support-request", kwargs={"message_pk": 999999}
        )
    ],
    "support-queue": [Case("get", staff_page())],
    "support-detail": [Case("get", scoped_page(), obj="support-request")],
    "support-reply": [Case("post", scoped_page(400), obj="support-request", data={})],
    "support-status": [Case("post", scoped_page(400), obj="support-request", data={})],
    "support-root-cause": [Case("post", scoped_page(400), obj="support-request", data={})],
    "support-take": [
        Case("post", scoped_page(Redirect("/support/")), obj="support-request", data={}, fresh=True)
    ],
    "support-attachment": [
        # No such message on either request: the wall is the point here, tests/support/
        # serves real files.
        Case(
            "get",
            {**shared_page(staff_page(404)), "customer": (403, 403)},
            obj="support-request",
            kwargs={"message_pk": 999999},
        )
    ],
    "api-my-support-request-list": [
        Case("get", {**staff_api(403), "customer": 404}),
        Case("post", {**staff_api(403), "customer": 404}, data={}, api=True),
    ],
    "api-my-support-request-detail": [
        Case("get", shared_page({**staff_api(403), "customer": 404}), obj="support-request")
    ],
    **{
        f"api-my-support-request-{verb}": [
            Case(
                "post",
                shared_page({**staff_api(403), "customer": 404}),
                obj="support-request",
                data={},
                api=True,
            )
        ]
        for verb in ("reply", "reopen", "rate")
    },
    "api-my-support-request-attachment": [
        Case(
            "get",
            shared_page({**staff_api(403), "customer": 404}),
            obj="support-request",
            kwargs={"message_pk": 999999},
        )
    ],
    "api-support-request-attachment": [
        Case(
            "get",
            {**shared_page(staff_api(404)), "customer": (403, 403)},
            obj="support-request",
            kwargs={"message_pk": 999999},
        )
    ],
    "api-support-request-list": [Case("get", staff_api())],
    "api-support-request-detail": [Case("get", scoped_api(), obj="support-request")],
    "api-support-request-reply": [
        Case("post", scoped_api(400), obj="support-request", data={}, api=True)
    ],
    "api-support-request-status": [
        Case("post", scoped_api(400), obj="support-request", data={}, api=True)
    ],
    "api-support-request-take": [
        Case("post", scoped_api(), obj="support-request", data={}, api=True, fresh=True)
    ],
    "customer-list": [Case("get", staff_page())],
    "customer-export": [Case("get", staff_page())],
    "customer-create": [Case("get", staff_page()), Case("post", staff_page(200), data={})],
    "customer-detail": [Case("get", scoped_page(), obj="customer")],
    "customer-timeline": [Case("get", scoped_page(), obj="customer", headers=HTMX)],
    # The audit log names who did what across the book: admins only, managers too get 403.
    "customer-changes": [
        Case("get", shared_page(admin_page()), obj="customer"),
        Case("get", shared_page(admin_page()), obj="customer", headers=HTMX),
    ],
    "customer-edit": [
        Case("get", scoped_page(), obj="customer"),
        Case("post", scoped_page(200), obj="customer", data={}),
    ],
    # Inviting a customer to the portal: a login and a mail (customers.access)
    "customer-portal-invite": [
        Case(
            "post",
            scoped_page(Redirect("/customers/")),
            obj="customer",
            fresh=True,
        )
    ],
    "api-customer-portal-invite": [
        Case("post", scoped_api(200), obj="customer", api=True, fresh=True)
    ],
    "customer-reassign": [
        Case(
            "get",
            {**scoped_page(), "manager_a": (403, 404), "manager_b": (404, 403)},
            obj="customer",
        ),
        Case(
            "post",
            {**scoped_page(), "manager_a": (403, 404), "manager_b": (404, 403)},
            obj="customer",
            data={},
        ),
    ],
    # Merging two customers: admins only, from the customer's page.
    "customer-merge": [
        Case(
            "get",
            {**scoped_page(), "manager_a": (403, 403), "manager_b": (403, 403)},
            obj="customer",
        ),
        Case(
            "post",
            {**scoped_page(), "manager_a": (403, 403), "manager_b": (403, 403)},
            obj="customer",
            data={},
        ),
    ],
    "purchase-create": [
        Case("get", scoped_page(), obj="customer"),
        Case("post", scoped_page(200), obj="customer", data={}),
    ],
    "interaction-log": [
        Case("get", scoped_page(), obj="customer"),
        Case("post", scoped_page(200), obj="customer", data={}),
    ],
    "complaint-root-cause": [
        Case("get", scoped_page(), obj="interaction"),
        Case("post", scoped_page(200), obj="interaction", data={}),
    ],
    "customer-mark-defected": [
        Case("get", scoped_page(), obj="customer"),
        Case("post", scoped_page(200), obj="customer", data={}),
    ],
    "follow-up-list": [Case("get", staff_page())],
    "follow-up-pick-customer": [Case("get", staff_page())],
    "follow-up-add": [
        Case("get", scoped_page(), obj="customer"),
        Case("post", scoped_page(200), obj="customer", data={}),
    ],
    "follow-up-done": [
        Case("get", scoped_page(), obj="follow-up"),
        Case("post", scoped_page(Redirect("/follow-ups/")), obj="follow-up", data={}),
    ],
    "follow-up-reschedule": [
        Case("get", scoped_page(), obj="follow-up"),
        Case("post", scoped_page(200), obj="follow-up", data={}),
    ],
    "follow-up-reassign": [
        Case("get", shared_page(admin_page()), obj="follow-up"),
        Case("post", shared_page(admin_page(200)), obj="follow-up", data={}),
    ],
    # --- Imports: admins only ---
    "import-list": [Case("get", admin_page())],
    "import-create": [Case("get", admin_page()), Case("post", admin_page(200), data={})],
    "import-template": [Case("get", admin_page(), kwargs={"kind": "customers"})],
    "import-detail": [Case("get", shared_page(admin_page()), obj="import")],
    "import-progress": [Case("get", shared_page(admin_page()), obj="import")],
    "import-send": [
        Case("post", shared_page(admin_page(Redirect("/imports/"))), obj="import", data={})
    ],
    "import-confirm": [
        Case("post", shared_page(admin_page(Redirect("/imports/"))), obj="import", data={})
    ],
    # --- Settings: users and roles (admins), segments and strategies (staff read) ---
    "staff-list": [Case("get", admin_page())],
    "staff-invite": [Case("get", admin_page()), Case("post", admin_page(200), data={})],
    "staff-invite-resend": [
        Case("post", shared_page(admin_page(Redirect("/settings/users/"))), obj="staff", data={})
    ],
    "staff-deactivate": [
        Case("get", shared_page(admin_page()), obj="staff"),
        # Both managers hold a customer: the admin is told to hand the book over first.
        Case("post", shared_page(admin_page(409)), obj="staff", data={}),
    ],
    "book-reassign": [Case("get", admin_page()), Case("post", admin_page(200), data={})],
    "staff-invite-accept": [
        Case("get", everyone(200), kwargs={"uidb64": "MQ", "token": "not-a-token"})
    ],
    "segment-list": [Case("get", staff_page())],
    "segment-create": [Case("get", admin_page()), Case("post", admin_page(200), data={})],
    "segment-detail": [Case("get", shared_page(staff_page()), obj="segment")],
    "segment-edit": [
        Case("get", shared_page(admin_page()), obj="segment"),
        Case("post", shared_page(admin_page(200)), obj="segment", data={}),
    ],
    # --- API v1 ---
    "api-root": [Case("get", staff_api())],
    # Anyone may ask for a token; without valid credentials the answer is 400.
    "api-token": [Case("get", everyone(405)), Case("post", everyone(400), data={}, api=True)],
    "api-customer-list": [
        Case("get", staff_api()),
        Case("post", staff_api(400), data={}, api=True),
    ],
    "api-customer-detail": [
        Case("get", scoped_api(), obj="customer"),
        Case("patch", scoped_api(), obj="customer", data={}, api=True),
        Case(
            "delete",
            {**scoped_api(405), "manager_a": (405, 405), "manager_b": (405, 405)},
            obj="customer",
        ),
    ],
    "api-customer-reassign": [
        Case(
            "post",
            {**scoped_api(400), "manager_a": (403, 403), "manager_b": (403, 403)},
            obj="customer",
            data={},
            api=True,
        )
    ],
    "api-segment-list": [
        Case("get", staff_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-segment-detail": [
        Case("get", shared_page(staff_api()), obj="segment"),
        Case("patch", shared_page(admin_api()), obj="segment", data={}, api=True),
        # Both segments hold a customer, so even the admin's delete is refused.
        Case("delete", shared_page(admin_api(409)), obj="segment"),
    ],
    "api-staff-list": [
        Case("get", admin_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-staff-detail": [Case("get", shared_page(admin_api()), obj="staff")],
    "api-staff-deactivate": [
        Case("post", shared_page(admin_api(409)), obj="staff", data={}, api=True)
    ],
    "api-staff-send-invitation": [
        Case("post", shared_page(admin_api(409)), obj="staff", data={}, api=True)
    ],
    "api-staff-reassign-book": [Case("post", admin_api(400), data={}, api=True)],
    "api-customer-merge-list": [
        Case("get", admin_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-customer-merge-detail": [Case("get", shared_page(admin_api()), obj="customer-merge")],
    "api-customer-merge-preview": [Case("get", admin_api(400))],
    "api-segment-overview-list": [Case("get", staff_api())],
    "api-segment-overview-detail": [Case("get", shared_page(staff_api()), obj="segment")],
    "api-purchase-list": [
        Case("get", staff_api()),
        Case("post", staff_api(400), data={}, api=True),
    ],
    "api-purchase-detail": [Case("get", scoped_api(), obj="purchase")],
    "api-assignment-list": [Case("get", staff_api())],
    "api-assignment-detail": [Case("get", scoped_api(), obj="assignment")],
    "api-interaction-list": [
        Case("get", staff_api()),
        Case("post", staff_api(400), data={}, api=True),
    ],
    "api-interaction-detail": [Case("get", scoped_api(), obj="interaction")],
    "api-interaction-complete-follow-up": [
        Case("post", scoped_api(), obj="interaction", data={}, api=True)
    ],
    "api-follow-up-list": [
        Case("get", staff_api()),
        Case("post", staff_api(400), data={}, api=True),
    ],
    "api-follow-up-detail": [Case("get", scoped_api(), obj="follow-up")],
    "api-follow-up-reschedule": [Case("post", scoped_api(400), obj="follow-up", data={}, api=True)],
    "api-follow-up-reassign": [
        Case(
            "post",
            {role: (value, value) for role, value in admin_api(400).items()},
            obj="follow-up",
            data={},
            api=True,
        )
    ],
    "api-follow-up-complete": [Case("post", scoped_api(), obj="follow-up", data={}, api=True)],
    "api-interaction-root-cause": [
        Case("post", scoped_api(400), obj="interaction", data={}, api=True)
    ],
    # --- Analytics pages and API (relationships) ---
    "at-risk": [Case("get", staff_page())],
    "analytics": [Case("get", staff_page())],
    "api-risk-flag-list": [Case("get", staff_api())],
    "api-risk-flag-detail": [Case("get", scoped_api(), obj="risk-flag")],
    "api-risk-flag-handle": [Case("post", scoped_api(400), obj="risk-flag", data={}, api=True)],
    "risk-flag-handle": [
        Case("get", scoped_page(), obj="risk-flag"),
        Case("post", scoped_page(200), obj="risk-flag", data={}),
    ],
    "api-customer-metrics-list": [Case("get", staff_api())],
    "api-customer-metrics-detail": [Case("get", scoped_api(), obj="customer-metrics")],
    "api-retention-snapshot-list": [Case("get", staff_api())],
    "api-retention-snapshot-detail": [Case("get", scoped_api(), obj="retention-snapshot")],
    "api-model-fit-list": [Case("get", staff_api())],
    "api-model-fit-detail": [Case("get", shared_page(staff_api()), obj="model-fit")],
    "api-nightly-run-list": [Case("get", admin_api())],
    "api-nightly-run-detail": [Case("get", shared_page(admin_api()), obj="nightly-run")],
    "api-relationship-strategy-list": [
        Case("get", staff_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-relationship-strategy-detail": [
        Case("get", shared_page(staff_api()), obj="relationship-strategy"),
        Case("patch", shared_page(admin_api()), obj="relationship-strategy", data={}, api=True),
    ],
    "api-defection-reason-list": [Case("get", staff_api())],
    "api-defection-reason-detail": [Case("get", shared_page(staff_api()), obj="defection-reason")],
    "api-defection-list": [
        Case("get", staff_api()),
        Case("post", staff_api(400), data={}, api=True),
    ],
    "api-defection-detail": [Case("get", scoped_api(), obj="defection")],
    # --- Ladder of loyalty, defection report, corrective plans (relationships) ---
    "ladder": [Case("get", staff_page())],
    "ladder-suggestion-decide": [
        Case("post", scoped_page(Redirect("/ladder/")), obj="ladder-suggestion", data={}),
    ],
    "customer-ladder": [
        Case("get", scoped_page(), obj="customer"),
        Case("post", scoped_page(200), obj="customer", data={}),
    ],
    "defection-report": [Case("get", staff_page())],
    "defection-list": [Case("get", staff_page())],
    "complaint-list": [Case("get", staff_page())],
    "plan-list": [Case("get", staff_page())],
    "plan-create": [Case("get", admin_page()), Case("post", admin_page(200), data={})],
    "plan-detail": [Case("get", shared_page(staff_page()), obj="corrective-plan")],
    "plan-edit": [
        Case("get", shared_page(admin_page()), obj="corrective-plan"),
        Case("post", shared_page(admin_page(200)), obj="corrective-plan", data={}),
    ],
    "plan-action-add": [
        Case("post", shared_page(admin_page(400)), obj="corrective-plan", data={}),
    ],
    "plan-action-done": [
        # Everyone on staff is sent back to the plan; only the owner's (or an admin's) click counts.
        Case(
            "post", shared_page(staff_page(Redirect("/plans/"))), obj="corrective-action", data={}
        ),
    ],
    "api-ladder-suggestion-list": [Case("get", staff_api())],
    "api-ladder-suggestion-detail": [Case("get", scoped_api(), obj="ladder-suggestion")],
    "api-ladder-suggestion-decide": [
        Case("post", scoped_api(400), obj="ladder-suggestion", data={}, api=True),
    ],
    "api-ladder-move-list": [
        Case("get", staff_api()),
        Case("post", staff_api(400), data={}, api=True),
    ],
    "api-ladder-move-detail": [Case("get", scoped_api(), obj="stage-change")],
    "api-defection-report-list": [Case("get", staff_api())],
    "api-corrective-plan-list": [
        Case("get", staff_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-corrective-plan-detail": [
        Case("get", shared_page(staff_api()), obj="corrective-plan"),
        Case("patch", shared_page(admin_api()), obj="corrective-plan", data={}, api=True),
    ],
    "api-corrective-plan-effect": [Case("get", shared_page(staff_api()), obj="corrective-plan")],
    "api-corrective-action-list": [
        Case("get", staff_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-corrective-action-detail": [
        Case("get", shared_page(staff_api()), obj="corrective-action")
    ],
    "api-corrective-action-done": [
        Case(
            "post",
            {
                "anonymous": (DENIED, DENIED),
                "customer": (403, 403),
                "manager_a": (200, 403),  # A's action is owned by manager A
                "manager_b": (403, 200),
                "admin": (200, 200),
            },
            obj="corrective-action",
            data={},
            api=True,
        )
    ],
    # --- Loyalty pages: programs are admin pages; adjustments by the customer's staff ---
    "loyalty-program-list": [Case("get", admin_page())],
    # The program builder: admins only; managers read the program through the API.
    "loyalty-program-create": [
        Case("get", admin_page()),
        Case("post", admin_page(400), data={}),
    ],
    "loyalty-program-edit": [
        Case("get", shared_page(admin_page()), obj="loyalty-program"),
        Case("post", shared_page(admin_page(400)), obj="loyalty-program", data={}),
    ],
    "loyalty-part-create": [
        Case("get", shared_page(admin_page()), obj="loyalty-program", kwargs={"part": "tier"}),
        Case(
            "post",
            shared_page(admin_page(400)),
            obj="loyalty-program",
            kwargs={"part": "reward"},
            data={},
        ),
    ],
    "loyalty-part-edit": [
        Case(
            "get",
            shared_page(admin_page(404)),  # no tier 999999 in the program
            obj="loyalty-program",
            kwargs={"part": "tier", "item": 999999},
        )
    ],
    "loyalty-program-preview": [Case("get", shared_page(admin_page()), obj="loyalty-program")],
    "loyalty-change-cancel": [
        Case(
            "post",
            shared_page(admin_page(404)),
            obj="loyalty-program",
            kwargs={"change": 999999},
            data={},
        )
    ],
    "loyalty-program": [Case("get", shared_page(admin_page()), obj="loyalty-program")],
    "loyalty-offer-give": [
        Case("post", scoped_page(Redirect("/customers/")), obj="customer", data={})
    ],
    "loyalty-membership-adjust": [
        Case(
            "post",
            {
                **scoped_page(Redirect("/customers/")),
                "manager_a": (Redirect("/customers/"), 404),
                "manager_b": (404, Redirect("/customers/")),
            },
            obj="loyalty-membership",
            data={},
        )
    ],
    # --- Loyalty API: configuration is read by staff, written by admins ---
    **{
        f"api-loyalty-{kind}-list": [
            Case("get", staff_api()),
            Case("post", admin_api(400), data={}, api=True),
        ]
        for kind in ("program", "tier", "rule", "reward")
    },
    **{
        f"api-loyalty-{kind}-detail": [
            Case("get", shared_page(staff_api()), obj=f"loyalty-{kind}"),
            Case("patch", shared_page(admin_api()), obj=f"loyalty-{kind}", data={}, api=True),
        ]
        for kind in ("program", "tier", "rule", "reward")
    },
    # Offers: customers list the offers aimed at them (none here) and redeem them.
    "api-loyalty-offer-list": [
        Case("get", user_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-loyalty-offer-detail": [
        Case("get", shared_page({**user_api(), "customer": 404}), obj="loyalty-offer"),
        Case("patch", shared_page(admin_api()), obj="loyalty-offer", data={}, api=True),
    ],
    "api-loyalty-offer-redeem": [
        Case(
            "post",
            shared_page({**user_api(400), "customer": 404}),
            obj="loyalty-offer",
            data={},
            api=True,
        )
    ],
    # Handing an offer: staff, to customers of their book; the counts: admins.
    "api-loyalty-offer-give": [
        Case("post", shared_page(staff_api(400)), obj="loyalty-offer", data={}, api=True)
    ],
    "api-loyalty-offer-for-customer": [Case("get", staff_api(400))],
    "api-loyalty-offer-stats": [Case("get", shared_page(admin_api()), obj="loyalty-offer")],
    # The builder's changes (staff read, admins schedule and cancel), preview and forecast.
    "api-loyalty-change-list": [
        Case("get", staff_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-loyalty-change-detail": [Case("get", shared_page(staff_api()), obj="loyalty-change")],
    "api-loyalty-change-cancel": [
        # the pair's changes are applied ones: an admin is told so (409)
        Case("post", shared_page(admin_api(409)), obj="loyalty-change", data={}, api=True)
    ],
    "api-loyalty-preview-detail": [
        Case("get", shared_page(admin_api(400)), obj="loyalty-program")  # no customer given
    ],
    "api-points-forecast-detail": [Case("get", shared_page(admin_api()), obj="loyalty-program")],
    "api-loyalty-offer-grant-list": [Case("get", user_api())],
    "api-loyalty-offer-grant-detail": [Case("get", member_scoped_api(), obj="loyalty-offer-grant")],
    # Memberships, points and redemptions: the customer's staff, admins, and the customer.
    "api-loyalty-membership-list": [
        Case("get", user_api()),
        Case("post", user_api(400), data={}, api=True),
    ],
    "api-loyalty-membership-detail": [Case("get", member_scoped_api(), obj="loyalty-membership")],
    "api-loyalty-membership-ledger": [Case("get", member_scoped_api(), obj="loyalty-membership")],
    "api-loyalty-membership-rewards": [Case("get", member_scoped_api(), obj="loyalty-membership")],
    "api-loyalty-membership-adjust": [
        Case("post", member_scoped_api(400), obj="loyalty-membership", data={}, api=True)
    ],
    "api-loyalty-membership-redeem": [
        Case("post", member_scoped_api(400), obj="loyalty-membership", data={}, api=True)
    ],
    "api-loyalty-ledger-list": [Case("get", user_api())],
    "api-loyalty-ledger-detail": [Case("get", member_scoped_api(), obj="loyalty-ledger")],
    "api-loyalty-redemption-list": [Case("get", user_api())],
    "api-loyalty-redemption-detail": [Case("get", member_scoped_api(), obj="loyalty-redemption")],
    "api-loyalty-redemption-cancel": [
        Case("post", member_scoped_api(), obj="loyalty-redemption", data={}, api=True, fresh=True)
    ],
    "api-loyalty-redemption-fulfil": [
        Case("post", member_scoped_api(), obj="loyalty-redemption", data={}, api=True, fresh=True)
    ],
    "api-loyalty-event-list": [
        Case("get", staff_api(405)),
        Case("post", staff_api(400), data={}, api=True),
    ],
    "api-loyalty-purchase-reversal-list": [
        Case("get", staff_api(405)),
        Case("post", staff_api(400), data={}, api=True),
    ],
    # --- Community forums: reading is scoped by the selectors (public categories for
    # everyone); writing needs a login; the services refuse the rest. The matrix's customer
    # has no customer record, so they read public categories and cannot post.
    "community:index": [Case("get", everyone(200))],
    "community:search": [Case("get", everyone(200))],
    "community:notifications": [Case("get", {**everyone(200), "anonymous": LOGIN})],
    # A category is found by its slug (none here): unknown to everyone alike.
    "community:category": [Case("get", everyone(404), kwargs={"slug": "matrix"})],
    "community:topic-new": [
        Case("get", {**everyone(404), "anonymous": LOGIN}, kwargs={"slug": "matrix"})
    ],
    "community:topic": [Case("get", shared_page(everyone(200)), obj="community-topic")],
    "community:topic-reply": [
        Case(
            "post",
            shared_page({**everyone(400), "anonymous": LOGIN}),
            obj="community-topic",
            data={},
        )
    ],
    "community:topic-moderate": [
        Case(
            "post",
            shared_page({**everyone(Redirect("/community/t/")), "anonymous": LOGIN}),
            obj="community-topic",
            data={},
        )
    ],
    "community:topic-follow": [
        Case(
            "post",
            shared_page({**everyone(Redirect("/community/t/")), "anonymous": LOGIN}),
            obj="community-topic",
            data={},
        )
    ],
    "community:post-edit": [
        Case("get", shared_page({**admin_page(), "anonymous": LOGIN}), obj="community-post"),
        Case(
            "post",
            shared_page({**admin_page(400), "anonymous": LOGIN}),
            obj="community-post",
            data={},
        ),
    ],
    "community:post-history": [Case("get", shared_page(everyone(200)), obj="community-post")],
    "community:post-action": [
        Case(
            "post",
            shared_page({**everyone(Redirect("/community/t/")), "anonymous": LOGIN}),
            obj="community-post",
            kwargs={"action": "like"},
            data={},
        )
    ],
    "community:moderation-queue": [Case("get", admin_page())],
    "community:moderation-log": [Case("get", admin_page())],
    "community:bans": [Case("get", admin_page()), Case("post", admin_page(400), data={})],
    "community:ban-lift": [
        Case(
            "post",
            shared_page(admin_page(Redirect("/community/moderation/bans/"))),
            obj="community-ban",
            data={},
        )
    ],
    "api-community-category-list": [Case("get", everyone(200))],
    "api-community-category-detail": [
        Case("get", shared_page(everyone(200)), obj="community-category")
    ],
    "api-community-topic-list": [
        Case("get", everyone(200)),
        Case("post", {**everyone(400), "anonymous": DENIED}, data={}, api=True),
    ],
    "api-community-topic-detail": [Case("get", shared_page(everyone(200)), obj="community-topic")],
    **{
        f"api-community-topic-{name}": [
            Case(
                "post",
                shared_page({**everyone(400), "anonymous": DENIED}),
                obj="community-topic",
                data={},
                api=True,
            )
        ]
        for name in ("moderate", "move", "read")
    },
    "api-community-topic-subscription": [
        Case(
            "post",
            shared_page({**everyone(204), "anonymous": DENIED}),
            obj="community-topic",
            data={},
            api=True,
        )
    ],
    "api-community-topic-accepted-answer": [
        Case(
            "delete",
            shared_page({**everyone(409), "anonymous": DENIED, "customer": 403}),
            obj="community-topic",
        )
    ],
    "api-community-post-list": [
        Case("get", everyone(200)),
        Case("post", {**everyone(400), "anonymous": DENIED}, data={}, api=True),
    ],
    "api-community-post-detail": [
        Case("get", shared_page(everyone(200)), obj="community-post"),
        Case(
            "patch",
            shared_page({**everyone(400), "anonymous": DENIED}),
            obj="community-post",
            data={},
            api=True,
        ),
    ],
    "api-community-post-revisions": [Case("get", shared_page(everyone(200)), obj="community-post")],
    "api-community-post-like": [
        # The admin wrote the posts: liking your own is refused.
        Case(
            "post",
            shared_page({**everyone(200), "anonymous": DENIED, "admin": 400}),
            obj="community-post",
            data={},
            api=True,
        )
    ],
    "api-community-post-accept": [
        # A discussion takes no accepted answer; a customer may not even ask.
        Case(
            "post",
            shared_page({**everyone(400), "anonymous": DENIED, "customer": 403}),
            obj="community-post",
            data={},
            api=True,
        )
    ],
    "api-community-post-report": [
        Case(
            "post",
            shared_page({**everyone(400), "anonymous": DENIED}),
            obj="community-post",
            data={},
            api=True,
        )
    ],
    **{
        f"api-community-post-{name}": [
            Case(
                "post",
                shared_page({**admin_api(expected), "customer": 403}),
                obj="community-post",
                data={},
                api=True,
            )
        ]
        for name, expected in (
            ("hide", 400),
            ("restore", 409),
            ("reject", 409),
            ("approve", 409),
            ("dismiss-reports", 409),
        )
    },
    "api-community-queue-list": [Case("get", admin_api())],
    "api-community-ban-list": [
        Case("get", admin_api()),
        Case("post", admin_api(400), data={}, api=True),
    ],
    "api-community-ban-lift": [
        Case("post", shared_page(admin_api()), obj="community-ban", data={}, api=True)
    ],
    "api-community-notification-list": [Case("get", user_api())],
    "api-community-notification-mark-read": [Case("post", user_api(204), data={}, api=True)],
    # --- Co-creation (community): ideas are public to logged-in users; customers write as
    # themselves (the matrix's customer login has no customer record, so it may not write);
    # staff triage and moderate. Pending reviews are seen by staff and their author only.
    "community:idea-list": [Case("get", {**user_page(), "anonymous": LOGIN})],
    "community:idea-create": [
        Case("get", customer_page()),
        Case("post", customer_page(), data={}),
    ],
    "community:idea-detail": [Case("get", shared_page(user_page()), obj="idea")],
    "community:idea-vote": [Case("post", shared_page(customer_page()), obj="idea", data={})],
    "community:idea-comment": [
        Case("post", shared_page({**staff_page(200), "customer": 403}), obj="idea", data={})
    ],
    "community:idea-status": [Case("post", shared_page(staff_page(200)), obj="idea", data={})],
    "community:idea-moderate": [Case("post", shared_page(staff_page(200)), obj="idea", data={})],
    "community:idea-comment-moderate": [
        Case(
            "post",
            shared_page(staff_page(Redirect("/community/ideas/"))),
            obj="idea-comment",
            data={},
        )
    ],
    "community:review-list": [Case("get", user_page())],
    "community:review-create": [
        Case("get", customer_page()),
        Case("post", customer_page(), data={}),
    ],
    "community:review-moderate": [
        Case(
            "post",
            shared_page(staff_page(Redirect("/community/staff/reviews/"))),
            obj="review",
            data={},
        )
    ],
    "community:idea-triage": [Case("get", staff_page())],
    "community:review-queue": [Case("get", staff_page())],
    "community:community-active": [Case("get", staff_page())],
    "api-idea-list": [Case("get", user_api()), Case("post", user_api(400), data={}, api=True)],
    "api-idea-detail": [Case("get", shared_page(user_api()), obj="idea")],
    "api-idea-vote": [
        Case("post", shared_page(user_api(403)), obj="idea", data={}, api=True),
        Case("delete", shared_page(user_api(403)), obj="idea"),
    ],
    "api-idea-set-status": [
        Case("post", shared_page({**staff_api(400)}), obj="idea", data={}, api=True)
    ],
    "api-idea-moderate": [
        Case("post", shared_page({**staff_api(400)}), obj="idea", data={}, api=True)
    ],
    "api-idea-comment-list": [
        Case("get", user_api()),
        Case("post", user_api(400), data={}, api=True),
    ],
    "api-idea-comment-detail": [Case("get", shared_page(user_api()), obj="idea-comment")],
    "api-idea-comment-moderate": [
        Case("post", shared_page(staff_api(400)), obj="idea-comment", data={}, api=True)
    ],
    "api-review-list": [Case("get", user_api()), Case("post", user_api(400), data={}, api=True)],
    "api-review-detail": [Case("get", shared_page({**user_api(), "customer": 404}), obj="review")],
    "api-review-approve": [
        Case(
            "post",
            shared_page({**staff_api(), "customer": 403}),
            obj="review",
            data={},
            api=True,
            fresh=True,
        )
    ],
    "api-review-reject": [
        Case(
            "post",
            shared_page({**staff_api(400), "customer": 403}),
            obj="review",
            data={},
            api=True,
        )
    ],
    # The schema and its viewer are public: they describe the code, which is open source,
    # and hold no data.
    "api-schema": [Case("get", everyone(200))],
    "swagger-ui": [Case("get", everyone(200))],
}


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name


def _excluded(route: str) -> bool:
    # The Django admin's own sub-URLs all go through AdminSite.admin_view, which admits
    # only is_staff users (our is_staff is "role is admin"); /admin/ itself has a row that
    # proves the gate. Static and media files are served by WhiteNoise/the web server,
    # not by views, and are public by design.
    if route.startswith("admin/") and route != "admin/":
        return True
    return route.startswith(("static/", "media/"))


def discovered_keys() -> set[str]:
    """URL names, or the route itself for an unnamed pattern. Format-suffix twins of the
    API routes (`customers.json`) share their route's name, view and permissions."""
    return {name or route for route, name in _walk(get_resolver()) if not _excluded(route)}


def test_every_url_pattern_has_a_row():
    discovered = discovered_keys()
    missing = sorted(discovered - set(MATRIX))
    stale = sorted(set(MATRIX) - discovered)
    assert not missing, f"URL patterns without a permission-matrix row: {missing}"
    assert not stale, f"Matrix rows for URLs that no longer exist: {stale}"


def _imports(w):
    return tuple(
        ImportJob.objects.create(
            kind="customers",
            mode="all_or_nothing",
            filename=f"book-{n}.csv",
            content="name\n",
            status="done",
            created_by=w.users["admin"],
        )
        for n in (1, 2)
    )


def _follow_ups(w):
    return tuple(
        InteractionFactory(customer=c, author=c.account_manager, follow_up_on=timezone.localdate())
        for c in w.customers
    )


def _snapshots(w):
    # Each manager's own cut of the retention figures: theirs to see, not the other's.
    return tuple(
        RetentionSnapshot.objects.create(
            run_date=timezone.localdate(),
            period_kind=PeriodKind.MONTH,
            period_start=timezone.localdate().replace(day=1),
            period_end=timezone.localdate(),
            cut_kind=CutKind.ACCOUNT_MANAGER,
            cut_key=str(c.account_manager_id),
        )
        for c in w.customers
    )


def _strategies(w):
    return tuple(
        RelationshipStrategy.objects.create(
            segment=SegmentFactory(),
            relationship_types=["long_term"],
            goal="retain",
            expected_gap_days=30,
        )
        for _ in (1, 2)
    )


def _reasons(w):
    return tuple(
        DefectionReason.objects.create(code=f"matrix-{n}", name=f"Matrix reason {n}")
        for n in (1, 2)
    )


def _plans(w):
    plans = tuple(CorrectivePlanFactory(owner=w.users["admin"]) for _ in (1, 2))
    for plan in plans:
        plan.causes.add(DefectionReason.objects.get(code="price"))
    return plans


def _defections(w):
    reason = DefectionReason.objects.create(code="matrix", name="Matrix reason")
    return tuple(
        Defection.objects.create(
            customer=c,
            reason=reason,
            defected_on=timezone.localdate(),
            recorded_by=c.account_manager,
        )
        for c in w.customers
    )


def _memberships(w):
    program = ProgramFactory()
    return tuple(MembershipFactory(program=program, customer=c) for c in w.customers)


def _ledger(w):
    return tuple(
        loyalty_services.points_adjust(
            membership=m, points=500, reason="Matrix balance", actor=w.users["admin"]
        )
        for m in _memberships(w)
    )


def _redemptions(w):
    entries = _ledger(w)
    reward = RewardFactory(program=entries[0].membership.program, cost=100)
    return tuple(
        loyalty_services.points_redeem(
            membership=e.membership,
            reward=reward,
            actor=w.users["admin"],
            idempotency_key=f"matrix-{e.pk}",
        )
        for e in entries
    )


def _community_categories(w):
    return tuple(
        Category.objects.get_or_create(
            slug=f"matrix-{n}", defaults={"name": f"Matrix {n}", "access": CategoryAccess.PUBLIC}
        )[0]
        for n in (1, 2)
    )


def _community_topics(w):
    # Written by the admin in public categories: everyone may read them.
    return tuple(
        community_services.topic_create(
            actor=w.users["admin"], category=c, title=f"Matrix topic {c.pk}", body="Hello"
        )
        for c in _community_categories(w)
    )


def _community_bans(w):
    return tuple(
        PostingBan.objects.create(
            user=UserFactory(username=f"banned{n}", role="customer"),
            reason="Matrix",
            banned_by=w.users["admin"],
        )
        for n in (1, 2)
    )


def _ideas(w):
    return tuple(
        Idea.objects.create(customer=c, title=f"Idea of {c.name}", body="x", body_html="<p>x</p>")
        for c in w.customers
    )


def _idea_comments(w):
    return tuple(
        IdeaComment.objects.create(
            idea=idea, customer=idea.customer, body="y", body_html="<p>y</p>"
        )
        for idea in _ideas(w)
    )


_REVIEW_SERIAL = itertools.count()  # fresh reviews for each role: one per product


def _support_requests(w):
    # Made directly: the service opens requests only for a customer's own login, and the
    # matrix's customers have none.
    pairs = []
    for c in w.customers:
        interaction = InteractionFactory(customer=c, author=c.account_manager, kind="support")
        req = SupportRequest.objects.create(
            customer=c,
            interaction=interaction,
            category="question",
            subject="Matrix",
            assigned_to=c.account_manager,
        )
        SupportMessage.objects.create(request=req, author=c.account_manager, body="Hello")
        pairs.append(req)
    return tuple(pairs)


def _reviews(w):
    return tuple(
        Review.objects.create(
            customer=c,
            product=f"Widget {next(_REVIEW_SERIAL)}",
            rating=4,
            body="z",
            body_html="<p>z</p>",
        )
        for c in w.customers
    )


# How to make "A's object" and "B's object" of each kind (or two shared ones); built only
# for the rows that need them.
BUILDERS = {
    "customer": lambda w: w.customers,
    "interaction": _follow_ups,
    "follow-up": lambda w: tuple(FollowUpFactory(customer=c) for c in w.customers),
    "purchase": lambda w: tuple(PurchaseFactory(customer=c) for c in w.customers),
    "assignment": lambda w: tuple(c.assignments.get() for c in w.customers),
    "segment": lambda w: tuple(c.segment for c in w.customers),
    "staff": lambda w: (w.users["manager_a"], w.users["manager_b"]),
    "import": _imports,
    "customer-merge": lambda w: tuple(
        CustomerMerge.objects.create(
            survivor=c, survivor_name=c.name, absorbed_id=900_000 + n, absorbed_name="Old"
        )
        for n, c in enumerate(w.customers)
    ),
    "risk-flag": lambda w: tuple(
        RiskFlag.objects.create(
            customer=c, account_manager=c.account_manager, raised_on=timezone.localdate(), score=80
        )
        for c in w.customers
    ),
    "customer-metrics": lambda w: tuple(
        CustomerMetrics.objects.create(customer=c, computed_for=timezone.localdate())
        for c in w.customers
    ),
    "retention-snapshot": _snapshots,
    "model-fit": lambda w: tuple(
        ModelFit.objects.create(run_date=timezone.localdate() - dt.timedelta(days=n))
        for n in (1, 2)
    ),
    "nightly-run": lambda w: tuple(
        NightlyRun.objects.create(run_date=timezone.localdate() - dt.timedelta(days=n))
        for n in (1, 2)
    ),
    "relationship-strategy": _strategies,
    "defection-reason": _reasons,
    "defection": _defections,
    "ladder-suggestion": lambda w: tuple(LadderSuggestionFactory(customer=c) for c in w.customers),
    "stage-change": lambda w: tuple(
        StageChange.objects.create(
            customer=c, from_stage="prospect", to_stage="customer", rule="matrix"
        )
        for c in w.customers
    ),
    "corrective-plan": _plans,
    "corrective-action": lambda w: tuple(
        CorrectiveActionFactory(plan=p, owner=w.users[m])
        for p, m in zip(_plans(w), ("manager_a", "manager_b"), strict=True)
    ),
    "loyalty-program": lambda w: (ProgramFactory(), ProgramFactory()),
    "loyalty-change": lambda w: tuple(
        ConfigChange.objects.create(
            kind="tier", object_id=n, object_name=f"Tier {n}", effective_on=timezone.localdate()
        )
        for n in (1, 2)
    ),
    "loyalty-tier": lambda w: (TierFactory(), TierFactory()),
    "loyalty-rule": lambda w: (EarningRuleFactory(), EarningRuleFactory()),
    "loyalty-reward": lambda w: (RewardFactory(), RewardFactory()),
    "loyalty-offer": lambda w: tuple(
        Offer.objects.create(name=f"Offer {n}", coupon_code=f"MATRIX{n}") for n in (1, 2)
    ),
    "loyalty-offer-grant": lambda w: tuple(
        OfferGrant.objects.create(
            offer=Offer.objects.create(name=f"Given {c.pk}", coupon_code=f"GIVEN{c.pk}"),
            customer=c,
        )
        for c in w.customers
    ),
    "loyalty-membership": _memberships,
    "loyalty-ledger": _ledger,
    "loyalty-redemption": _redemptions,
    "community-category": _community_categories,
    "community-topic": _community_topics,
    "community-post": lambda w: tuple(t.posts.get(number=1) for t in w.pair("community-topic")),
    "community-ban": _community_bans,
    "idea": _ideas,
    "idea-comment": _idea_comments,
    "review": _reviews,
    "support-request": _support_requests,
}


class World:
    def __init__(self, users: dict, customers: tuple):
        self.users = users
        self.customers = customers
        self._pairs: dict[str, tuple] = {}

    def pair(self, kind: str, *, fresh: bool = False) -> tuple:
        if fresh:
            return BUILDERS[kind](self)
        if kind not in self._pairs:
            self._pairs[kind] = BUILDERS[kind](self)
        return self._pairs[kind]


@pytest.fixture
def world(admin_user, manager_a, manager_b, customer_user, customer_a, customer_b):
    users = {
        "anonymous": None,
        "customer": customer_user,
        "manager_a": manager_a,
        "manager_b": manager_b,
        "admin": admin_user,
    }
    return World(users, (customer_a, customer_b))


def _check(response, expected) -> str | None:
    status = response.status_code
    if isinstance(expected, Redirect):
        location = response.get("Location", "")
        if status == 302 and location.startswith(expected.prefix):
            return None
        return f"expected 302 to {expected.prefix}, got {status} {location}"
    if expected == DENIED:
        # Not 403: a client without credentials is told to authenticate, and how.
        challenge = response.get("WWW-Authenticate", "")
        if status == 401 and challenge.startswith("Token"):
            return None
        return f"expected 401 with WWW-Authenticate: Token, got {status} {challenge!r}"
    return None if status == expected else f"expected {expected}, got {status}"


def _request(client: Client, case: Case, url: str):
    call = getattr(client, case.method)
    if case.data is None:
        return call(url, **case.headers)
    if case.api:
        return call(url, json.dumps(case.data), content_type="application/json", **case.headers)
    return call(url, case.data, **case.headers)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_permission_matrix(name, world):
    problems = []
    for case in MATRIX[name]:
        for role in ROLES:
            client = Client()
            user = world.users[role]
            if user is not None:
                client.force_login(user)
            targets = [("", case.kwargs, None)]
            if case.obj:
                a_obj, b_obj = world.pair(case.obj, fresh=case.fresh)
                targets = [
                    ("A's", {**case.kwargs, "pk": a_obj.pk}, 0),
                    ("B's", {**case.kwargs, "pk": b_obj.pk}, 1),
                ]
            for label, kwargs, index in targets:
                url = reverse(name, kwargs=kwargs or None)
                expected = case.expect[role] if index is None else case.expect[role][index]
                try:
                    problem = _check(_request(client, case, url), expected)
                except Exception as exc:  # a 500: report it with the rest
                    problem = f"raised {exc.__class__.__name__}: {exc}"
                if problem:
                    problems.append(
                        f"{case.method.upper()} {url} ({label} object) as {role}: {problem}"
                    )
    assert not problems, "\n".join(problems)
