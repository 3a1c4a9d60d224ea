"""The /api/v1/ endpoints for customers, segments, purchases, assignments and staff, by
subject. Thin: serializers validate and never write; viewsets read through
customers.selectors (so a row outside the caller's book is a 404) and write through
customers.services (whose domain errors the project's exception handler turns into
400/403/409)."""

from ..merging import api as merging_api
from .customers import (
    CustomerCreateSerializer,
    CustomerUpdateSerializer,
    CustomerViewSet,
    SegmentViewSet,
)
from .fields import (
    AwareDateTimeField,
    ManagerField,
    OptionalEmailField,
    PersonSerializer,
    VisibleCustomerField,
)
from .purchases import AssignmentViewSet, PurchaseViewSet
from .staff import StaffViewSet

__all__ = [
    "AssignmentViewSet",
    "AwareDateTimeField",
    "CustomerCreateSerializer",
    "CustomerUpdateSerializer",
    "CustomerViewSet",
    "ManagerField",
    "OptionalEmailField",
    "PersonSerializer",
    "PurchaseViewSet",
    "SegmentViewSet",
    "StaffViewSet",
    "VisibleCustomerField",
    "register",
]


def register(router) -> None:
    """Add this app's viewsets to the /api/v1/ router. Basenames carry an `api-` prefix so
    their URL names never clash with the staff pages' (`customer-list` is a page)."""
    router.register("customers", CustomerViewSet, basename="api-customer")
    router.register("segments", SegmentViewSet, basename="api-segment")
    router.register("purchases", PurchaseViewSet, basename="api-purchase")
    router.register("assignments", AssignmentViewSet, basename="api-assignment")
    router.register("staff", StaffViewSet, basename="api-staff")
    merging_api.register(router)
