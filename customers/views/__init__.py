"""Staff pages of the customers app: the customer list and forms, the CSV export, and the
admins' import pages. Helpers other apps' pages use are in customers.web."""

from .customers import (
    customer_create_view,
    customer_edit_view,
    customer_list,
    customer_portal_invite_view,
    customer_reassign_view,
    purchase_create_view,
)
from .export import customer_export
from .imports import (
    import_confirm,
    import_create,
    import_detail,
    import_list,
    import_progress,
    import_send_again,
    import_template,
)
from .merge import customer_merge_view
from .staff import (
    StaffInviteAcceptView,
    book_reassign_view,
    staff_deactivate_view,
    staff_invite_resend_view,
    staff_invite_view,
    staff_list,
)

__all__ = [
    "StaffInviteAcceptView",
    "book_reassign_view",
    "customer_create_view",
    "customer_edit_view",
    "customer_export",
    "customer_list",
    "customer_merge_view",
    "customer_portal_invite_view",
    "customer_reassign_view",
    "import_confirm",
    "import_create",
    "import_detail",
    "import_list",
    "import_progress",
    "import_send_again",
    "import_template",
    "purchase_create_view",
    "staff_deactivate_view",
    "staff_invite_resend_view",
    "staff_invite_view",
    "staff_list",
]
