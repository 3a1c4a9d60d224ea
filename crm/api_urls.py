"""The /api/v1/ router: each app contributes its viewsets through `register(router)`."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from crm.api_auth import ObtainAuthToken
from customers import api as customers_api
from loyalty import api as loyalty_api
from relationships import api as relationships_api
from relationships.community import api as community_api
from relationships.support import api as support_api

router = DefaultRouter()
for module in (customers_api, relationships_api, loyalty_api, community_api, support_api):
    module.register(router)

urlpatterns = [
    path("auth/token/", ObtainAuthToken.as_view(), name="api-token"),
    *router.urls,
]
