"""The /api/v1/ router: each app contributes its viewsets through `register(router)`."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from crm.api import reject_undocumented_query_parameters
from crm.api_auth import ObtainAuthToken
from customers import api as customers_api
from loyalty import api as loyalty_api
from relationships import api as relationships_api
from relationships.community import api as community_api
from relationships.support import api as support_api


# Mixed into every viewset the router serves: once the caller is authenticated and allowed,
# a query parameter the schema does not document is a 400 naming it. (No docstring: the
# schema would describe a viewset that has none with this class's.)
class DocumentedQueryOnly:
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        reject_undocumented_query_parameters(request)


class ApiRouter(DefaultRouter):
    """One place for what every endpoint must do, so a new viewset gets it by registering."""

    def register(self, prefix, viewset, basename=None, *args, **kwargs):
        guarded = type(
            viewset.__name__,
            (DocumentedQueryOnly, viewset),
            {
                "__module__": viewset.__module__,
                "__qualname__": viewset.__qualname__,
                "__doc__": viewset.__doc__,  # the schema describes the endpoint with it
            },
        )
        super().register(prefix, guarded, basename, *args, **kwargs)


router = ApiRouter()
for module in (customers_api, relationships_api, loyalty_api, community_api, support_api):
    module.register(router)

urlpatterns = [
    path("auth/token/", ObtainAuthToken.as_view(), name="api-token"),
    *router.urls,
]
