from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crm.views import FaviconRedirect

urlpatterns = [
    # Browsers ask for /favicon.ico on pages that name no icon (the admin, the API docs).
    path("favicon.ico", FaviconRedirect.as_view(), name="favicon"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("crm.page_urls")),
    # The customer's portal under /my/: each app's `portal` module, the home and export in crm.
    path("", include("customers.portal.urls")),
    path("", include("loyalty.portal")),
    path("", include("crm.portal")),
    path("", include("customers.urls")),
    path("", include("crm.analytics_urls")),
    path("", include("relationships.urls")),
    path("community/", include("relationships.community.urls")),
    path("", include("loyalty.urls")),
    path("api/v1/", include("crm.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="swagger-ui"),
]

handler404 = "crm.api_errors.not_found"
handler500 = "crm.api_errors.server_error"
