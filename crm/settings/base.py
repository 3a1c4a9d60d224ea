"""Settings shared by every environment; values come from the environment."""

import datetime as dt
from pathlib import Path

from .env import env_bool, env_database, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

SECRET_KEY = env_str("SECRET_KEY", "insecure-dev-key-never-used-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "auditlog",
    "csp",
    "customers",
    "loyalty",
    "relationships",
    "relationships.community",
    "relationships.support",
    "crm",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every answer (docs/security.md).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL in any field is a 400 naming it, before a query turns it into a 500.
    "crm.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who changed what (django-auditlog): the signed-in user, or the API token's user.
    "crm.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff without two-factor sign-in are sent to set it up when CRM_STAFF_REQUIRE_2FA is on.
    "crm.middleware.StaffTwoFactorMiddleware",
    # Last, as django-axes asks: answers a locked-out login with its lockout page.
    "axes.middleware.AxesMiddleware",
]

# Repeated failed logins (login page, Django admin, API token) lock that username from
# that address for a while: django-axes, first in line so it sees every attempt.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # allauth's: signs in by username or e-mail address (its login form calls authenticate()
    # with the request, so django-axes above sees every attempt).
    "allauth.account.auth_backends.AuthenticationBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
# The pair, so a guesser cannot lock a real user out from everywhere by their name alone.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Says "15 minutes" (not axes' ISO "PT15M") and sends Retry-After, like the API token.
AXES_LOCKOUT_CALLABLE = "crm.lockout.lockout_response"
# Failures are counted in the database: shared by every worker and machine, kept across
# restarts, and listed in the admin (Access attempts) where an admin can reset them.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "crm.client_address.client_address"
# allauth's form sends `login` (a username or an e-mail address); one bucket per person typed.
AXES_USERNAME_CALLABLE = "crm.lockout.login_username"

# How many reverse proxies (nginx, a load balancer) stand in front of the app, each adding
# the address it saw to X-Forwarded-For. 0: the client is REMOTE_ADDR and the header is
# ignored, since anyone can send it. The token throttle and django-axes both read it
# (crm/client_address.py); README "Behind a proxy".
CRM_TRUSTED_PROXIES = env_int("CRM_TRUSTED_PROXIES", 0)

# The shared cache: throttle counts must be seen by every worker process, so production
# requires Redis (CACHE_URL); the demo and tests keep a per-process memory cache.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# What a page may load and run: only this site's own files. No inline script or style
# (templates keep them in static/, tests/crm/test_templates_csp.py checks), no eval, no
# plug-ins, no framing, forms post only here. A view that needs more widens it for itself
# with csp.decorators.csp_update and says why (crm/csp.py, docs/security.md).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no page uses are switched off for this site and anything it embeds.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "usb",
        "xr-spatial-tracking",
    )
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.menu_counts",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'crm.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # SQLite keeps no connections worth health-checking; a busy timeout avoids
    # "database is locked" when the demo's eager task and a request overlap.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # WAL lets the progress page read while an import writes.
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
# A web process freezes its long-lived objects after the first request (crm/apps.py) so
# full garbage collections stop pausing requests; off in tests, which end the process soon.
FREEZE_GC_AFTER_FIRST_REQUEST = env_bool("FREEZE_GC_AFTER_FIRST_REQUEST", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "customers.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A sign-in lasts until the browser closes and at most CRM_SESSION_HOURS (12: one working
# day) after it; then the person signs in again (docs/portal.md "Access").
SESSION_COOKIE_AGE = env_int("CRM_SESSION_HOURS", 12) * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Sign-in, sign-up, e-mail verification, password reset and change, two-factor sign-in:
# django-allauth (docs/portal.md "Access"). Sign-up is for existing customers only
# (customers/accounts.py decides, without telling whether an address is a customer's).
ACCOUNT_ADAPTER = "customers.accounts.AccountAdapter"
ACCOUNT_FORMS = {"signup": "customers.accounts.CustomerSignupForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "KeepCRM: "
# django-axes counts failed sign-ins (with its lockout page and the admin's reset);
# allauth's own cache-based count would answer first with a different message.
ACCOUNT_RATE_LIMITS: dict[str, str | None] | bool = {"login_failed": None}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "KeepCRM"
# On: admins and account managers without two-factor sign-in are sent to set it up before
# any other page (crm.middleware.StaffTwoFactorMiddleware).
CRM_STAFF_REQUIRE_2FA = env_bool("CRM_STAFF_REQUIRE_2FA", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Support request attachments: outside MEDIA_ROOT, served only through a checked view.
SUPPORT_ATTACHMENTS_ROOT = env_str("SUPPORT_ATTACHMENTS_ROOT", str(VAR_DIR / "support"))
SUPPORT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
# Support requests one customer may open in 24 hours (0: no limit); past it, they are asked
# to add to an open one. Keeps one customer, or a script with their token, from flooding
# their account manager's queue.
CRM_SUPPORT_OPEN_PER_DAY = env_int("CRM_SUPPORT_OPEN_PER_DAY", 10)

REST_FRAMEWORK = {
    # Token first: a call without credentials is a 401 with `WWW-Authenticate: Token`
    # (DRF takes that header from the first class; session cookies still work).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["customers.permissions.IsStaffMember"],
    # The browsable API with the style attributes its templates need (crm/csp.py).
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "crm.csp.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "crm.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api_errors.exception_handler",
    # The same count as crm.client_address, for any DRF throttle that uses get_ident().
    "NUM_PROXIES": CRM_TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KeepCRM API",
    "DESCRIPTION": "Customers, purchases, interactions and account-manager assignments.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name (kind, status) or serve two fields (bands):
    # named here so the schema is stable and generates without warnings.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "customers.models.CustomerKind",
        "InteractionKindEnum": "relationships.models.InteractionKind",
        "CustomerStatusEnum": "customers.models.CustomerStatus",
        "RunStatusEnum": "relationships.models.RunStatus",
        "ValueBandEnum": "relationships.models.ValueBand",
        "StageEnum": "customers.models.Stage",
        "TopicKindEnum": "relationships.community.models.TopicKind",
        "PostStatusEnum": "relationships.community.models.PostStatus",
        "IdeaStatusEnum": "relationships.community.models.IdeaStatus",
        "IdeaStaffStatusEnum": "relationships.community.models.STAFF_STATUS_CHOICES",
        "ReviewStatusEnum": "relationships.community.models.ReviewStatus",
        "OfferKindEnum": "loyalty.models.OfferKind",
        "SupportStatusEnum": "relationships.support.models.Status",
        "SupportCategoryEnum": "relationships.support.models.Category",
        "ConfigKindEnum": "loyalty.models.ConfigKind",
        "ChangeStatusEnum": "loyalty.models.ChangeStatus",
    },
}

# Celery: with no broker configured, tasks run in the calling process so the
# demo needs no service; the data they work on is always committed first.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 30
CELERY_TASK_TIME_LIMIT = 60 * 35
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

CRM_IMPORT_MAX_BYTES = 50 * 1024 * 1024
CRM_TOKEN_RATE = env_str("CRM_TOKEN_RATE", "10/minute")

# The nightly run (relationships/nightly/).
CRM_RISK_THRESHOLD = 60  # a risk score at or above this raises an at-risk flag
CRM_HOLDOUT_DAYS = 90  # the last days of history held out to measure the purchase model's error
CRM_FULL_RUN_EVERY_DAYS = (
    7  # a full night at least this often; "auto" runs incremental ones between
)
CRM_INCREMENTAL_MAX_SHARE = (
    0.10  # a larger share of the book changed since the last run: a full night
)
CRM_MODEL_PENALIZER = 0.0  # L2 penalty on the purchase models' fits (docs/analytics.md)
CRM_NIGHTLY_ID_MARGIN = (
    10_000  # ids below a watermark read again (drawn before it, committed after)
)

# The community forums (relationships/community/, docs/community.md).
CRM_COMMUNITY_POSTS_PER_MINUTE = 5  # a customer posting faster is asked to wait (0: no limit)
CRM_COMMUNITY_HOLD_FIRST_POSTS = 1  # a member's first N posts wait for a moderator (0: none)
CRM_SITE_URL = env_str(
    "CRM_SITE_URL", ""
)  # prefixes links in e-mails, e.g. https://crm.example.com
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "community@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# The audit log (django-auditlog; docs/admin.md "Audit log"): changes as JSON, so values
# keep their types; foreign keys stored by id and named when the log is read (naming
# them on write would cost a query per key on every save).
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_ON_RAW_SAVE = True  # fixtures (loaddata) are not changes made by anyone
