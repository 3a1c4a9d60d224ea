"""API plumbing shared by every app: permission, pagination and the error handler."""

from rest_framework import pagination, permissions


class IsStaffMember(permissions.BasePermission):
    """Admins and account managers; which rows they reach is the selectors' business."""

    message = "Only staff (admins and account managers) may use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff_member)


class IsAdmin(permissions.BasePermission):
    message = "Only an admin may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)


class IsAdminOrReadOnlyStaff(permissions.BasePermission):
    message = "Only an admin may change this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff_member):
            return False
        return request.method in permissions.SAFE_METHODS or user.is_admin


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"
