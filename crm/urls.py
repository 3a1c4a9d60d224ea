from allauth.account import views as account_views
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm.views import AdminLoginRedirect, FaviconRedirect

urlpatterns = [
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs).
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    # Sign-in and the rest of the account pages: django-allauth (docs/portal.md "Access");
    # `login` and `logout` stay the names the templates and settings use.
    path("accounts/login/", account_views.login, name="login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    path("accounts/", include("allauth.urls")),
    path("admin/login/", AdminLoginRedirect.as_view(), name="admin-login-redirect"),
    path("admin/", admin.site.urls),
    path("", include("crm.page_urls")),
    # The customer's portal under /my/: each app's `portal` module, the home and export in crm.
    path("", include("customers.portal.urls")),
    path("", include("loyalty.portal")),
    path("", include("crm.portal")),
    path("", include("relationships.support.portal")),
    path("", include("customers.urls")),
    path("", include("crm.analytics_urls")),
    path("", include("relationships.urls")),
    path("community/", include("relationships.community.urls")),
    path("", include("relationships.support.views")),
    path("", include("loyalty.urls")),
    path("api/v1/", include("crm.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI draws its icons as data: images (crm/csp.py); its script is a file.
    path(
        "api/docs/",
        csp_update({"img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="swagger-ui",
    ),
]

handler404 = "crm.api_errors.not_found"
handler500 = "crm.api_errors.server_error"
